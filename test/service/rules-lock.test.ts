/**
 * LOCK_VARIABLE (spec §2.5.5, §5.5; §8 item 40). Expected values from
 * traces/qemu-conformance/lock-variable.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshService, call, raw, mmRequest, u64At, setVar, deleteVar, getVar, lockVar, event, fn, S, TEST_GUID, OFF, withU64, withMessageLength, bytes } from '../helpers/service.js';
import { lockVariableRequest } from '../../src/client/requests.js';

const VAR_CHECK_POLICY = Uint8Array.of(0x11, 0x0d, 0x1b, 0xda, 0xa7, 0xd1, 0xc4, 0x46, 0x9d, 0xc9, 0xf3, 0x71, 0x48, 0x75, 0xc6, 0xeb);

describe('LOCK_VARIABLE (item 40)', () => {
  test('LOCK_VARIABLE answers EFI_SUCCESS for an existing name, a missing name and a repeated lock', async () => {
    const svc = await freshService();
    await setVar(svc, 'Locked', 7, [1, 2]);
    assert.equal(await lockVar(svc, 'Locked'), S.SUCCESS);
    assert.equal(await lockVar(svc, 'NotYet'), S.SUCCESS);
    assert.equal(await lockVar(svc, 'Locked'), S.SUCCESS);
  });

  test('LOCK_VARIABLE with MessageLength below 40 answers EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await freshService();
    const m = await call(svc, withMessageLength(lockVariableRequest({ name: 'Locked', guid: TEST_GUID }), 36));
    assert.equal(m.returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('LOCK_VARIABLE with NameSize running past the message answers EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await freshService();
    const m = await call(svc, withU64(lockVariableRequest({ name: 'X', guid: TEST_GUID }), OFF.getNext.nameSize, 400));
    assert.equal(m.returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('before EndOfDxe a locked variable can still be written', async () => {
    const svc = await freshService();
    await setVar(svc, 'Locked', 7, [1, 2]);
    await lockVar(svc, 'Locked');
    assert.equal(await setVar(svc, 'Locked', 7, [3, 4]), S.SUCCESS);
  });

  test('after EndOfDxe update and delete of a locked variable answer EFI_WRITE_PROTECTED and the value stays', async () => {
    const svc = await freshService();
    await setVar(svc, 'Locked', 7, [1, 2]);
    await lockVar(svc, 'Locked');
    await event(svc, 'endOfDxe');
    assert.equal(await setVar(svc, 'Locked', 7, [3, 4]), S.WRITE_PROTECTED);
    assert.equal(await deleteVar(svc, 'Locked'), S.WRITE_PROTECTED);
    const g = await getVar(svc, 'Locked', { dataSize: 2 });
    assert.deepEqual([g.status, g.attributes, g.data], [S.SUCCESS, 7, bytes(1, 2)]);
  });

  test('after EndOfDxe creating a locked name answers EFI_WRITE_PROTECTED; other names are unaffected', async () => {
    const svc = await freshService();
    await lockVar(svc, 'NotYet');
    await event(svc, 'endOfDxe');
    assert.equal(await setVar(svc, 'NotYet', 2, [1, 2, 3]), S.WRITE_PROTECTED);
    assert.equal(await setVar(svc, 'Free', 2, [1, 2, 3, 4]), S.SUCCESS);
  });

  test('a lock is per GUID: the same name under another GUID stays writable', async () => {
    const svc = await freshService();
    await lockVar(svc, 'Twin');
    await event(svc, 'endOfDxe');
    assert.equal(await setVar(svc, 'Twin', 7, [1], '0b6e5233-a65c-44c9-9407-d9ab83bfc8bd'), S.SUCCESS);
    assert.equal(await setVar(svc, 'Twin', 7, [1]), S.WRITE_PROTECTED);
  });

  test('ours: LOCK_VARIABLE after EndOfDxe is EFI_ACCESS_DENIED, as edk2 VariableLockRequestToLock (QEMU accepts it, spec §2.5.5)', async () => {
    const svc = await freshService();
    assert.equal(await lockVar(svc, 'Early'), S.SUCCESS);
    await event(svc, 'endOfDxe');
    assert.equal(await lockVar(svc, 'Late'), S.ACCESS_DENIED);
    await fn(svc, 6);
    assert.equal(await lockVar(svc, 'Later'), S.ACCESS_DENIED);
  });

  test('ours: LOCK_VARIABLE after the policy interface LOCK is EFI_WRITE_PROTECTED, as edk2 RegisterVariablePolicy (QEMU accepts it)', async () => {
    const svc = await freshService();
    // VAR_CHECK_POLICY_COMM_HEADER: 'VCPC', revision 1, command 5 (LOCK), Result 0.
    const lock = mmRequest(VAR_CHECK_POLICY, Uint8Array.of(0x56, 0x43, 0x50, 0x43, 1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    const r = await raw(svc, lock);
    assert.equal(r.deviceStatus, 0);
    assert.equal(u64At(r.reply!, 24 + 12), S.SUCCESS);
    assert.equal(await lockVar(svc, 'AfterPolicyLock'), S.WRITE_PROTECTED);
  });

  test('ReadyToBoot and ExitBootServices alone do not start enforcement; only EndOfDxe does (spec §10.7)', async () => {
    const svc = await freshService();
    await setVar(svc, 'Locked', 7, [1]);
    await lockVar(svc, 'Locked');
    await fn(svc, 5);
    await fn(svc, 6);
    assert.equal(await setVar(svc, 'Locked', 7, [2]), S.SUCCESS);
  });
});
