import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { zlibInflate, zlibDeflate } from '../../src/persist/aws/zlib.js';

test('a decompression bomb (65 MiB of zeros in ~64 KiB) is refused, not inflated', () => {
  const bomb = new Uint8Array(zlib.deflateSync(Buffer.alloc(65 * 1024 * 1024), { level: 9 }));
  assert.ok(bomb.length < 100_000);
  assert.throws(() => zlibInflate(bomb, 0), /inflates to more than/);
});

test('zlibDeflate output is a zlib stream node\'s zlib reads back, and zlibInflate reads node\'s', async () => {
  const data = new Uint8Array(100_000).map((_, i) => (i * 7919) % 251);
  assert.deepEqual(new Uint8Array(zlib.inflateSync(await zlibDeflate(data))), data);
  assert.deepEqual(zlibInflate(new Uint8Array(zlib.deflateSync(data)), 0), data);
});

test('a stream whose deflate data is corrupt is refused with an offset', () => {
  const z = new Uint8Array(zlib.deflateSync(Buffer.from('hello hello hello hello')));
  z[3] = 0xff; // an invalid block inside the deflate data
  assert.throws(() => zlibInflate(z, 0), /^StoreFormatError|offset 0x/);
});
