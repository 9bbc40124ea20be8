/**
 * Durability through the QEMU JSON store (spec §6.1, §6.2; §8 items 67, 70).
 * Saves: every acknowledged NV write reaches the backend, in store order, before
 * the guest gets its answer; a failed save answers EFI_DEVICE_ERROR and undoes
 * the write. The JSON codec itself: test/persist/json-qemu.test.ts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  freshService, setVar, deleteVar, getVar, S, TEST_GUID, OTHER_GUID, image, RecordingBackend, TRACES,
  type VariableImage,
} from '../helpers/service.js';
import type { StoreBackend } from '../../src/service/variable-service.js';
import type { Variable } from '../../src/store/variable.js';
import { makeVariable } from '../../src/store/variable.js';
import { setVariableRequest } from '../../src/client/requests.js';
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
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

describe('what a service writes to the QEMU JSON store (item 67)', () => {
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
