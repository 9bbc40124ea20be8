import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { guidAt, guidBytes, parseGuid, parseGuidOrAlias, isGuidText, writeGuid } from '../../src/wire/guid.js';
import { WireError } from '../../src/wire/errors.js';

// Pairs copied from spec §2.2 (text form ⇄ EFI binary layout).
const TABLE: Array<[string, string]> = [
  ['ed32d533-99e6-4209-9cc0-2d72cdd998a7', '33 d5 32 ed e6 99 09 42 9c c0 2d 72 cd d9 98 a7'],
  ['da1b0d11-d1a7-46c4-9dc9-f3714875c6eb', '11 0d 1b da a7 d1 c4 46 9d c9 f3 71 48 75 c6 eb'],
  ['02ce967a-dd7e-4ffc-9ee7-810cf0470880', '7a 96 ce 02 7e dd fc 4f 9e e7 81 0c f0 47 08 80'],
  ['8be4df61-93ca-11d2-aa0d-00e098032b8c', '61 df e4 8b ca 93 d2 11 aa 0d 00 e0 98 03 2b 8c'],
  ['d719b2cb-3d3a-4596-a3bc-dad00e67656f', 'cb b2 19 d7 3a 3d 96 45 a3 bc da d0 0e 67 65 6f'],
  ['c076ec0c-7028-4399-a072-71ee5c448b9f', '0c ec 76 c0 28 70 99 43 a0 72 71 ee 5c 44 8b 9f'],
  ['a5c059a1-94e4-4aa7-87b5-ab155c2bf072', 'a1 59 c0 a5 e4 94 a7 4a 87 b5 ab 15 5c 2b f0 72'],
];
const bin = (s: string): Uint8Array => Uint8Array.from(s.split(' ').map((h) => parseInt(h, 16)));

describe('GUID text ⇄ binary (EFI mixed endian)', () => {
  for (const [text, bytes] of TABLE) {
    test(`${text} ⇄ ${bytes}`, () => {
      assert.deepEqual(guidBytes(text), bin(bytes));
      assert.equal(guidAt(bin(bytes), 0), text);
    });
  }

  test('Data1, Data2 and Data3 are little-endian, Data4 is kept in order', () => {
    assert.deepEqual(guidBytes('00112233-4455-6677-8899-aabbccddeeff'),
      bin('33 22 11 00 55 44 77 66 88 99 aa bb cc dd ee ff'));
  });

  test('guidAt reads at an offset and prints lower case', () => {
    const b = new Uint8Array(20);
    b.set(bin('61 df e4 8b ca 93 d2 11 aa 0d 00 e0 98 03 2b 8c'), 4);
    assert.equal(guidAt(b, 4), '8be4df61-93ca-11d2-aa0d-00e098032b8c');
  });

  test('writeGuid writes at an offset and touches only 16 bytes', () => {
    const out = new Uint8Array(18).fill(0xee);
    writeGuid('8be4df61-93ca-11d2-aa0d-00e098032b8c', out, 1);
    assert.equal(out[0], 0xee);
    assert.equal(out[17], 0xee);
    assert.deepEqual(out.subarray(1, 17), bin('61 df e4 8b ca 93 d2 11 aa 0d 00 e0 98 03 2b 8c'));
  });

  test('upper-case text is accepted and normalised to lower case', () => {
    assert.equal(parseGuid('8BE4DF61-93CA-11D2-AA0D-00E098032B8C'), '8be4df61-93ca-11d2-aa0d-00e098032b8c');
    assert.deepEqual(guidBytes('8BE4DF61-93CA-11D2-AA0D-00E098032B8C'), bin('61 df e4 8b ca 93 d2 11 aa 0d 00 e0 98 03 2b 8c'));
  });

  const bad = [
    'not-a-guid', '', '8be4df61-93ca-11d2-aa0d-00e098032b8', '8be4df61-93ca-11d2-aa0d-00e098032b8cc',
    '{8be4df61-93ca-11d2-aa0d-00e098032b8c}', '8be4df6193ca11d2aa0d00e098032b8c', '8be4df61-93ca-11d2-aa0d-00e098032b8g',
    ' 8be4df61-93ca-11d2-aa0d-00e098032b8c', '8be4df61_93ca_11d2_aa0d_00e098032b8c', '8be4df6-193ca-11d2-aa0d-00e098032b8c',
  ];
  for (const text of bad) {
    test(`${JSON.stringify(text)} is not a GUID: WireError bad-guid-text`, () => {
      assert.equal(isGuidText(text), false);
      assert.throws(() => parseGuid(text), (e: unknown) => e instanceof WireError && e.reason === 'bad-guid-text');
      assert.throws(() => guidBytes(text), (e: unknown) => e instanceof WireError && e.reason === 'bad-guid-text');
    });
  }

  test('the CLI aliases global and security name EFI_GLOBAL_VARIABLE and the image security database', () => {
    assert.equal(parseGuidOrAlias('global'), '8be4df61-93ca-11d2-aa0d-00e098032b8c');
    assert.equal(parseGuidOrAlias('security'), 'd719b2cb-3d3a-4596-a3bc-dad00e67656f');
    assert.throws(() => parseGuidOrAlias('Global'), WireError);
  });
});
