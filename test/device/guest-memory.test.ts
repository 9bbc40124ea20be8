import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayGuestMemory } from '../../src/device/guest-memory.js';

test('ArrayGuestMemory reads and writes at guest-physical addresses relative to its base', () => {
  const m = new ArrayGuestMemory(16, 0x1000n);
  m.write(0x1004n, Uint8Array.from([1, 2, 3]));
  assert.deepEqual([...m.read(0x1003n, 5)], [0, 1, 2, 3, 0]);
  assert.deepEqual([...m.bytes.subarray(4, 7)], [1, 2, 3]);
});

test('ArrayGuestMemory reads return a copy that later writes do not change', () => {
  const m = new ArrayGuestMemory(8);
  const before = m.read(0n, 8);
  m.write(0n, new Uint8Array(8).fill(9));
  assert.deepEqual([...before], [0, 0, 0, 0, 0, 0, 0, 0]);
});

test('ArrayGuestMemory serves the mapped part of a straddling range: zeros outside, writes outside dropped', () => {
  const m = new ArrayGuestMemory(Uint8Array.from([1, 2, 3, 4]), 0x10n);
  assert.deepEqual([...m.read(0x0en, 4)], [0, 0, 1, 2]);
  assert.deepEqual([...m.read(0x12n, 4)], [3, 4, 0, 0]);
  m.write(0x0fn, Uint8Array.from([9, 8]));
  m.write(0x13n, Uint8Array.from([7, 6, 5]));
  assert.deepEqual([...m.bytes], [8, 2, 3, 7]);
});

test('ArrayGuestMemory ignores ranges entirely outside, even near 2^64', () => {
  const m = new ArrayGuestMemory(4);
  assert.deepEqual([...m.read(0xfffffffffffffff0n, 32)], new Array(32).fill(0));
  m.write(0x100n, Uint8Array.from([1]));
  assert.deepEqual([...m.bytes], [0, 0, 0, 0]);
});
