/**
 * Volatile vs non-volatile across a device reset (spec §1.7, §3.7; §8 item 70).
 * Expected values from traces/qemu-conformance/volatile-nv-reset and storage-exhaustion-volatile.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshService, getVar, setVar, queryInfo, lockVar, event, S, bytes } from '../helpers/service.js';

async function scenario(): Promise<Awaited<ReturnType<typeof freshService>>> {
  const svc = await freshService();
  for (const [n, a] of [['Keep02', 2], ['Keep06', 6], ['Keep03', 3], ['Keep07', 7]] as const) {
    assert.equal(await setVar(svc, n, a, [1, 2, 3, 4, 5, 6, 7, 8]), S.SUCCESS);
  }
  assert.equal(await setVar(svc, 'VolBig', 6, new Uint8Array(3000)), S.SUCCESS);
  return svc;
}

describe('device reset (spec §3.7)', () => {
  test('volatile variables are gone after a reset; NV ones keep data and attributes (item 70)', async () => {
    const svc = await scenario();
    await svc.reset();
    assert.equal((await getVar(svc, 'Keep02', { dataSize: 64 })).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'Keep06', { dataSize: 64 })).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'VolBig', { dataSize: 64 })).status, S.NOT_FOUND);
    for (const [n, a] of [['Keep03', 3], ['Keep07', 7]] as const) {
      const g = await getVar(svc, n, { dataSize: 64 });
      assert.deepEqual([g.status, g.attributes, g.data], [S.SUCCESS, a, bytes(1, 2, 3, 4, 5, 6, 7, 8)]);
    }
  });

  test('storage accounting follows: 257755 remaining before the reset, 261101 after, and again after a second reset', async () => {
    const svc = await scenario();
    assert.equal((await queryInfo(svc)).remainingStorageSize, 257755n);
    await svc.reset();
    assert.equal((await queryInfo(svc)).remainingStorageSize, 261101n);
    await svc.reset();
    assert.equal((await queryInfo(svc)).remainingStorageSize, 261101n);
  });

  test('a volatile fill is freed by a reset (storage-exhaustion-volatile: 135 → 64729 with size 65536)', async () => {
    const svc = await freshService({ options: { size: 65536 } });
    for (let i = 0; i < 15; i++) assert.equal(await setVar(svc, `V4096_${i}`, 2, new Uint8Array(4096)), S.SUCCESS, `V4096_${i}`);
    assert.equal(await setVar(svc, 'V4096_15', 2, new Uint8Array(4096)), S.OUT_OF_RESOURCES);
    for (let i = 0; i < 4; i++) assert.equal(await setVar(svc, `V256_${i}`, 2, new Uint8Array(256)), S.SUCCESS);
    assert.equal(await setVar(svc, 'V256_4', 2, new Uint8Array(256)), S.OUT_OF_RESOURCES);
    assert.equal((await queryInfo(svc)).remainingStorageSize, 135n);
    await svc.reset();
    assert.equal((await queryInfo(svc)).remainingStorageSize, 64729n);
  });

  test('the auth variables are re-created with their initial values at reset', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'CustomMode', 3, [1], 'c076ec0c-7028-4399-a072-71ee5c448b9f'), S.SUCCESS);
    await svc.reset();
    assert.deepEqual((await getVar(svc, 'CustomMode', { guid: 'c076ec0c-7028-4399-a072-71ee5c448b9f' })).data, bytes(0));
    assert.equal(svc.variables().length, 6);
  });

  test('variable locks are dropped at reset (lock-variable seq 15-16)', async () => {
    const svc = await freshService();
    await setVar(svc, 'Locked', 7, [1, 2]);
    await lockVar(svc, 'Locked');
    await svc.reset();
    await event(svc, 'endOfDxe');
    assert.equal(await setVar(svc, 'Locked', 7, new Uint8Array(11)), S.SUCCESS);
  });
});
