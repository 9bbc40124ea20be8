/**
 * Durability and the QEMU JSON store (spec §6.1, §6.2; §8 items 67-70).
 * Saves: every acknowledged NV write reaches the backend, in store order, before
 * the guest gets its answer; a failed save answers EFI_DEVICE_ERROR and undoes
 * the write. JSON: QEMU's own files load and re-encode to QEMU's bytes; bad input
 * is refused with the key path.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  freshService, setVar, deleteVar, getVar, S, TEST_GUID, OTHER_GUID, GLOBAL, image, RecordingBackend, TRACES,
  type VariableImage,
} from '../helpers/service.js';
import type { StoreBackend } from '../../src/service/variable-service.js';
import type { Variable } from '../../src/store/variable.js';
import { makeVariable } from '../../src/store/variable.js';
import { setVariableRequest } from '../../src/client/requests.js';
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { parsePcap } from '../../src/wire/pcap.js';
import { replayTrace } from '../../src/replay/replay.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { fromHex, toHex } from '../../src/wire/hex.js';

const CUSTOM_MODE_GUID = 'c076ec0c-7028-4399-a072-71ee5c448b9f';
const names = (img: readonly VariableImage[] | undefined): string[] =>
  (img ?? []).map((v) => nameKey(fromHex(v.name)));

describe('saves on NV writes (spec §6.1)', () => {
  test('creating the service saves once (the machine-start reset writes the store)', async () => {
    const backend = new RecordingBackend();
    await freshService({ backend });
    assert.equal(backend.saves.length, 1);
    assert.deepEqual(names(backend.last), ['CustomMode', 'VendorKeysNv']);
  });

  test('each NV create, update and delete saves once, with the full NV list in store order', async () => {
    const backend = new RecordingBackend();
    const svc = await freshService({ backend });
    const steps: Array<[string, () => Promise<bigint>, string[]]> = [
      ['create A', () => setVar(svc, 'A', 7, [1]), ['CustomMode', 'VendorKeysNv', 'A']],
      ['create B (NV|BS)', () => setVar(svc, 'B', 3, [2]), ['CustomMode', 'VendorKeysNv', 'A', 'B']],
      ['update A: moves to the end', () => setVar(svc, 'A', 7, [3, 3]), ['CustomMode', 'VendorKeysNv', 'B', 'A']],
      ['delete B', () => deleteVar(svc, 'B'), ['CustomMode', 'VendorKeysNv', 'A']],
      ['delete A with other attributes', () => deleteVar(svc, 'A', TEST_GUID, 0x2), ['CustomMode', 'VendorKeysNv']],
      ['update CustomMode', () => setVar(svc, 'CustomMode', 3, [0], CUSTOM_MODE_GUID), ['VendorKeysNv', 'CustomMode']],
    ];
    for (const [what, step, expected] of steps) {
      const before = backend.saves.length;
      assert.equal(await step(), S.SUCCESS, what);
      assert.equal(backend.saves.length, before + 1, what);
      assert.deepEqual(names(backend.last), expected, what);
      assert.deepEqual(backend.last, image(svc.nonVolatileVariables()), what);
    }
  });

  test('the saved list carries every field of the NV variables: data, attributes, time, digest', async () => {
    const backend = new RecordingBackend();
    const auth = makeVariable({ guid: OTHER_GUID, name: encodeName('AuthLoaded'), attributes: 0x27, data: fromHex('7061796c6f6164'), time: fromHex('e8070506070809000000000000000000'), digest: new Uint8Array(32).fill(7) });
    const svc = await freshService({ backend, variables: [auth] });
    await setVar(svc, 'A', 7, [0xde, 0xad]);
    const saved = backend.last!;
    assert.deepEqual(saved.map((v) => nameKey(fromHex(v.name))), ['AuthLoaded', 'CustomMode', 'VendorKeysNv', 'A']);
    assert.deepEqual(saved[0], { guid: OTHER_GUID, name: toHex(encodeName('AuthLoaded')), attributes: 0x27, data: '7061796c6f6164', time: 'e8070506070809000000000000000000', digest: '07'.repeat(32) });
    assert.deepEqual(saved[3], { guid: TEST_GUID, name: toHex(encodeName('A')), attributes: 7, data: 'dead', time: '00'.repeat(16), digest: null });
  });

  test('volatile writes, reads, refused writes and deletes of missing variables do not save', async () => {
    const backend = new RecordingBackend();
    const svc = await freshService({ backend });
    const before = backend.saves.length;
    assert.equal(await setVar(svc, 'Vol', 2, [1]), S.SUCCESS);
    assert.equal(await setVar(svc, 'Vol', 2, [1, 2]), S.SUCCESS);
    assert.equal(await setVar(svc, 'VolRt', 6, [1]), S.SUCCESS);
    assert.equal(await deleteVar(svc, 'Vol'), S.SUCCESS);
    assert.equal((await getVar(svc, 'VolRt')).status, S.SUCCESS);
    assert.equal(await setVar(svc, 'Bad', 0x80, [1]), S.UNSUPPORTED);
    assert.equal(await setVar(svc, 'Nv', 1, [1]), S.ACCESS_DENIED);
    assert.equal(await deleteVar(svc, 'NeverThere'), S.SUCCESS);
    assert.equal(backend.saves.length, before);
  });

  test('the reply is not given before the save has finished', async () => {
    let release: (() => void) | undefined;
    let gate = false;
    const saves: string[][] = [];
    const backend: StoreBackend = {
      save(nv: readonly Variable[]): Promise<void> {
        const list = nv.map((v) => nameKey(v.name));
        if (!gate) { saves.push(list); return Promise.resolve(); }
        return new Promise((resolve) => { release = () => { saves.push(list); resolve(); }; });
      },
    };
    const svc = await freshService({ backend });
    gate = true;
    let answered = false;
    const pending = svc.process(setVariableRequest({ name: 'Slow', guid: TEST_GUID, attributes: 7, data: Uint8Array.of(1) }), 65536)
      .then((r) => { answered = true; return r; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(answered, false, 'answered before the save finished');
    assert.ok(release, 'save was called');
    release!();
    const r = await pending;
    assert.equal(answered, true);
    assert.equal(r.deviceStatus, 0);
    assert.deepEqual(saves.at(-1), ['CustomMode', 'VendorKeysNv', 'Slow']);
  });

  test('requests arriving during a slow save wait for it and see its result', async () => {
    let release: (() => void) | undefined;
    let gate = false;
    const backend: StoreBackend = {
      save(): Promise<void> {
        if (!gate) return Promise.resolve();
        gate = false;
        return new Promise((resolve) => { release = resolve; });
      },
    };
    const svc = await freshService({ backend });
    gate = true;
    const write = svc.process(setVariableRequest({ name: 'Slow', guid: TEST_GUID, attributes: 7, data: Uint8Array.of(1) }), 65536);
    const read = getVar(svc, 'Slow');
    await new Promise((r) => setTimeout(r, 10));
    release!();
    await write;
    const g = await read;
    assert.equal(g.status, S.SUCCESS);
  });

  test('a device reset saves the NV list (volatile variables gone, auth variables moved behind the guest\'s)', async () => {
    const backend = new RecordingBackend();
    const svc = await freshService({ backend });
    await setVar(svc, 'Nv', 3, [1]);
    await setVar(svc, 'Vol', 2, [1]);
    const before = backend.saves.length;
    await svc.reset();
    assert.equal(backend.saves.length, before + 1);
    assert.deepEqual(names(backend.last), ['Nv', 'CustomMode', 'VendorKeysNv']);
  });
});

describe('a failed save (spec §6.1; ours: EFI_DEVICE_ERROR and no change)', () => {
  const build = async (): Promise<{ svc: Awaited<ReturnType<typeof freshService>>; backend: RecordingBackend }> => {
    const backend = new RecordingBackend();
    const svc = await freshService({ backend });
    for (const n of ['A', 'B', 'C']) assert.equal(await setVar(svc, n, 7, [n.charCodeAt(0)]), S.SUCCESS);
    await setVar(svc, 'Vol', 6, [9]);
    return { svc, backend };
  };

  const cases: Array<[string, (svc: Awaited<ReturnType<typeof freshService>>) => Promise<bigint>]> = [
    ['a create', (svc) => setVar(svc, 'D', 7, [4])],
    ['an update (which would move A to the end)', (svc) => setVar(svc, 'A', 7, [5, 5])],
    ['a delete', (svc) => deleteVar(svc, 'B')],
    ['a delete of an NV variable given other attributes', (svc) => deleteVar(svc, 'C', TEST_GUID, 6)],
  ];
  for (const [what, write] of cases) {
    test(`${what} answers EFI_DEVICE_ERROR and leaves the store exactly as before, order included`, async () => {
      const { svc, backend } = await build();
      const before = image(svc.variables());
      const used = svc.usedStorage;
      const saves = backend.saves.length;
      backend.failNext = 1;
      assert.equal(await write(svc), S.DEVICE_ERROR);
      assert.deepEqual(image(svc.variables()), before);
      assert.equal(svc.usedStorage, used);
      assert.equal(backend.saves.length, saves);
    });
  }

  test('after a failed save the next write saves a list without the failed change', async () => {
    const { svc, backend } = await build();
    backend.failNext = 1;
    assert.equal(await setVar(svc, 'Lost', 7, [1]), S.DEVICE_ERROR);
    assert.equal(await setVar(svc, 'Kept', 7, [2]), S.SUCCESS);
    assert.deepEqual(names(backend.last), ['CustomMode', 'VendorKeysNv', 'A', 'B', 'C', 'Kept']);
    assert.equal((await getVar(svc, 'Lost')).status, S.NOT_FOUND);
  });

  test('a volatile write needs no save, so it succeeds while the backend is failing', async () => {
    const { svc, backend } = await build();
    backend.failAlways = true;
    assert.equal(await setVar(svc, 'Vol2', 2, [1]), S.SUCCESS);
    assert.equal(await setVar(svc, 'Nv2', 3, [1]), S.DEVICE_ERROR);
  });
});

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

  test('only NV variables reach the JSON a service writes (item 67)', async () => {
    const backend = new RecordingBackend();
    const svc = await freshService({ backend });
    await setVar(svc, 'Vol', 6, [1]);
    await setVar(svc, 'Nv', 7, [2]);
    const doc = JSON.parse(new TextDecoder().decode(encodeQemuJson(svc.nonVolatileVariables()))) as { variables: Array<{ name: string }> };
    assert.deepEqual(doc.variables.map((v) => v.name), ['CustomMode', 'VendorKeysNv', 'Nv']);
  });
});

describe('restart through the JSON store (item 70)', () => {
  test('NV variables survive a restart with data, attributes and order; volatile ones do not', async () => {
    let file: Uint8Array = new Uint8Array(0);
    const backend: StoreBackend = { save: async (nv) => { file = encodeQemuJson(nv); } };
    const first = await freshService({ backend });
    await setVar(first, 'Keep03', 3, [1, 2, 3]);
    await setVar(first, 'Vol06', 6, [4]);
    await setVar(first, 'Keep07', 7, [5, 6], OTHER_GUID);
    await setVar(first, 'Keep03', 3, [7]);
    const second = await freshService({ variables: decodeQemuJson(file), backend });
    assert.deepEqual((await getVar(second, 'Keep03')).data, Uint8Array.of(7));
    assert.deepEqual((await getVar(second, 'Keep07', { guid: OTHER_GUID })).data, Uint8Array.of(5, 6));
    assert.equal((await getVar(second, 'Vol06')).status, S.NOT_FOUND);
    assert.deepEqual(second.nonVolatileVariables().map((v) => nameKey(v.name)), ['Keep07', 'Keep03', 'CustomMode', 'VendorKeysNv']);
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

describe('the store a replayed trace leaves equals QEMU\'s final JSON (data and order)', () => {
  const scenarios: Array<[string, { size?: number }]> = [
    ['set-overwrite-delete', {}], ['volatile-nv-reset', {}], ['json-store-load', {}], ['enumeration-full', {}],
    ['storage-exhaustion-64k', { size: 65536 }], ['storage-exhaustion-volatile', { size: 65536 }], ['get-buffer-sizes', {}],
    ['lock-variable', {}], ['runtime-visibility-functions', {}],
  ];
  for (const [name, options] of scenarios) {
    test(`${name}: the last save is the NV list QEMU wrote`, async () => {
      const base = join(TRACES, 'qemu-conformance', name);
      const initial = existsSync(base + '.initial.json') ? decodeQemuJson(new Uint8Array(readFileSync(base + '.initial.json'))) : [];
      const backend = new RecordingBackend();
      const svc = await freshService({ variables: initial, backend, options });
      const report = await replayTrace(parsePcap(new Uint8Array(readFileSync(base + '.pcap'))), svc);
      assert.equal(report.mismatches, 0, JSON.stringify(report.differences.slice(0, 3)));
      const qemu = decodeQemuJson(new Uint8Array(readFileSync(base + '.final.json')));
      assert.deepEqual(backend.last, image(qemu));
    });
  }
});
