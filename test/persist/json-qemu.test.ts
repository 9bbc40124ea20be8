/**
 * The QEMU JSON store codec (src/persist/json-qemu.ts; spec §6.2, §8 items
 * 67-69): QEMU's own files load and re-encode to QEMU's bytes; bad input is
 * refused with the key path. What a service saves into it: test/service/persistence.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { freshService, TEST_GUID, OTHER_GUID, GLOBAL, image, TRACES } from '../helpers/service.js';
import type { Variable } from '../../src/store/variable.js';
import { makeVariable } from '../../src/store/variable.js';
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { fromHex, toHex } from '../../src/wire/hex.js';

function jsonFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...jsonFilesUnder(p));
    else if (p.endsWith('.final.json') || p.endsWith('.initial.json')) out.push(p);
  }
  return out.sort();
}

describe('QEMU JSON store: round trip and shape (spec §6.2; items 67, 69)', () => {
  const sample: Variable[] = [
    makeVariable({ guid: GLOBAL, name: encodeName('PK'), attributes: 0x27, data: fromHex('a159c0a5e494a74a87b5ab155c2bf072'), time: fromHex('e9070101000000000000000000000000') }),
    makeVariable({ guid: OTHER_GUID, name: encodeName('Private'), attributes: 0x27, data: Uint8Array.of(1, 2), time: fromHex('e8070506070809000a000000000000ff'), digest: new Uint8Array(32).fill(0xab) }),
    makeVariable({ guid: TEST_GUID, name: encodeName('Boot0000'), attributes: 7, data: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff) }),
    makeVariable({ guid: TEST_GUID, name: encodeName('Empty'), attributes: 3, data: new Uint8Array(0) }),
    makeVariable({ guid: TEST_GUID, name: encodeName('été€'), attributes: 7, data: Uint8Array.of(0xff) }),
    makeVariable({ guid: GLOBAL, name: encodeName('VendorKeysNv'), attributes: 0x23, data: Uint8Array.of(0) }),
  ];

  test('encode then decode keeps name, GUID, attributes, data, time, digest and order', () => {
    const back = decodeQemuJson(encodeQemuJson(sample));
    assert.deepEqual(image(back), image(sample));
  });

  test('the text has the members of spec §6.2: version 2; name, guid, attr, data; time only with 0x20; digest only with 0x20 and a digest', () => {
    const doc = JSON.parse(new TextDecoder().decode(encodeQemuJson(sample))) as { version: number; variables: Array<Record<string, unknown>> };
    assert.deepEqual(Object.keys(doc), ['version', 'variables']);
    assert.equal(doc.version, 2);
    assert.deepEqual(doc.variables.map((v) => Object.keys(v)), [
      ['name', 'guid', 'attr', 'time', 'data'],
      ['name', 'digest', 'guid', 'attr', 'time', 'data'],
      ['name', 'guid', 'attr', 'data'],
      ['name', 'guid', 'attr', 'data'],
      ['name', 'guid', 'attr', 'data'],
      ['name', 'guid', 'attr', 'time', 'data'],
    ]);
    for (const v of doc.variables) {
      assert.match(v.guid as string, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.match(v.data as string, /^([0-9a-f]{2})*$/);
      assert.equal(typeof v.attr, 'number');
      if ('time' in v) assert.match(v.time as string, /^[0-9a-f]{32}$/);
      if ('digest' in v) assert.match(v.digest as string, /^[0-9a-f]{64}$/);
    }
    assert.equal(doc.variables[1]!.digest, 'ab'.repeat(32));
    assert.equal(doc.variables[5]!.time, '0'.repeat(32));
  });

  test('a digest on a variable without 0x20 is not written', () => {
    const v = makeVariable({ guid: TEST_GUID, name: encodeName('X'), attributes: 7, data: Uint8Array.of(1), digest: new Uint8Array(32) });
    const doc = JSON.parse(new TextDecoder().decode(encodeQemuJson([v]))) as { variables: Array<Record<string, unknown>> };
    assert.deepEqual(Object.keys(doc.variables[0]!), ['name', 'guid', 'attr', 'data']);
  });

  test('the layout is QEMU\'s pretty printer: 4-space indent, "key": value, no trailing newline', () => {
    const text = new TextDecoder().decode(encodeQemuJson([sample[0]!]));
    assert.equal(text, [
      '{',
      '    "version": 2,',
      '    "variables": [',
      '        {',
      '            "name": "PK",',
      '            "guid": "8be4df61-93ca-11d2-aa0d-00e098032b8c",',
      '            "attr": 39,',
      '            "time": "e9070101000000000000000000000000",',
      '            "data": "a159c0a5e494a74a87b5ab155c2bf072"',
      '        }',
      '    ]',
      '}',
    ].join('\n'));
  });

  test('an empty store encodes as an empty variables array and decodes back to nothing', () => {
    assert.deepEqual(decodeQemuJson(encodeQemuJson([])), []);
  });

  test('ours: a non-ASCII name is written as \\u escapes and read back exactly (QEMU writes "?")', () => {
    const text = new TextDecoder().decode(encodeQemuJson([sample[4]!]));
    assert.ok(text.includes('"name": "\\u00e9t\\u00e9\\u20ac"'), text);
    assert.equal(nameKey(decodeQemuJson(encodeQemuJson([sample[4]!]))[0]!.name), 'été€');
  });
});

describe('QEMU-written stores load (spec §6.2; item 68, 69)', () => {
  const files = jsonFilesUnder(TRACES);
  const EDGE = join(TRACES, 'qemu-conformance/deviations/json-store-edge.initial.json');

  test('the traces hold QEMU stores to check', () => {
    assert.ok(files.length >= 30, `${files.length} store files`);
    assert.ok(existsSync(EDGE));
  });

  for (const f of files) {
    if (f === EDGE) continue;
    test(`${relative(TRACES, f)} loads`, async () => {
      const vars = decodeQemuJson(new Uint8Array(readFileSync(f)));
      const doc = JSON.parse(readFileSync(f, 'utf8')) as { variables: unknown[] };
      assert.equal(vars.length, doc.variables.length);
      await freshService({ variables: vars });
    });
    if (f.endsWith('.final.json')) {
      test(`${relative(TRACES, f)} re-encodes to QEMU's exact bytes`, () => {
        const text = readFileSync(f, 'utf8');
        assert.equal(new TextDecoder().decode(encodeQemuJson(decodeQemuJson(new TextEncoder().encode(text)))), text);
      });
    }
  }

  test('ours: json-store-edge with an invalid GUID is refused with StoreFormatError naming variables[0].guid (QEMU loads the nil GUID)', () => {
    assert.throws(() => decodeQemuJson(new Uint8Array(readFileSync(EDGE))),
      (e: unknown) => e instanceof StoreFormatError && e.where === 'variables[0].guid');
  });

  test('json-store-edge without its bad GUID: upper-case GUID lowered, short time ignored (item 69), missing time zero', () => {
    const doc = JSON.parse(readFileSync(EDGE, 'utf8')) as { variables: unknown[] };
    doc.variables.shift();
    const vars = decodeQemuJson(new TextEncoder().encode(JSON.stringify(doc)));
    assert.deepEqual(vars.map((v) => [nameKey(v.name), v.guid, v.attributes, toHex(v.data), toHex(v.time)]), [
      ['UpperGuid', 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70', 7, '02', '00'.repeat(16)],
      ['Café', 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70', 7, '03', '00'.repeat(16)],
      ['ShortTime', '0b6e5233-a65c-44c9-9407-d9ab83bfc8bd', 39, '04', '00'.repeat(16)],
      ['ZeroTime', '0b6e5233-a65c-44c9-9407-d9ab83bfc8bd', 39, '05', '00'.repeat(16)],
    ]);
  });

  test('json-store-load loads in file order with its values, the AT variable with its time', () => {
    const vars = decodeQemuJson(new Uint8Array(readFileSync(join(TRACES, 'qemu-conformance/json-store-load.initial.json'))));
    assert.deepEqual(vars.map((v) => nameKey(v.name)), ['BootOrder', 'Boot0000', 'Lang', 'Timeout', 'NvBsOnly', 'UpperHex', 'AuthLoaded', 'Empty']);
    const auth = vars[6]!;
    assert.deepEqual([auth.guid, auth.attributes, toHex(auth.data), toHex(auth.time)], ['0b6e5233-a65c-44c9-9407-d9ab83bfc8bd', 39, '7061796c6f6164', 'e8070506070809000000000000000000']);
    assert.equal(vars[7]!.data.length, 0);
  });

  test('an empty file is an empty store', () => {
    assert.deepEqual(decodeQemuJson(new Uint8Array(0)), []);
    assert.deepEqual(decodeQemuJson(new TextEncoder().encode(' \n')), []);
  });

  test('python-uefivars\' "timestamp" is read as the time', () => {
    const vars = decodeQemuJson(new TextEncoder().encode(JSON.stringify({ version: 2, variables: [{ name: 'T', guid: TEST_GUID, attr: 39, data: '01', timestamp: 'e9070101000000000000000000000000' }] })));
    assert.equal(toHex(vars[0]!.time), 'e9070101000000000000000000000000');
  });
});

describe('bad JSON input is refused with the key path (spec §6.2; item 68)', () => {
  const good = { name: 'X', guid: TEST_GUID, attr: 7, data: '01' };
  const doc = (over: Record<string, unknown> | null, top: Record<string, unknown> = {}): Uint8Array => {
    const v: Record<string, unknown> = { ...good };
    if (over) for (const [k, val] of Object.entries(over)) { if (val === undefined) delete v[k]; else v[k] = val; }
    return new TextEncoder().encode(JSON.stringify({ version: 2, variables: [{ ...good }, v], ...top }));
  };
  const refuses = (bytes: Uint8Array, where: string): void => {
    assert.throws(() => decodeQemuJson(bytes), (e: unknown) => {
      assert.ok(e instanceof StoreFormatError, `not a StoreFormatError: ${String(e)}`);
      assert.equal(e.where, where);
      return true;
    });
  };

  test('an unknown top-level key', () => refuses(doc(null, { extra: 1 }), 'extra'));
  test('an unknown variable key', () => refuses(doc({ size: 1 }), 'variables[1].size'));
  test('a missing version', () => refuses(new TextEncoder().encode(JSON.stringify({ variables: [] })), 'version'));
  test('a version that is not an integer', () => refuses(new TextEncoder().encode(JSON.stringify({ version: '2', variables: [] })), 'version'));
  test('missing variables', () => refuses(new TextEncoder().encode(JSON.stringify({ version: 2 })), 'variables'));
  test('variables that are not an array', () => refuses(new TextEncoder().encode(JSON.stringify({ version: 2, variables: {} })), 'variables'));
  test('a variable that is not an object', () => refuses(new TextEncoder().encode(JSON.stringify({ version: 2, variables: [good, 'x'] })), 'variables[1]'));
  test('missing data', () => refuses(doc({ data: undefined }), 'variables[1].data'));
  test('missing guid', () => refuses(doc({ guid: undefined }), 'variables[1].guid'));
  test('missing name', () => refuses(doc({ name: undefined }), 'variables[1].name'));
  test('missing attr', () => refuses(doc({ attr: undefined }), 'variables[1].attr'));
  test('data with an odd number of hex digits', () => refuses(doc({ data: '012' }), 'variables[1].data'));
  test('data with a bad hex digit', () => refuses(doc({ data: '0g' }), 'variables[1].data'));
  test('data that is not a string', () => refuses(doc({ data: 1 }), 'variables[1].data'));
  test('a non-integer attr', () => refuses(doc({ attr: 7.5 }), 'variables[1].attr'));
  test('an attr given as a string', () => refuses(doc({ attr: '7' }), 'variables[1].attr'));
  test('a negative attr', () => refuses(doc({ attr: -1 }), 'variables[1].attr'));
  test('an attr above 32 bits', () => refuses(doc({ attr: 2 ** 32 }), 'variables[1].attr'));
  test('a GUID that does not parse', () => refuses(doc({ guid: '8be4df61-93ca-11d2-aa0d-00e098032b8' }), 'variables[1].guid'));
  test('a 32-digit time with a bad digit', () => refuses(doc({ attr: 39, time: 'zz'.repeat(16) }), 'variables[1].time'));
  test('a digest with an odd number of digits', () => refuses(doc({ digest: 'abc' }), 'variables[1].digest'));
  test('ours: an empty name', () => refuses(doc({ name: '' }), 'variables[1].name'));
  test('a top-level array', () => refuses(new TextEncoder().encode('[]'), 'json'));
  test('text that is not JSON', () => refuses(new TextEncoder().encode('{"version": 2,'), 'json'));
});
