import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex, bytesEqual, concatBytes } from '../../src/wire/hex.js';
import { WireError } from '../../src/wire/errors.js';

const badHex = (e: unknown): boolean => e instanceof WireError && e.reason === 'bad-hex';

describe('strict hex', () => {
  test('toHex writes lower case, two digits per byte', () => {
    assert.equal(toHex(Uint8Array.of(0x00, 0x0f, 0xab, 0xff)), '000fabff');
    assert.equal(toHex(new Uint8Array(0)), '');
  });

  test('fromHex accepts either case', () => {
    assert.deepEqual(fromHex('DEADbeef'), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    assert.deepEqual(fromHex(''), new Uint8Array(0));
  });

  test('an odd number of digits is an error, never a guess', () => {
    assert.throws(() => fromHex('abc'), badHex);
    assert.throws(() => fromHex('0'), badHex);
  });

  for (const text of ['0g', 'g0', 'zz', '0 ', ' 0', '0x', '+1', '-1', 'é0', '١٢']) {
    test(`a non-hex digit in ${JSON.stringify(text)} is an error`, () => {
      assert.throws(() => fromHex(text), badHex);
    });
  }

  test('the error says where the bad digit is', () => {
    assert.throws(() => fromHex('00a0x0', 'data'), /data: .*position 4/);
  });

  test('every byte value survives toHex then fromHex', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(fromHex(toHex(all)), all);
  });

  test('bytesEqual compares length and content; concatBytes joins in order', () => {
    assert.equal(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
    assert.equal(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
    assert.equal(bytesEqual(Uint8Array.of(1), Uint8Array.of(1, 0)), false);
    assert.deepEqual(concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)]), Uint8Array.of(1, 2, 3));
  });
});
