import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Attr, parseAttributes, formatAttributes } from '../../src/wire/attributes.js';

describe('attributes', () => {
  test('the bit values are UEFI 2.10 §8.2 (spec §3.2)', () => {
    assert.deepEqual({ ...Attr }, { NV: 0x01, BS: 0x02, RT: 0x04, HR: 0x08, AW: 0x10, AT: 0x20, AP: 0x40 });
  });

  const cases: Array<[string, number]> = [
    ['7', 7], ['0x67', 0x67], ['0x2F', 0x2f], ['39', 39], ['0', 0], ['0xffffffff', 0xffffffff],
    ['NV|BS|RT', 7], ['nv|bs', 3], [' NV | BS | RT | AT ', 0x27], ['AP', 0x40],
    ['NON_VOLATILE|BOOTSERVICE_ACCESS|RUNTIME_ACCESS', 7],
    ['TIME_BASED_AUTHENTICATED_WRITE_ACCESS|APPEND_WRITE', 0x60],
    ['HARDWARE_ERROR_RECORD|AUTHENTICATED_WRITE_ACCESS', 0x18],
  ];
  for (const [text, value] of cases) {
    test(`parseAttributes(${JSON.stringify(text)}) is 0x${value.toString(16)}`, () => {
      assert.equal(parseAttributes(text), value);
    });
  }

  for (const text of ['', 'XX', 'NV|', 'NV||BS', '0x100000000', '4294967296', '-1', '0x', '7.0', 'NV,BS']) {
    test(`parseAttributes(${JSON.stringify(text)}) is not an attribute value`, () => {
      assert.equal(parseAttributes(text), undefined);
    });
  }

  test('formatAttributes names the bits in NV, BS, RT, HR, AW, AT, AP order', () => {
    assert.equal(formatAttributes(0x27), 'NV|BS|RT|AT');
    assert.equal(formatAttributes(0x7f), 'NV|BS|RT|HR|AW|AT|AP');
    assert.equal(formatAttributes(0), '0');
  });

  test('formatAttributes shows unknown bits as hex', () => {
    assert.equal(formatAttributes(0x87), 'NV|BS|RT|0x80');
    assert.equal(formatAttributes(0x1007), 'NV|BS|RT|0x1000');
  });

  // attributes.ts: `v & ~0x7f` is a signed 32-bit result, so bit 31 prints as a negative number.
  test('formatAttributes shows bit 31 as 0x80000000', () => {
    assert.equal(formatAttributes(0x80000000), '0x80000000');
    assert.equal(formatAttributes(0x80000007), 'NV|BS|RT|0x80000000');
  });

  test('every value of the seven defined bits survives format then parse', () => {
    for (let v = 0; v <= 0x7f; v++) assert.equal(parseAttributes(formatAttributes(v)), v, `0x${v.toString(16)}`);
  });
});
