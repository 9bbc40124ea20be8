/**
 * Malformed input for every VarCheckPolicy command, LOCK_VARIABLE and the
 * VarCheck property functions: each gets its status (QEMU's where a trace fixes
 * it, edk2's otherwise) and leaves the engine's state exactly as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EfiStatus, DeviceStatus } from '../../src/wire/status.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { VariablePolicy } from '../../src/policy/engine.js';
import type { PolicyContext } from '../../src/policy/engine.js';
import {
  AFTER_EOD, Cmd, DXE, FULL_MESSAGE, GUID1, GUID2, INFO_ROOM, LOCK_NOW, NO_LOCK, dumpMsg, entry, infoMsg, isEnabledMsg,
  answer, lockMsg, policyMsg, propertyMsg, readDump, registerMsg, result, send, st,
} from './builders.js';

const { SUCCESS, INVALID_PARAMETER, BAD_BUFFER_SIZE, WRITE_PROTECTED, ALREADY_STARTED, UNSUPPORTED, TIMEOUT, ACCESS_DENIED } = EfiStatus;

/** An engine with some of everything: named, wildcard, state and namespace policies and a property. */
function populated(): VariablePolicy {
  const p = new VariablePolicy();
  for (const e of [
    entry({ name: 'TestVar1', lockType: LOCK_NOW }),
    entry({ name: 'Boot####', minSize: 6 }),
    entry({ name: 'TestVar2', namespace: GUID2, state: { namespace: GUID1, value: 1, name: 'State' } }),
    entry({ name: undefined, namespace: GUID2, maxSize: 100 }),
  ]) assert.equal(send(p, registerMsg(e)), SUCCESS);
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'Prop', { property: 1 }), DXE)), SUCCESS);
  return p;
}

function expectRefused(p: VariablePolicy, msg: Uint8Array, status: bigint, what: string, c: PolicyContext = DXE): void {
  const before = p.snapshot();
  const a = answer(p, msg, c);
  assert.equal(a.deviceStatus, DeviceStatus.SUCCESS, `${what}: device status`);
  assert.equal(result(msg), status, `${what}: reason ${a.reason ?? 'none'}`);
  assert.deepEqual(p.snapshot(), before, `${what}: state unchanged`);
}

function withField(e: Uint8Array, off: number, v: number, bytes: 1 | 2 | 4): Uint8Array {
  const out = e.slice();
  const dv = new DataView(out.buffer);
  if (bytes === 1) out[off] = v; else if (bytes === 2) dv.setUint16(off, v, true); else dv.setUint32(off, v, true);
  return out;
}

test('a policy message shorter than its 20-byte header is device status 0x12 and is not touched', () => {
  const p = populated();
  for (const len of [0, 1, 12, 19]) {
    const msg = new Uint8Array(len).fill(0x11);
    assert.equal(answer(p, msg, DXE).deviceStatus, DeviceStatus.ERR_BAD_BUFFER_SIZE);
    assert.ok(msg.every((b) => b === 0x11));
  }
});

test('a wrong Signature or Revision is EFI_INVALID_PARAMETER for every command and nothing runs (edk2)', () => {
  const p = populated();
  const good = entry({ name: 'Fresh' });
  for (const command of [1, 2, 3, 4, 5, 6, 7]) {
    const params = command === Cmd.REGISTER ? good : new Uint8Array(0);
    expectRefused(p, policyMsg(command, params, { signature: 0x43504357, length: FULL_MESSAGE }), INVALID_PARAMETER, `signature, command ${command}`);
    expectRefused(p, policyMsg(command, params, { revision: 2, length: FULL_MESSAGE }), INVALID_PARAMETER, `revision, command ${command}`);
  }
  assert.equal(p.locked, false, 'LOCK with a bad header did not lock');
});

test('an unknown command is EFI_UNSUPPORTED', () => {
  const p = populated();
  for (const command of [0, 8, 99, 0xffffffff]) expectRefused(p, policyMsg(command, new Uint8Array(64)), UNSUPPORTED, `command ${command}`);
});

test('DISABLE on a platform that does not allow it is EFI_WRITE_PROTECTED and changes nothing', () => {
  const p = populated();
  expectRefused(p, policyMsg(Cmd.DISABLE), WRITE_PROTECTED, 'disable');
  expectRefused(p, policyMsg(Cmd.DISABLE, new Uint8Array(100)), WRITE_PROTECTED, 'disable with trailing bytes');
});

test('IS_ENABLED without room for State is EFI_BAD_BUFFER_SIZE (QEMU, trace policy-register seq 2)', () => {
  const p = populated();
  expectRefused(p, isEnabledMsg(20), BAD_BUFFER_SIZE, 'is-enabled 20');
});

test('REGISTER framing errors are EFI_BAD_BUFFER_SIZE in QEMU\'s order and change nothing', () => {
  const p = populated();
  const e = entry({ name: 'NewVar' });
  const state = entry({ name: 'NewVar', state: { namespace: GUID2, value: 3, name: 'S' } });
  const cases: [string, Uint8Array][] = [
    ['message 20', registerMsg(new Uint8Array(0))],
    ['message 63', registerMsg(e, { length: 63 })],
    ['Size past the message', registerMsg(e, { length: 20 + e.length - 1 })],
    ['Size 0', registerMsg(withField(e, 4, 0, 2))],
    ['Size 43', registerMsg(withField(e, 4, 43, 2))],
    ['Size 0xffff', registerMsg(withField(e, 4, 0xffff, 2))],
    ['OffsetToName 0', registerMsg(withField(e, 6, 0, 2))],
    ['OffsetToName 43', registerMsg(withField(e, 6, 43, 2))],
    ['type 3 OffsetToName 44', registerMsg(withField(state, 6, 44, 2))],
    ['type 3 OffsetToName 63', registerMsg(withField(state, 6, 63, 2))],
    ['OffsetToName past Size', registerMsg(withField(e, 6, e.length + 2, 2))],
  ];
  for (const [what, msg] of cases) expectRefused(p, msg, BAD_BUFFER_SIZE, what);
});

test('REGISTER structure errors are EFI_INVALID_PARAMETER and change nothing', () => {
  const p = populated();
  const e = entry({ name: 'NewVar' });
  const state = entry({ name: 'NewVar', state: { namespace: GUID2, value: 3, name: 'S' } });
  const surrogate = e.slice(); surrogate[46] = 0x00; surrogate[47] = 0xd8;
  const embedded = e.slice(); embedded[46] = 0; embedded[47] = 0;
  const stateNoNul = state.slice(); stateNoNul[64] = 0x41;
  const cases: [string, Uint8Array][] = [
    ['surrogate in the name (QEMU)', surrogate],
    ['name without NUL', withField(e, 4, e.length - 2, 2)],
    ['name cut in half', withField(e, 4, e.length - 1, 2)],
    ['NUL inside the name', embedded],
    ['Version 0x00020000', withField(e, 0, 0x00020000, 4)],
    ['MaxSize 0', withField(e, 28, 0, 4)],
    ['LockPolicyType 4', withField(e, 40, 4, 1)],
    ['no-lock OffsetToName 46', (() => { const x = new Uint8Array(e.length + 2); x.set(e.subarray(0, 44)); x.set(e.subarray(44), 46); return withField(withField(x, 4, x.length, 2), 6, 46, 2); })()],
    ['state name without NUL', stateNoNul],
    ['256 wildcards', entry({ name: '#'.repeat(256) })],
  ];
  for (const [what, raw] of cases) expectRefused(p, registerMsg(raw), INVALID_PARAMETER, what);
});

test('REGISTER of an existing target is EFI_ALREADY_STARTED, and after LOCK or EndOfDxe EFI_WRITE_PROTECTED', () => {
  const p = populated();
  expectRefused(p, registerMsg(entry({ name: 'TestVar1', lockType: NO_LOCK })), ALREADY_STARTED, 'same name');
  expectRefused(p, registerMsg(entry({ name: undefined, namespace: GUID2, maxSize: 5 })), ALREADY_STARTED, 'second namespace-wide');
  expectRefused(p, registerMsg(entry({ name: 'Fresh' })), WRITE_PROTECTED, 'after EndOfDxe (edk2 locks the interface)', AFTER_EOD);
  assert.equal(send(p, lockMsg()), SUCCESS);
  expectRefused(p, registerMsg(entry({ name: 'Fresh' })), WRITE_PROTECTED, 'after LOCK');
  expectRefused(p, registerMsg(new Uint8Array(3)), WRITE_PROTECTED, 'malformed after LOCK: the lock is checked first (QEMU)');
});

test('DUMP without room for a page is EFI_INVALID_PARAMETER; a page past the end too; pages without page 0 are EFI_TIMEOUT', () => {
  const p = populated();
  for (const len of [20, 33, FULL_MESSAGE - 1]) expectRefused(p, dumpMsg(0, len), INVALID_PARAMETER, `dump length ${len}`);
  expectRefused(p, dumpMsg(1), TIMEOUT, 'page 1 without page 0');
  const first = dumpMsg(0);
  assert.equal(send(p, first), SUCCESS);
  const beyond = dumpMsg(2);
  expectRefused(p, beyond, INVALID_PARAMETER, 'page 2 of a one-page table');
  assert.equal(readDump(beyond).totalSize, readDump(first).totalSize, 'TotalSize written even so (edk2)');
  const page1 = dumpMsg(1);
  assert.equal(send(p, page1), SUCCESS, 'the refused page did not drop the snapshot');
  expectRefused(p, dumpMsg(0xffffffff), TIMEOUT, 'after the last page the snapshot is gone');
});

test('any other command abandons a DUMP in progress (edk2 pagination cache)', () => {
  const p = populated();
  assert.equal(send(p, dumpMsg(0)), SUCCESS);
  assert.equal(send(p, isEnabledMsg()), SUCCESS);
  expectRefused(p, dumpMsg(1), TIMEOUT, 'page 1 after IS_ENABLED');
});

test('GET_INFO and GET_LOCK_VAR_STATE_INFO with bad sizes or an unterminated name are EFI_INVALID_PARAMETER', () => {
  const p = populated();
  for (const command of [Cmd.GET_INFO, Cmd.GET_LOCK_VAR_STATE_INFO]) {
    const base = { command, guid: GUID1, name: 'TestVar1', capacity: 64 };
    expectRefused(p, infoMsg({ ...base, length: 20 }), INVALID_PARAMETER, 'no parameters');
    expectRefused(p, infoMsg({ ...base, length: FULL_MESSAGE - 1 }), INVALID_PARAMETER, 'one byte short');
    expectRefused(p, infoMsg({ ...base, inputNameSize: INFO_ROOM + 1 }), INVALID_PARAMETER, 'input name larger than the room');
    expectRefused(p, infoMsg({ ...base, inputNameSize: 0 }), INVALID_PARAMETER, 'input name size 0');
    expectRefused(p, infoMsg({ ...base, nameBytes: encodeName('TestVar1').subarray(0, 16) }), INVALID_PARAMETER, 'no NUL');
    expectRefused(p, infoMsg({ ...base, nameBytes: encodeName('TestVar1').subarray(0, 17) }), INVALID_PARAMETER, 'odd, no NUL');
  }
});

test('GET_INFO caps the offered name capacity at the room left in the message', () => {
  const p = populated();
  const m = infoMsg({ guid: GUID1, name: 'TestVar1', capacity: 0xffffffff });
  assert.equal(send(p, m), SUCCESS);
  assert.equal(new DataView(m.buffer).getUint32(40, true), 18);
  // A 16262-byte input name leaves 10 bytes: "TestVar1" (18) cannot fit whatever the guest offers.
  const padded = new Uint8Array(INFO_ROOM - 10);
  padded.set(encodeName('TestVar1'));
  const tight = infoMsg({ guid: GUID1, name: '', capacity: 0xffffffff, nameBytes: padded });
  assert.equal(send(p, tight), EfiStatus.BUFFER_TOO_SMALL);
  assert.equal(new DataView(tight.buffer).getUint32(40, true), 18);
  assert.equal(tight.length, FULL_MESSAGE);
});

test('LOCK_VARIABLE: too long, after EndOfDxe, after LOCK, or over a non-LOCK_NOW policy is refused and changes nothing', () => {
  const p = populated();
  const check = (name: Uint8Array, status: bigint, what: string, c: PolicyContext = DXE) => {
    const before = p.snapshot();
    assert.equal(st(p.lockVariable(GUID1, name, c)), status, what);
    assert.deepEqual(p.snapshot(), before, what);
  };
  check(new Uint8Array(65535 - 44 + 1), BAD_BUFFER_SIZE, 'entry Size would not fit a u16');
  check(encodeName('Fresh'), ACCESS_DENIED, 'after EndOfDxe (edk2)', AFTER_EOD);
  check(encodeName('Boot####'), ALREADY_STARTED, 'an exact NO_LOCK policy exists');
  check(encodeName('#'.repeat(256)), INVALID_PARAMETER, 'more than 255 wildcards');
  assert.equal(st(p.lockVariable(GUID1, encodeName('TestVar1'), DXE)), SUCCESS, 'already locked by LOCK_NOW: fine');
  assert.equal(send(p, lockMsg()), SUCCESS);
  check(encodeName('Fresh'), WRITE_PROTECTED, 'after the policy LOCK (edk2 RegisterVariablePolicy)');
});

test('VarCheck property functions: short, name past the message, unterminated, empty or bad revision are refused, nothing stored', () => {
  const p = populated();
  const cases: [string, Uint8Array, bigint][] = [
    ['short', propertyMsg(9, GUID1, 'X').subarray(0, 63), BAD_BUFFER_SIZE],
    ['NameSize past the message', propertyMsg(9, GUID1, 'X', {}, { nameSize: 5 }), ACCESS_DENIED],
    ['NameSize 0', propertyMsg(9, GUID1, 'X', {}, { nameSize: 0 }), ACCESS_DENIED],
    ['no NUL at the end', propertyMsg(9, GUID1, 'X', {}, { nameBytes: Uint8Array.of(0x58, 0, 0x59, 0) }), ACCESS_DENIED],
    ['empty name', propertyMsg(9, GUID1, ''), INVALID_PARAMETER],
    ['revision 2', propertyMsg(9, GUID1, 'X', { revision: 2 }), INVALID_PARAMETER],
  ];
  for (const [what, msg, status] of cases) {
    const before = p.snapshot();
    const copy = msg.slice();
    assert.equal(st(p.setVariableProperty(msg, DXE)), status, `set: ${what}`);
    assert.deepEqual(p.snapshot(), before, what);
    if (status !== INVALID_PARAMETER) assert.equal(st(p.getVariableProperty(copy, DXE)), status, `get: ${what}`);
  }
  const before = p.snapshot();
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'Y'), AFTER_EOD)), ACCESS_DENIED, 'set after EndOfDxe');
  assert.deepEqual(p.snapshot(), before);
});
