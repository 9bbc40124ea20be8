import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuotaState, parseVmQuota } from '../../src/service/vm-quota.js';
import { VariableStore } from '../../src/store/store.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { freshService, setVarFull, deleteVar, image, S, NV, BS, RT, TEST_GUID } from '../helpers/service.js';

/**
 * Per-VM quotas (issue 16): a guest write that would pass the UEFI rules but
 * break the operator's bound on variables, bytes or writes per second is
 * refused with EFI_OUT_OF_RESOURCES (UEFI 2.10 §8.2 SetVariable, spec §3.8),
 * the store left exactly as it was; writes that do not grow the VM pass.
 */
const NVBR = NV | BS | RT;
/** spec §3.8: 96 + NameSize (UCS-2 with NUL) + DataSize, spelled out here rather than taken from the code. */
const cost = (name: string, dataSize: number): number => 96 + 2 * (name.length + 1) + dataSize;

test('maxVariables: creates beyond it are EFI_OUT_OF_RESOURCES and change nothing; updates and deletes pass; a delete makes room', async () => {
  const svc = await freshService();
  const base = svc.variables().length;
  await svc.setQuota({ maxVariables: base + 2 });
  assert.equal((await setVarFull(svc, 'A', NVBR, [1])).returnStatus, S.SUCCESS);
  assert.equal((await setVarFull(svc, 'B', NVBR, [2])).returnStatus, S.SUCCESS);
  const before = image(svc.variables());
  const refused = await setVarFull(svc, 'C', NVBR, [3]);
  assert.equal(refused.returnStatus, S.OUT_OF_RESOURCES);
  assert.equal(refused.reason, 'quota-variables');
  assert.equal((await setVarFull(svc, 'Vol', BS | RT, [3])).returnStatus, S.OUT_OF_RESOURCES, 'volatile variables count too');
  assert.deepEqual(image(svc.variables()), before, 'the refusals changed nothing');
  assert.equal((await setVarFull(svc, 'A', NVBR, new Uint8Array(500))).returnStatus, S.SUCCESS, 'an update is not a new variable');
  assert.equal(await deleteVar(svc, 'B'), S.SUCCESS);
  assert.equal((await setVarFull(svc, 'C', NVBR, [3])).returnStatus, S.SUCCESS, 'the delete made room');
  await svc.setQuota(undefined);
  assert.equal((await setVarFull(svc, 'D', NVBR, [4])).returnStatus, S.SUCCESS, 'cleared: no bound');
});

test('maxBytes: accounted as spec §3.8; a write reaching it exactly passes, one byte more is refused; shrinking passes', async () => {
  const svc = await freshService();
  const used = svc.usedStorage;
  await svc.setQuota({ maxBytes: used + cost('Big', 100) });
  assert.equal((await setVarFull(svc, 'Big', NVBR, new Uint8Array(100))).returnStatus, S.SUCCESS, 'exactly at the bound');
  assert.equal(svc.usedStorage, used + cost('Big', 100), 'the test counts as the service does');
  const before = image(svc.variables());
  const over = await setVarFull(svc, 'Big', NVBR, new Uint8Array(101));
  assert.equal(over.returnStatus, S.OUT_OF_RESOURCES);
  assert.equal(over.reason, 'quota-bytes');
  assert.equal((await setVarFull(svc, 'X', NVBR, [1])).returnStatus, S.OUT_OF_RESOURCES);
  assert.deepEqual(image(svc.variables()), before);
  assert.equal((await setVarFull(svc, 'Big', NVBR, new Uint8Array(10))).returnStatus, S.SUCCESS, 'shrinking passes');
  // 90 bytes freed do not hold X (cost 101); deleting Big (cost 204) does.
  assert.equal((await setVarFull(svc, 'X', NVBR, [1])).returnStatus, S.OUT_OF_RESOURCES);
  assert.equal(await deleteVar(svc, 'Big'), S.SUCCESS);
  assert.equal((await setVarFull(svc, 'X', NVBR, [1])).returnStatus, S.SUCCESS, 'a delete frees room');
});

test('the quota binds the guest, not the operator: host writes pass it', async () => {
  const svc = await freshService();
  await svc.setQuota({ maxVariables: svc.variables().length });
  assert.equal((await setVarFull(svc, 'G', NVBR, [1])).returnStatus, S.OUT_OF_RESOURCES);
  const v = makeVariable({ guid: TEST_GUID, name: encodeName('H'), attributes: NVBR, data: Uint8Array.of(1) });
  assert.deepEqual(await svc.hostSetVariable(v), { ok: true });
});

test('writesPerSecond: a token bucket of one second; refused writes take no token; tokens come back with time', () => {
  let now = 0;
  const q = new QuotaState({ writesPerSecond: 4 }, () => now);
  const store = new VariableStore([]);
  const next = makeVariable({ guid: TEST_GUID, name: encodeName('W'), attributes: NVBR, data: Uint8Array.of(1) });
  const outcomes = (n: number): (string | undefined)[] => Array.from({ length: n }, () => q.refusal(store, undefined, next));
  assert.deepEqual(outcomes(5), [undefined, undefined, undefined, undefined, 'quota-write-rate'], 'a burst of one second');
  now += 250;
  assert.deepEqual(outcomes(2), [undefined, 'quota-write-rate'], 'a quarter second gives one write back');
  now += 10_000;
  assert.deepEqual(outcomes(5), [undefined, undefined, undefined, undefined, 'quota-write-rate'], 'never more than one second saved up');
});

test('parseVmQuota: positive integers or null per known field, nothing else', () => {
  assert.deepEqual(parseVmQuota({ maxVariables: 10, maxBytes: null, writesPerSecond: 5 }), { maxVariables: 10, writesPerSecond: 5 });
  assert.deepEqual(parseVmQuota({}), {});
  for (const bad of [null, [], 'x', { maxVariables: 0 }, { maxBytes: 1.5 }, { maxBytes: '10' }, { maxVariable: 1 }, { writesPerSecond: -1 }, { maxBytes: 2 ** 60 }]) {
    assert.equal(typeof parseVmQuota(bad), 'string', JSON.stringify(bad));
  }
});
