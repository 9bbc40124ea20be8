import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeVariable } from '../../src/store/variable.js';
import { freshService, queryInfo, setVar, name, TEST_GUID, NV, BS, RT, S } from '../helpers/service.js';
import type { StoreBackend } from '../../src/store/backend.js';

/** A backend whose saves take a while, so a queued write is still pending when the next call starts. */
class SlowBackend implements StoreBackend {
  async save(): Promise<void> { await new Promise((r) => setTimeout(r, 20)); }
}

test('a host write queued behind a guest write is checked against the storage that guest write left (no check-then-act)', async () => {
  const svc = await freshService({ backend: new SlowBackend(), options: { size: 8192 } });
  const free = Number((await queryInfo(svc)).remainingStorageSize);
  // The guest write takes all but ~300 bytes; the host write needs ~600: alone it fits, after the guest's it does not.
  const guestData = free - 96 - name('Fill').length - 300;
  const hostVar = makeVariable({ guid: TEST_GUID, name: name('Host'), attributes: NV | BS | RT, data: new Uint8Array(500), time: new Uint8Array(16) });
  const guest = setVar(svc, 'Fill', NV | BS | RT, new Uint8Array(guestData));
  const host = svc.hostSetVariable(hostVar);
  const [g, h] = await Promise.all([guest, host]);
  assert.equal(g, S.SUCCESS);
  assert.equal(h.ok, false);
  assert.ok(!h.ok && h.reason === 'out-of-storage' && h.needed > svc.options.size);
  assert.ok(!svc.variables().some((v) => v.data.length === 500), 'the refused host write is not stored');
});

test('a host write that fits is stored and replaces the old record in the accounting', async () => {
  const svc = await freshService();
  const v = makeVariable({ guid: TEST_GUID, name: name('Host'), attributes: NV | BS | RT, data: new Uint8Array(1000), time: new Uint8Array(16) });
  assert.deepEqual(await svc.hostSetVariable(v), { ok: true });
  const used = svc.usedStorage;
  assert.deepEqual(await svc.hostSetVariable({ ...v, data: new Uint8Array(10) }), { ok: true });
  assert.equal(svc.usedStorage, used - 990);
});
