import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { checkName, encodeName, nameKey, nameWithoutNul, displayName } from '../../src/wire/ucs2.js';

const units = (...u: number[]): Uint8Array => {
  const b = new Uint8Array(u.length * 2);
  u.forEach((x, i) => { b[2 * i] = x & 0xff; b[2 * i + 1] = x >>> 8; });
  return b;
};

describe('UCS-2 names', () => {
  test('encodeName writes little-endian code units and a terminating NUL', () => {
    assert.deepEqual(encodeName('PK'), Uint8Array.of(0x50, 0, 0x4b, 0, 0, 0));
    assert.deepEqual(encodeName(''), Uint8Array.of(0, 0));
    assert.deepEqual(encodeName('é€'), Uint8Array.of(0xe9, 0x00, 0xac, 0x20, 0, 0));
  });

  test('nameKey stops at the first NUL, ignores bytes after it and an odd trailing byte', () => {
    assert.equal(nameKey(units(0x42, 0x6f, 0x6f, 0x74, 0, 0x6a, 0x75)), 'Boot');
    assert.equal(nameKey(Uint8Array.of(0x4f, 0, 0x64, 0, 0x64, 0, 0, 0, 0x99)), 'Odd');
    assert.equal(nameKey(units(0x41, 0x42)), 'AB');
    assert.equal(nameKey(new Uint8Array(0)), '');
  });

  test('nameKey reads a window of a larger buffer', () => {
    const b = new Uint8Array(10);
    b.set(encodeName('Hi'), 2);
    b[8] = 0x41;
    assert.equal(nameKey(b, 2, 6), 'Hi');
  });

  test('nameWithoutNul drops the NUL and everything after it', () => {
    assert.deepEqual(nameWithoutNul(encodeName('db')), Uint8Array.of(0x64, 0, 0x62, 0));
    assert.deepEqual(nameWithoutNul(units(0x41)), units(0x41));
    assert.equal(displayName(encodeName('Boot0001')), 'Boot0001');
  });
});

describe('checkName (spec §3.1 with the NUL rule fixed the edk2 way)', () => {
  const whole = (b: Uint8Array, allowEmpty = false): string | undefined => checkName(b, 0, b.length, allowEmpty);

  test('a NUL-terminated name without surrogates is valid', () => {
    assert.equal(whole(encodeName('Boot0000')), undefined);
    assert.equal(whole(encodeName('été')), undefined);
  });

  test('a NUL must occur within NameSize bytes, even when a zero unit follows right after', () => {
    const b = new Uint8Array(12);
    b.set(units(0x4e, 0x6f, 0x4e, 0x75, 0x6c), 0); // "NoNul", then zeros beyond NameSize 10
    assert.equal(checkName(b, 0, 10), 'no-nul');
    assert.equal(checkName(b, 0, 12), undefined);
  });

  test('a NUL whose second byte lies outside an odd NameSize does not count', () => {
    assert.equal(checkName(Uint8Array.of(0x41, 0, 0, 0), 0, 3), 'no-nul');
    assert.equal(checkName(Uint8Array.of(0x41, 0, 0, 0, 0), 0, 5), undefined);
  });

  test('NameSize 0 and 1 hold no NUL', () => {
    assert.equal(checkName(new Uint8Array(4), 0, 0), 'no-nul');
    assert.equal(checkName(new Uint8Array(4), 0, 1), 'no-nul');
  });

  for (const s of [0xd800, 0xdbff, 0xdc00, 0xdfff]) {
    test(`the surrogate U+${s.toString(16).toUpperCase()} before the NUL makes the name invalid`, () => {
      assert.equal(whole(units(0x41, s, 0)), 'surrogate');
    });
  }

  test('U+D7FF and U+E000, just outside the surrogate range, are fine', () => {
    assert.equal(whole(units(0xd7ff, 0xe000, 0)), undefined);
  });

  test('a surrogate after the NUL is not looked at', () => {
    assert.equal(whole(units(0x41, 0, 0xd800)), undefined);
  });

  test('an empty name is refused unless the caller allows it (GetNext start, lookups)', () => {
    assert.equal(whole(units(0)), 'empty');
    assert.equal(whole(units(0), true), undefined);
    assert.equal(whole(units(0, 0x41, 0)), 'empty');
  });

  test('checkName reads the window it is given', () => {
    const b = new Uint8Array(8);
    b.set(units(0xd800), 0);
    b.set(encodeName('A'), 2);
    assert.equal(checkName(b, 2, 4), undefined);
    assert.equal(checkName(b, 0, 6), 'surrogate');
  });
});
