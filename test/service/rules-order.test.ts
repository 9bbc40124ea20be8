/**
 * Store order and GetNextVariableName order (spec §3.6; §8 items 19, 34).
 * Expected values from traces/qemu-conformance set-overwrite-delete, enumeration-full,
 * json-store-load and volatile-nv-reset.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshService, setVar, deleteVar, walkNames, nextVar, sharedBytes, S, TEST_GUID, OTHER_GUID, GLOBAL } from '../helpers/service.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';

const INIT = ['SetupMode', 'SignatureSupport', 'SecureBoot', 'CustomMode', 'VendorKeysNv', 'VendorKeys'];

describe('store order (spec §3.6)', () => {
  test('new variables follow the six auth variables in creation order, across GUIDs', async () => {
    const svc = await freshService();
    await setVar(svc, 'Var02', 2, [1]);
    await setVar(svc, 'Var06', 6, [1], OTHER_GUID);
    await setVar(svc, 'Var03', 3, [1]);
    await setVar(svc, 'Var07', 7, [1], GLOBAL);
    assert.deepEqual(await walkNames(svc), [...INIT, 'Var02', 'Var06', 'Var03', 'Var07']);
  });

  test('an update moves the variable to the end (item 34)', async () => {
    const svc = await freshService();
    for (const n of ['Var02', 'Var06', 'Var03', 'Var07']) await setVar(svc, n, 2, [1]);
    await setVar(svc, 'Var02', 2, [1, 2, 3, 4, 5]);
    assert.deepEqual(await walkNames(svc), [...INIT, 'Var06', 'Var03', 'Var07', 'Var02']);
  });

  test('an update with the same data still moves the variable to the end', async () => {
    const svc = await freshService();
    await setVar(svc, 'A', 2, [1]);
    await setVar(svc, 'B', 2, [1]);
    await setVar(svc, 'A', 2, [1]);
    assert.deepEqual((await walkNames(svc)).slice(6), ['B', 'A']);
  });

  test('a refused update does not move the variable', async () => {
    const svc = await freshService();
    await setVar(svc, 'A', 2, [1]);
    await setVar(svc, 'B', 2, [1]);
    assert.equal(await setVar(svc, 'A', 7, [2]), S.INVALID_PARAMETER);
    assert.equal(await setVar(svc, 'A', 0x42, [2]), S.UNSUPPORTED);
    assert.deepEqual((await walkNames(svc)).slice(6), ['A', 'B']);
  });

  test('a delete takes the variable out of the middle and the walk closes the gap', async () => {
    const svc = await freshService();
    for (const n of ['A', 'B', 'C']) await setVar(svc, n, 2, [1]);
    await deleteVar(svc, 'B');
    assert.deepEqual((await walkNames(svc)).slice(6), ['A', 'C']);
    const n = await nextVar(svc, 'A');
    assert.equal(n.name, 'C');
  });

  test('variables() lists the store in the same order as the walk', async () => {
    const svc = await freshService();
    await setVar(svc, 'A', 2, [1]);
    await setVar(svc, 'B', 2, [1], OTHER_GUID);
    const listed = svc.variables().map((v) => Buffer.from(v.name).toString('utf16le').replace(/\0.*$/, ''));
    assert.deepEqual(listed, await walkNames(svc));
  });
});

describe('loaded stores come first (spec §3.6; json-store-load)', () => {
  const loaded = (): ReturnType<typeof decodeQemuJson> => decodeQemuJson(sharedBytes('traces/qemu-conformance/json-store-load.initial.json'));

  test('JSON-loaded NV variables come first in file order, then the auth variables', async () => {
    const svc = await freshService({ variables: loaded() });
    const names: string[] = [];
    let name = '', guid = TEST_GUID as string;
    // QEMU's walk stops at "Empty" (no data: not found as a current name), as the trace shows.
    for (;;) {
      const n = await nextVar(svc, name, guid);
      if (n.status !== S.SUCCESS) { assert.equal(n.status, S.INVALID_PARAMETER); break; }
      names.push(n.name);
      name = n.name; guid = n.guid;
    }
    assert.deepEqual(names, ['BootOrder', 'Boot0000', 'Lang', 'Timeout', 'NvBsOnly', 'UpperHex', 'AuthLoaded', 'Empty']);
    assert.deepEqual(svc.variables().slice(8).map((v) => Buffer.from(v.name).toString('utf16le').replace(/\0.*$/, '')), INIT);
  });

  test('updating a loaded variable moves it behind the auth variables; a delete removes it', async () => {
    const svc = await freshService({ variables: loaded() });
    const G = GLOBAL;
    assert.equal(await setVar(svc, 'Timeout', 7, [1, 0], G), S.SUCCESS);
    assert.equal(await setVar(svc, 'BootOrder', 7, [0, 0], G), S.SUCCESS);
    assert.equal(await deleteVar(svc, 'Lang', G), S.SUCCESS);
    const names = svc.variables().map((v) => Buffer.from(v.name).toString('utf16le').replace(/\0.*$/, ''));
    assert.deepEqual(names, ['Boot0000', 'NvBsOnly', 'UpperHex', 'AuthLoaded', 'Empty', ...INIT, 'Timeout', 'BootOrder']);
  });

  test('after a reset the NV variables keep their order and the auth variables move behind them', async () => {
    const svc = await freshService();
    await setVar(svc, 'Keep03', 3, [1]);
    await setVar(svc, 'Keep07', 7, [1]);
    await svc.reset();
    assert.deepEqual(await walkNames(svc), ['Keep03', 'Keep07', ...INIT]);
  });
});
