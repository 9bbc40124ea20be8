/**
 * edk2 VariablePolicyUnitTest scenarios 35-60 (../shared/vectors/reference/
 * edk2-variablepolicy-unit-test-scenarios.md): interface state (LOCK, DISABLE,
 * DUMP) and GetVariablePolicyInfo / GetLockOnVariableStateVariablePolicyInfo,
 * through the VarCheckPolicy commands 1-7 as VarCheckPolicyLibMmiHandler
 * carries them (NULL pointers there become messages too short to hold them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EfiStatus } from '../../src/wire/status.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { VariablePolicy } from '../../src/policy/engine.js';
import {
  Cmd, FULL_MESSAGE, GUID1, GUID2, GUID3, LOCK_NOW, LOCK_ON_VAR_STATE, NO_LOCK, disableMsg, dumpAll, dumpMsg, entry,
  infoMsg, isEnabledMsg, lockMsg, readDump, readInfo, registerMsg, send, write, INFO_ROOM,
} from './builders.js';

const { SUCCESS, INVALID_PARAMETER, WRITE_PROTECTED, ALREADY_STARTED, BUFFER_TOO_SMALL, NOT_FOUND, NOT_READY } = EfiStatus;
const INFO = Cmd.GET_INFO;
const STATE_INFO = Cmd.GET_LOCK_VAR_STATE_INFO;

function reg(p: VariablePolicy, e: Uint8Array): bigint { return send(p, registerMsg(e)); }
function enabled(p: VariablePolicy): number {
  const m = isEnabledMsg();
  assert.equal(send(p, m), SUCCESS);
  return m[20]!;
}

// ── Suite VarPolicy.Utility

test('edk2 #35 Utility.InterfaceLock: after LOCK, DISABLE and REGISTER are EFI_WRITE_PROTECTED; LOCK again is EFI_SUCCESS (QEMU, trace policy-register seq 19)', () => {
  const p = new VariablePolicy({ allowDisable: true });
  assert.equal(send(p, lockMsg()), SUCCESS);
  assert.equal(p.locked, true);
  assert.equal(send(p, disableMsg()), WRITE_PROTECTED);
  assert.equal(reg(p, entry({ name: 'TestVar1' })), WRITE_PROTECTED);
  assert.equal(send(p, lockMsg()), SUCCESS);
  assert.equal(p.policyCount, 0);
  assert.equal(enabled(p), 1);
});

test('edk2 #36 Utility.DisableEnforcement: after DISABLE (platform allows it) violations pass and IS_ENABLED reports 0', () => {
  const p = new VariablePolicy({ allowDisable: true });
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1' }), WRITE_PROTECTED);
  assert.equal(send(p, disableMsg()), SUCCESS);
  assert.equal(enabled(p), 0);
  assert.equal(write(p, { name: 'TestVar1' }), SUCCESS);
});

test('edk2 #36b Utility.DisableEnforcement: without PcdAllowVariablePolicyEnforcementDisable DISABLE is EFI_WRITE_PROTECTED and changes nothing', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), SUCCESS);
  assert.equal(send(p, disableMsg()), WRITE_PROTECTED);
  assert.equal(enabled(p), 1);
  assert.equal(write(p, { name: 'TestVar1' }), WRITE_PROTECTED);
});

test('edk2 #37 Utility.DisableEnforcementTwice: a second DISABLE is EFI_ALREADY_STARTED', () => {
  const p = new VariablePolicy({ allowDisable: true });
  assert.equal(send(p, disableMsg()), SUCCESS);
  assert.equal(send(p, disableMsg()), ALREADY_STARTED);
  assert.equal(enabled(p), 0);
});

test('edk2 #38 Utility.AddAfterDisable: REGISTER still works after DISABLE but is not enforced', () => {
  const p = new VariablePolicy({ allowDisable: true });
  assert.equal(send(p, disableMsg()), SUCCESS);
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), SUCCESS);
  assert.equal(p.policyCount, 1);
  assert.equal(write(p, { name: 'TestVar1' }), SUCCESS);
});

test('edk2 #39 Utility.LockAfterDisable: LOCK still works after DISABLE and then closes REGISTER', () => {
  const p = new VariablePolicy({ allowDisable: true });
  assert.equal(send(p, disableMsg()), SUCCESS);
  assert.equal(send(p, lockMsg()), SUCCESS);
  assert.equal(p.locked, true);
  assert.equal(reg(p, entry({ name: 'TestVar1' })), WRITE_PROTECTED);
});

test('edk2 #40 Utility.DumpTable: no room for the page is EFI_INVALID_PARAMETER; empty dumps 0 bytes; one policy dumps byte-identical', () => {
  const p = new VariablePolicy();
  assert.equal(send(p, dumpMsg(0, FULL_MESSAGE - 1)), INVALID_PARAMETER);
  assert.equal(send(p, dumpMsg(0, 20)), INVALID_PARAMETER);
  const empty = dumpMsg(0);
  assert.equal(send(p, empty), SUCCESS);
  assert.deepEqual(readDump(empty), { totalSize: 0, pageSize: 0, hasMore: 0, data: new Uint8Array(0) });
  const e = entry({ name: 'TestVar1', minSize: 3, maxSize: 99, mustHave: 7, lockType: LOCK_NOW, padding: 0xaf });
  assert.equal(reg(p, e), SUCCESS);
  const probe = dumpMsg(0);
  assert.equal(send(p, probe), SUCCESS);
  assert.equal(readDump(probe).totalSize, e.length, 'the exact size, before any data');
  assert.equal(readDump(probe).hasMore, 1);
  const page = dumpMsg(1);
  assert.equal(send(p, page), SUCCESS);
  assert.deepEqual(readDump(page).data, e);
  assert.equal(readDump(page).hasMore, 0);
});

test('edk2 #41 Utility.DumpTableAfterDisable: policies registered before and after DISABLE are all dumped, in order', () => {
  const p = new VariablePolicy({ allowDisable: true });
  const a = entry({ name: 'TestVar1' });
  const b = entry({ name: 'TestVar2', namespace: GUID2 });
  assert.equal(reg(p, a), SUCCESS);
  assert.equal(send(p, disableMsg()), SUCCESS);
  assert.equal(reg(p, b), SUCCESS);
  const all = dumpAll(p);
  assert.deepEqual(all, Uint8Array.from([...a, ...b]));
});

// ── Suite VarPolicy.Info

const NAMED = entry({ name: 'TestVar1', minSize: 1, maxSize: 30, lockType: NO_LOCK });
const STATE_NAMED = entry({ name: 'TestVar1', namespace: GUID2, state: { namespace: GUID3, value: 7, name: 'TestVar2' } });
const STATE_WIDE = entry({ name: undefined, state: { namespace: GUID2, value: 1, name: 'TestVar2' } });

function info(p: VariablePolicy, command: number, guid: string, name: string, capacity: number): { status: bigint; msg: Uint8Array } {
  const msg = infoMsg({ command, guid, name, capacity });
  return { status: send(p, msg), msg };
}

test('edk2 #42 Info.GetVariablePolicyInfo NULL pointer: a GET_INFO message without the parameter block is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, NAMED), SUCCESS);
  const short = infoMsg({ guid: GUID1, name: 'TestVar1', capacity: 64, length: FULL_MESSAGE - 1 });
  assert.equal(send(p, short), INVALID_PARAMETER);
});

test('edk2 #43 Info.GetLockOnVariableStateVariablePolicyInfo NULL pointer: a short GET_LOCK_VAR_STATE_INFO is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, STATE_NAMED), SUCCESS);
  const short = infoMsg({ command: STATE_INFO, guid: GUID2, name: 'TestVar1', capacity: 64, length: 20 + 67 });
  assert.equal(send(p, short), INVALID_PARAMETER);
});

test('edk2 #44 Info.GetVariablePolicyInfo zero-size name buffer for a named policy → EFI_BUFFER_TOO_SMALL with the needed size', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, NAMED), SUCCESS);
  const r = info(p, INFO, GUID1, 'TestVar1', 0);
  assert.equal(r.status, BUFFER_TOO_SMALL);
  assert.equal(readInfo(r.msg).outputNameSize, encodeName('TestVar1').length);
  assert.deepEqual(readInfo(r.msg).policyEntry, NAMED.slice(0, 44), 'the entry comes back even so');
});

test('edk2 #45 Info.GetLockOnVariableStateVariablePolicyInfo zero-size buffer → EFI_BUFFER_TOO_SMALL with the state name size', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, STATE_NAMED), SUCCESS);
  const r = info(p, STATE_INFO, GUID2, 'TestVar1', 0);
  assert.equal(r.status, BUFFER_TOO_SMALL);
  assert.equal(readInfo(r.msg).outputNameSize, encodeName('TestVar2').length);
});

test('edk2 #46 Info.GetVariablePolicyInfo zero-size buffer for a namespace-wide policy → EFI_SUCCESS, size 0', () => {
  const p = new VariablePolicy();
  const wide = entry({ name: undefined });
  assert.equal(reg(p, wide), SUCCESS);
  const r = info(p, INFO, GUID1, 'AnyName', 0);
  assert.equal(r.status, SUCCESS);
  assert.equal(readInfo(r.msg).outputNameSize, 0);
  assert.deepEqual(readInfo(r.msg).policyEntry, wide);
});

test('edk2 #47 Info.GetLockOnVariableStateVariablePolicyInfo namespace-wide: the empty state name still needs 2 bytes (edk2 test: BUFFER_TOO_SMALL, size 2)', () => {
  const p = new VariablePolicy();
  const e = entry({ name: undefined, state: { namespace: GUID2, value: 1, name: '' } });
  assert.equal(reg(p, e), SUCCESS);
  const r = info(p, STATE_INFO, GUID1, 'AnyOtherName', 0);
  assert.equal(r.status, BUFFER_TOO_SMALL);
  assert.equal(readInfo(r.msg).outputNameSize, 2);
  assert.deepEqual(readInfo(r.msg).policyEntry.slice(0, 18), e.slice(44, 62));
  const again = info(p, STATE_INFO, GUID1, 'AnyOtherName', 2);
  assert.equal(again.status, SUCCESS);
  assert.deepEqual(readInfo(again.msg).name(2), new Uint8Array(2));
});

test('edk2 #48 Info.GetVariablePolicyInfo double call: retrying with the returned size succeeds with the name', () => {
  const p = new VariablePolicy();
  const e = entry({ name: 'TestVar3', namespace: GUID3 });
  assert.equal(reg(p, e), SUCCESS);
  const first = info(p, INFO, GUID3, 'TestVar3', 0);
  assert.equal(first.status, BUFFER_TOO_SMALL);
  const size = readInfo(first.msg).outputNameSize;
  const second = info(p, INFO, GUID3, 'TestVar3', size);
  assert.equal(second.status, SUCCESS);
  assert.equal(readInfo(second.msg).outputNameSize, size);
  assert.deepEqual(readInfo(second.msg).name(size), encodeName('TestVar3'));
  assert.deepEqual(readInfo(second.msg).policyEntry, e.slice(0, 44));
});

test('edk2 #49 Info.GetLockOnVariableStateVariablePolicyInfo double call: retrying with the returned size succeeds', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, STATE_WIDE), SUCCESS);
  const first = info(p, STATE_INFO, GUID1, 'AnyName', 0);
  assert.equal(first.status, BUFFER_TOO_SMALL);
  const size = readInfo(first.msg).outputNameSize;
  const second = info(p, STATE_INFO, GUID1, 'AnyName', size);
  assert.equal(second.status, SUCCESS);
  assert.deepEqual(readInfo(second.msg).name(size), encodeName('TestVar2'));
  assert.deepEqual(readInfo(second.msg).policyEntry, Uint8Array.from([...STATE_WIDE.slice(44, 62), ...new Uint8Array(26)]));
});

test('edk2 #50 Info.GetVariablePolicyInfo before init: a device has no uninitialised state; after reset the answer is EFI_NOT_FOUND, never EFI_NOT_READY', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, NAMED), SUCCESS);
  p.reset();
  const r = info(p, INFO, GUID1, 'TestVar1', 64);
  assert.notEqual(r.status, NOT_READY);
  assert.equal(r.status, NOT_FOUND);
});

test('edk2 #51 Info.GetLockOnVariableStateVariablePolicyInfo before init: after reset EFI_NOT_FOUND, never EFI_NOT_READY', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, STATE_NAMED), SUCCESS);
  p.reset();
  const r = info(p, STATE_INFO, GUID2, 'TestVar1', 64);
  assert.equal(r.status, NOT_FOUND);
});

test('edk2 #52 Info.GetVariablePolicyInfo namespace-wide: the entry is returned without a name and the name area is zeroed', () => {
  const p = new VariablePolicy();
  const wide = entry({ name: undefined, maxSize: 77 });
  assert.equal(reg(p, wide), SUCCESS);
  const msg = infoMsg({ guid: GUID1, name: 'Whatever', capacity: 64 });
  const nameArea = 88 + encodeName('Whatever').length;
  msg.fill(0xee, nameArea, nameArea + 64);
  assert.equal(send(p, msg), SUCCESS);
  assert.equal(readInfo(msg).outputNameSize, 0);
  assert.deepEqual(readInfo(msg).policyEntry, wide);
  assert.ok(msg.subarray(nameArea, 88 + INFO_ROOM).every((b) => b === 0));
});

test('edk2 #53 Info.GetLockOnVariableStateVariablePolicyInfo namespace-wide: the state policy and state name are returned', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, STATE_WIDE), SUCCESS);
  const r = info(p, STATE_INFO, GUID1, 'Whatever', 64);
  assert.equal(r.status, SUCCESS);
  assert.deepEqual(readInfo(r.msg).policyEntry.slice(0, 18), STATE_WIDE.slice(44, 62));
  assert.deepEqual(readInfo(r.msg).name(18), encodeName('TestVar2'));
});

test('edk2 #54 Info.GetVariablePolicyInfo named: the entry header and the policy name are returned', () => {
  const p = new VariablePolicy();
  const e = entry({ name: 'Boot####', lockType: LOCK_NOW });
  assert.equal(reg(p, e), SUCCESS);
  const r = info(p, INFO, GUID1, 'Boot00A1', 64);
  assert.equal(r.status, SUCCESS);
  assert.deepEqual(readInfo(r.msg).policyEntry, e.slice(0, 44));
  assert.equal(readInfo(r.msg).outputNameSize, 18);
  assert.deepEqual(readInfo(r.msg).name(18), encodeName('Boot####'));
});

test('edk2 #55 Info.GetLockOnVariableStateVariablePolicyInfo named: the state policy and the state variable name are returned', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, STATE_NAMED), SUCCESS);
  const r = info(p, STATE_INFO, GUID2, 'TestVar1', 64);
  assert.equal(r.status, SUCCESS);
  const out = readInfo(r.msg);
  assert.deepEqual(out.policyEntry.slice(0, 18), STATE_NAMED.slice(44, 62));
  assert.ok(out.policyEntry.slice(18).every((b) => b === 0), 'rest of the union zeroed');
  assert.equal(out.outputNameSize, 18);
  assert.deepEqual(out.name(18), encodeName('TestVar2'));
});

test('edk2 #56 Info.GetVariablePolicyInfo no match → EFI_NOT_FOUND with the entry area zeroed', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, NAMED), SUCCESS);
  const r = info(p, INFO, GUID2, 'TestVar1', 64);
  assert.equal(r.status, NOT_FOUND);
  assert.ok(readInfo(r.msg).policyEntry.every((b) => b === 0));
  assert.equal(readInfo(r.msg).outputNameSize, 64, 'size left as sent');
});

test('edk2 #57 Info.GetLockOnVariableStateVariablePolicyInfo no match → EFI_NOT_FOUND', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, STATE_NAMED), SUCCESS);
  assert.equal(info(p, STATE_INFO, GUID2, 'TestVar9', 64).status, NOT_FOUND);
  assert.equal(info(p, STATE_INFO, GUID1, 'TestVar1', 64).status, NOT_FOUND);
});

test('edk2 #58 Info.GetLockOnVariableStateVariablePolicyInfo on a policy of another lock type → EFI_NOT_FOUND', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), SUCCESS);
  const r = info(p, STATE_INFO, GUID1, 'TestVar1', 64);
  assert.equal(r.status, NOT_FOUND);
  assert.equal(info(p, INFO, GUID1, 'TestVar1', 64).status, SUCCESS, 'GET_INFO does find it');
});

test('edk2 #59 Info.GetVariablePolicyInfo with several matches returns the most specific one', () => {
  const p = new VariablePolicy();
  const exact = entry({ name: 'Wild12Card34Placeholder', maxSize: 10 });
  for (const e of [entry({ name: undefined, maxSize: 60 }), entry({ name: 'Wild##Card##Placeholder', maxSize: 50 }), exact]) {
    assert.equal(reg(p, e), SUCCESS);
  }
  const r = info(p, INFO, GUID1, 'Wild12Card34Placeholder', 64);
  assert.equal(r.status, SUCCESS);
  assert.deepEqual(readInfo(r.msg).policyEntry, exact.slice(0, 44));
  const w = info(p, INFO, GUID1, 'Wild99Card99Placeholder', 64);
  assert.equal(new DataView(readInfo(w.msg).policyEntry.buffer).getUint32(28, true), 50);
});

test('edk2 #60 Info.GetLockOnVariableStateVariablePolicyInfo with several matches returns the most specific one', () => {
  const p = new VariablePolicy();
  const specific = entry({ name: 'TestVar#', state: { namespace: GUID3, value: 9, name: 'Specific' } });
  assert.equal(reg(p, entry({ name: undefined, state: { namespace: GUID2, value: 1, name: 'Broad' } })), SUCCESS);
  assert.equal(reg(p, specific), SUCCESS);
  const r = info(p, STATE_INFO, GUID1, 'TestVar1', 64);
  assert.equal(r.status, SUCCESS);
  assert.deepEqual(readInfo(r.msg).policyEntry.slice(0, 18), specific.slice(44, 62));
  assert.deepEqual(readInfo(r.msg).name(18), encodeName('Specific'));
  assert.equal(specific[40], LOCK_ON_VAR_STATE);
});
