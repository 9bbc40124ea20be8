import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compareTime, decodeTime, encodeTime, formatTime, hasZeroPadFields, isZeroTime, type EfiTime } from '../../src/wire/time.js';
import { fromHex } from '../../src/wire/hex.js';
import { WireError } from '../../src/wire/errors.js';

const base: EfiTime = { year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0, pad1: 0, nanosecond: 0, timeZone: 0, daylight: 0, pad2: 0 };
const t = (over: Partial<EfiTime>): Uint8Array => encodeTime({ ...base, ...over });
const sign = (n: number): number => Math.sign(n);

describe('EFI_TIME', () => {
  test('2025-01-01 00:00:00 is e9070101000000000000000000000000 (spec §6.2 example)', () => {
    assert.deepEqual(t({}), fromHex('e9070101000000000000000000000000'));
    assert.deepEqual(decodeTime(fromHex('e9070101000000000000000000000000')), base);
  });

  test('every field sits at its offset: Year@0 Month@2 Day@3 Hour@4 Minute@5 Second@6 Pad1@7 Nanosecond@8 TimeZone@12 Daylight@14 Pad2@15', () => {
    const b = encodeTime({ year: 0x0102, month: 3, day: 4, hour: 5, minute: 6, second: 7, pad1: 8, nanosecond: 0x0c0b0a09, timeZone: -2, daylight: 0x0f, pad2: 0x10 });
    assert.deepEqual(b, Uint8Array.of(0x02, 0x01, 3, 4, 5, 6, 7, 8, 0x09, 0x0a, 0x0b, 0x0c, 0xfe, 0xff, 0x0f, 0x10));
    assert.equal(decodeTime(b).timeZone, -2);
  });

  test('decoding fewer than 16 bytes is WireError truncated', () => {
    assert.throws(() => decodeTime(new Uint8Array(15)), (e: unknown) => e instanceof WireError && e.reason === 'truncated');
  });

  test('equal times compare equal', () => {
    assert.equal(compareTime(t({ nanosecond: 5 }), t({ nanosecond: 5 })), 0);
  });

  const order: Array<[string, Partial<EfiTime>, Partial<EfiTime>]> = [
    ['year', { year: 2024, month: 12, day: 31, hour: 23, minute: 59, second: 59, nanosecond: 999999999 }, { year: 2025 }],
    ['month', { month: 1, day: 31 }, { month: 2, day: 1 }],
    ['day', { day: 1, hour: 23 }, { day: 2, hour: 0 }],
    ['hour', { hour: 1, minute: 59 }, { hour: 2, minute: 0 }],
    ['minute', { minute: 1, second: 59 }, { minute: 2, second: 0 }],
    ['second', { second: 1, nanosecond: 999999999 }, { second: 2, nanosecond: 0 }],
    ['nanosecond', { nanosecond: 1 }, { nanosecond: 2 }],
  ];
  for (const [field, older, newer] of order) {
    test(`${field} decides when every earlier field is equal, whatever the later fields say`, () => {
      assert.equal(sign(compareTime(t(older), t(newer))), -1);
      assert.equal(sign(compareTime(t(newer), t(older))), 1);
    });
  }

  test('nanoseconds are compared (QEMU), so the same second with a later nanosecond is newer', () => {
    assert.equal(sign(compareTime(t({ second: 5, nanosecond: 0 }), t({ second: 5, nanosecond: 1 }))), -1);
  });

  test('nanoseconds above 2^31 still order correctly', () => {
    assert.equal(sign(compareTime(t({ nanosecond: 0x7fffffff }), t({ nanosecond: 0xffffffff }))), -1);
  });

  test('TimeZone, Daylight and the pad bytes do not take part in the comparison', () => {
    assert.equal(compareTime(t({ timeZone: 60, daylight: 1, pad1: 9, pad2: 9 }), t({ timeZone: -60 })), 0);
  });

  test('hasZeroPadFields is false when any of Pad1, Nanosecond, TimeZone, Daylight, Pad2 is set', () => {
    assert.equal(hasZeroPadFields(t({})), true);
    for (const f of ['pad1', 'nanosecond', 'timeZone', 'daylight', 'pad2'] as const) {
      assert.equal(hasZeroPadFields(t({ [f]: 1 })), false, f);
    }
  });

  test('isZeroTime and formatTime', () => {
    assert.equal(isZeroTime(new Uint8Array(16)), true);
    assert.equal(isZeroTime(t({})), false);
    assert.equal(formatTime(t({ month: 3, day: 4, hour: 5, minute: 6, second: 7 })), '2025-03-04T05:06:07');
  });
});
