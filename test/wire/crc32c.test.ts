import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/wire/crc32c.js';

test('CRC-32C of "123456789" is the Castagnoli check value 0xE3069283 (spec §1.6, §8 item 11)', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

test('CRC-32C of no bytes is 0, so a PIO offset of 0 reads CRC 0', () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('CRC-32C matches published vectors (RFC 3720 B.4: 32 zero bytes, 32 0xFF bytes, 0..31)', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
});

test('CRC-32C is computed over the view only, not the whole underlying buffer', () => {
  const big = new TextEncoder().encode('xx123456789yy');
  assert.equal(crc32c(big.subarray(2, 11)), 0xe3069283);
});

test('CRC-32C results are unsigned 32-bit numbers', () => {
  for (let n = 0; n < 64; n++) {
    const c = crc32c(Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff));
    assert.ok(Number.isInteger(c) && c >= 0 && c <= 0xffffffff, `length ${n}: ${c}`);
  }
});
