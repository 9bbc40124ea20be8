import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, u64NumAt } from '../../src/wire/reader.js';
import { ByteWriter } from '../../src/wire/writer.js';
import { WireError } from '../../src/wire/errors.js';

const truncated = (e: unknown): boolean => e instanceof WireError && e.reason === 'truncated' && e.name === 'WireError';

describe('ByteReader bounds', () => {
  test('every width throws WireError truncated when it would read past the end', () => {
    const r = (n: number): ByteReader => new ByteReader(new Uint8Array(n));
    assert.throws(() => r(0).u8(), truncated);
    assert.throws(() => r(1).u16(), truncated);
    assert.throws(() => r(1).i16(), truncated);
    assert.throws(() => r(3).u32(), truncated);
    assert.throws(() => r(7).u64(), truncated);
    assert.throws(() => r(7).u64Num(), truncated);
    assert.throws(() => r(4).bytesView(5), truncated);
    assert.throws(() => r(4).bytesCopy(5), truncated);
    assert.throws(() => r(4).skip(5), truncated);
  });

  test('a read that fits exactly succeeds and leaves nothing', () => {
    const r = new ByteReader(new Uint8Array(15));
    r.u8(); r.u16(); r.u32(); r.u64();
    assert.equal(r.remaining, 0);
    assert.throws(() => r.u8(), truncated);
  });

  test('a failed read does not move the cursor', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3));
    r.u8();
    assert.throws(() => r.u32(), truncated);
    assert.equal(r.offset, 1);
    assert.equal(r.u16(), 0x0302);
  });

  test('a negative length is refused, not read backwards', () => {
    const r = new ByteReader(new Uint8Array(8), 4);
    assert.throws(() => r.bytesView(-1), truncated);
    assert.equal(r.offset, 4);
  });

  test('the error message names the field that was being read', () => {
    assert.throws(() => new ByteReader(new Uint8Array(2)).u32('Attributes'), /Attributes/);
  });

  test('a reader over a subarray reads the subarray, not the underlying buffer', () => {
    const whole = Uint8Array.of(0xaa, 0xbb, 0x01, 0x02, 0xcc);
    const r = new ByteReader(whole.subarray(2, 4));
    assert.equal(r.u16(), 0x0201);
    assert.throws(() => r.u8(), truncated);
  });

  test('integers are little-endian; i16 is signed', () => {
    const r = new ByteReader(Uint8Array.of(0x34, 0x12, 0xff, 0xff, 0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0, 0, 0, 0, 0x80));
    assert.equal(r.u16(), 0x1234);
    assert.equal(r.i16(), -1);
    assert.equal(r.u32(), 0x12345678);
    assert.equal(r.u64(), 0x8000000000000001n);
  });

  test('u64Num is exact up to 2^53 and never wraps to a small number above it', () => {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, 2n ** 53n - 1n, true);
    assert.equal(new ByteReader(b).u64Num(), Number.MAX_SAFE_INTEGER);
    v.setBigUint64(0, 0xffffffffffffffffn, true);
    assert.ok(new ByteReader(b).u64Num() > 2 ** 63);
    assert.ok(u64NumAt(v, 0) > 2 ** 63);
  });

  test('bytesView shares memory with the buffer, bytesCopy does not', () => {
    const b = Uint8Array.of(1, 2, 3);
    const view = new ByteReader(b).bytesView(3);
    const copy = new ByteReader(b).bytesCopy(3);
    b[0] = 9;
    assert.equal(view[0], 9);
    assert.equal(copy[0], 1);
  });
});

describe('ByteWriter', () => {
  test('writes little-endian fields that ByteReader reads back', () => {
    const w = new ByteWriter(64);
    w.u8(0xab).u16(0x1234).i16(-2).u32(0xdeadbeef).u64(0x0102030405060708n).bytes(Uint8Array.of(7, 7)).fill(3, 0xee);
    const r = new ByteReader(w.finish());
    assert.equal(r.u8(), 0xab);
    assert.equal(r.u16(), 0x1234);
    assert.equal(r.i16(), -2);
    assert.equal(r.u32(), 0xdeadbeef);
    assert.equal(r.u64(), 0x0102030405060708n);
    assert.deepEqual(r.bytesCopy(2), Uint8Array.of(7, 7));
    assert.deepEqual(r.bytesCopy(3), Uint8Array.of(0xee, 0xee, 0xee));
    assert.equal(r.remaining, 0);
  });

  test('a u32 given a negative number is written as its two\'s complement', () => {
    assert.deepEqual(new ByteWriter(8).u32(-1).finish(), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  });

  // src/wire/writer.ts evaluates `this.view` / `this.buf` before `this.room(n)`
  // reallocates them, so any write that makes the writer grow goes to the old,
  // too-small buffer and throws a RangeError.
  test('grows past its initial capacity without losing bytes', () => {
    const w = new ByteWriter(2);
    w.u32(0x11223344).bytes(Uint8Array.of(5, 6, 7, 8, 9)).u64(1n);
    assert.deepEqual(w.finish(), Uint8Array.of(0x44, 0x33, 0x22, 0x11, 5, 6, 7, 8, 9, 1, 0, 0, 0, 0, 0, 0, 0));
  });

  // ByteWriter(0): room() doubles a zero size forever. Not run: it would hang the suite.
  test('a writer created with capacity 0 can still be written to', () => {
    assert.deepEqual(new ByteWriter(0).u8(1).finish(), Uint8Array.of(1));
  });

  test('finish returns a copy, so later writes do not change it', () => {
    const w = new ByteWriter(16).u8(1);
    const first = w.finish();
    w.u8(2);
    assert.deepEqual(first, Uint8Array.of(1));
    assert.deepEqual(w.finish(), Uint8Array.of(1, 2));
  });
});
