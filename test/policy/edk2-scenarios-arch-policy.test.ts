/**
 * edk2 VariablePolicyUnitTest scenarios 1-34 (../shared/vectors/reference/
 * edk2-variablepolicy-unit-test-scenarios.md), driven through the VarCheckPolicy
 * MM messages and the SetVariable check. Where QEMU's recorded status differs
 * from edk2's library status for the same input, the test asserts QEMU's and
 * says so (spec §5.3: QEMU's framing statuses are kept for replay).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EfiStatus } from '../../src/wire/status.js';
import { VariablePolicy } from '../../src/policy/engine.js';
import { validateEntry } from '../../src/policy/entry.js';
import { matchPriority, namePriority } from '../../src/policy/match.js';
import {
  AFTER_EOD, AT, BS, Cmd, DXE, GUID1, GUID2, GUID3, LOCK_NOW, LOCK_ON_CREATE, LOCK_ON_VAR_STATE, NO_LOCK, NV, RT, Vars,
  ctx, disableMsg, dumpAll, dumpMsg, entry, isEnabledMsg, judge, lockMsg, policyMsg, readDump, registerMsg, send, write,
} from './builders.js';

const { SUCCESS, INVALID_PARAMETER, BAD_BUFFER_SIZE, WRITE_PROTECTED, ALREADY_STARTED, ABORTED, NOT_READY } = EfiStatus;

function reg(p: VariablePolicy, e: Uint8Array): bigint { return send(p, registerMsg(e)); }

// ── Suite VarPolicy.Arch: a device has no uninitialised library, so these check the device equivalents.

test('edk2 #1 Arch.InitDeinit: a new engine is ready (enabled, empty) and reset returns it to that state', () => {
  const p = new VariablePolicy();
  const m = isEnabledMsg();
  assert.equal(send(p, m), SUCCESS);
  assert.equal(m[20], 1);
  assert.equal(reg(p, entry({ name: 'TestVar1' })), SUCCESS);
  assert.equal(dumpAll(p).length, 44 + 18);
  p.reset();
  assert.equal(dumpAll(p).length, 0);
  assert.equal(p.policyCount, 0);
  assert.equal(send(p, isEnabledMsg()), SUCCESS);
});

test('edk2 #2 Arch.InitTwice: two engines never share a table (no hidden global state to initialise twice)', () => {
  const a = new VariablePolicy();
  const b = new VariablePolicy();
  assert.equal(reg(a, entry({ name: 'TestVar1' })), SUCCESS);
  assert.equal(a.policyCount, 1);
  assert.equal(b.policyCount, 0);
  assert.equal(reg(b, entry({ name: 'TestVar1' })), SUCCESS, 'not a duplicate in the other engine');
});

test('edk2 #3 Arch.ShouldFailDeinitWithoutInit: reset of a fresh engine is harmless and leaves it usable', () => {
  const p = new VariablePolicy();
  p.reset();
  p.reset();
  assert.equal(reg(p, entry({ name: 'TestVar1' })), SUCCESS);
  assert.equal(p.policyCount, 1);
});

test('edk2 #4 Arch.UninitApiOff: no API ever answers EFI_NOT_READY; each gives its ready-state answer from construction on', () => {
  const p = new VariablePolicy();
  const answers = [
    send(p, registerMsg(entry({ name: 'TestVar1' }))),
    send(p, dumpMsg(0)),
    send(p, disableMsg()),
    write(p, { name: 'TestVar1', dataSize: 8 }),
    send(p, lockMsg()),
  ];
  assert.ok(answers.every((s) => s !== NOT_READY));
  assert.deepEqual(answers, [SUCCESS, SUCCESS, WRITE_PROTECTED, SUCCESS, SUCCESS]);
  assert.equal(p.locked, true);
});

// ── Suite VarPolicy.Internal: name matching

test('edk2 #5 Internal.NameGuid: a policy applies only when both name and namespace GUID match', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar2' }), SUCCESS);
  assert.equal(write(p, { guid: GUID2, name: 'TestVar1' }), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1' }), WRITE_PROTECTED);
});

test('edk2 #6 Internal.WildDigits: "#" matches exactly one hex digit, never a letter beyond F or a literal "#"', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'Wildcard#VarName##', lockType: LOCK_NOW })), SUCCESS);
  for (const n of ['Wildcard1VarName12', 'Wildcard2VarName34', 'WildcardBVarName56', 'WildcardFVarName0A', 'WildcardfVarName0a']) {
    assert.equal(write(p, { name: n }), WRITE_PROTECTED, n);
  }
  for (const n of ['WildcardZVarName56', 'WildcardLVarName56', 'Wildcard#VarName56', 'WildcardVarName56', 'Wildcard1VarName123']) {
    assert.equal(write(p, { name: n }), SUCCESS, n);
  }
});

test('edk2 #7 Internal.WildDigitsAdvanced: 300 "#" match any 300 hex digits, not 299 or 301, at saturated priority 255', () => {
  const pattern = '#'.repeat(300);
  const digits = '0123456789'.repeat(30);
  const hex = 'ABCDEFabcdef0123456789DEADBEEF'.repeat(10);
  assert.equal(namePriority(pattern, digits), 255);
  assert.equal(namePriority(pattern, hex), 255);
  assert.equal(namePriority(pattern, digits.slice(1)), undefined);
  assert.equal(namePriority(pattern, digits + '0'), undefined);
  assert.equal(namePriority(pattern, '0123456789'.repeat(5)), undefined);
});

test('edk2 #8 Internal.WildNamespace: a policy without a name covers every name in its namespace and nothing outside', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: undefined, lockType: LOCK_NOW })), SUCCESS);
  for (const n of ['TestVar1', 'TestVar2', 'Wildcard#VarName##', 'Boot0001']) assert.equal(write(p, { name: n }), WRITE_PROTECTED, n);
  assert.equal(write(p, { guid: GUID2, name: 'TestVar1' }), SUCCESS);
  assert.equal(write(p, { guid: GUID3, name: 'TestVar1' }), SUCCESS);
});

test('edk2 #9 Internal.Priorities: exact 0, one per wildcard, namespace-wide 255', () => {
  const named = (name: string | undefined) => {
    const e = validateEntry(entry({ name }));
    assert.ok(typeof e !== 'string');
    return e;
  };
  assert.equal(matchPriority(named('Wildcard1VarName12'), GUID1, 'Wildcard1VarName12'), 0);
  assert.equal(matchPriority(named('Wildcard#VarName12'), GUID1, 'Wildcard1VarName12'), 1);
  assert.equal(matchPriority(named('Wildcard#VarName#2'), GUID1, 'Wildcard1VarName12'), 2);
  assert.equal(matchPriority(named('Wildcard#VarName##'), GUID1, 'Wildcard1VarName12'), 3);
  assert.equal(matchPriority(named(undefined), GUID1, 'Wildcard1VarName12'), 255);
  assert.equal(matchPriority(named(undefined), GUID2, 'Wildcard1VarName12'), undefined);
});

// ── Suite VarPolicy.Policy: registration

test('edk2 #10 Policy.AllowNamespace: a namespace-wide policy (OffsetToName == Size) registers', () => {
  const p = new VariablePolicy();
  const e = entry({ name: undefined });
  assert.equal(e.length, 44);
  assert.equal(reg(p, e), SUCCESS);
  assert.deepEqual(dumpAll(p), e);
});

test('edk2 #11 Policy.AllowStateNamespace: a namespace-wide LOCK_ON_VAR_STATE policy registers', () => {
  const p = new VariablePolicy();
  const e = entry({ name: undefined, state: { namespace: GUID2, value: 1, name: 'TestVar2' } });
  assert.equal(reg(p, e), SUCCESS);
  assert.deepEqual(dumpAll(p), e);
});

test('edk2 #12 Policy.NullPointers: REGISTER without an entry is refused (QEMU EFI_BAD_BUFFER_SIZE; edk2 EFI_INVALID_PARAMETER)', () => {
  const p = new VariablePolicy();
  assert.equal(send(p, policyMsg(Cmd.REGISTER)), BAD_BUFFER_SIZE);
  assert.equal(send(p, policyMsg(Cmd.REGISTER, new Uint8Array(43))), BAD_BUFFER_SIZE);
  assert.equal(p.policyCount, 0);
});

test('edk2 #13 Policy.BadRevisions: Version other than 0x00010000 is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  for (const version of [0, 0x00020000, 0x00000001, 7]) {
    assert.equal(reg(p, entry({ name: 'TestVar1', version })), INVALID_PARAMETER, `version ${version}`);
  }
  assert.equal(p.policyCount, 0);
});

test('edk2 #14 Policy.BadSizes: Size smaller than the 44-byte header is refused (QEMU EFI_BAD_BUFFER_SIZE)', () => {
  const p = new VariablePolicy();
  for (const size of [0, 1, 43]) assert.equal(reg(p, entry({ name: 'TestVar1', size })), BAD_BUFFER_SIZE, `size ${size}`);
  assert.equal(p.policyCount, 0);
});

test('edk2 #15 Policy.BadOffsets: OffsetToName beyond Size, inside the header, inside the state policy or 0xFFFF is refused (QEMU EFI_BAD_BUFFER_SIZE)', () => {
  const p = new VariablePolicy();
  const state = { namespace: GUID2, value: 1, name: 'TestVar2' };
  const good = entry({ name: 'TestVar1', state });
  const size = good.length;
  for (const offsetToName of [size + 1, 44 - 2, 44 + 2, 0xffff]) {
    assert.equal(reg(p, entry({ name: 'TestVar1', state, offsetToName })), BAD_BUFFER_SIZE, `offset ${offsetToName}`);
  }
  assert.equal(p.policyCount, 0);
  assert.equal(reg(p, good), SUCCESS);
});

test('edk2 #16 Policy.MissingStateString: LOCK_ON_VAR_STATE without a state name is refused (QEMU: OffsetToName < 64 → EFI_BAD_BUFFER_SIZE)', () => {
  const p = new VariablePolicy();
  // The variable name sits where the state name should be: OffsetToName = 44 + 18.
  const e = entry({ name: 'TestVar1', lockType: LOCK_ON_VAR_STATE });
  const v = new DataView(e.buffer);
  const name = e.slice(44);
  const fixed = new Uint8Array(62 + name.length);
  fixed.set(e.subarray(0, 44));
  fixed.set(name, 62);
  new DataView(fixed.buffer).setUint16(4, fixed.length, true);
  new DataView(fixed.buffer).setUint16(6, 62, true);
  assert.equal(v.getUint16(6, true), 44);
  assert.equal(reg(p, fixed), BAD_BUFFER_SIZE);
  assert.equal(p.policyCount, 0);
});

test('edk2 #17 Policy.MissingNull: a name or state name not NUL-terminated at its boundary is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  const state = { namespace: GUID2, value: 1, name: 'TestVar2' };
  const good = entry({ name: 'TestVar1', state });
  // Name without its NUL: Size two bytes short.
  assert.equal(reg(p, entry({ name: 'TestVar1', state, size: good.length - 2 })), INVALID_PARAMETER);
  // State name without its NUL: the variable name moved up over it.
  const e = entry({ name: 'TestVar1', state });
  const off = 62 + 16; // 'TestVar2' without NUL
  const moved = new Uint8Array(off + 18);
  moved.set(e.subarray(0, off));
  moved.set(e.subarray(e.length - 18), off);
  new DataView(moved.buffer).setUint16(4, moved.length, true);
  new DataView(moved.buffer).setUint16(6, off, true);
  assert.equal(reg(p, moved), INVALID_PARAMETER);
  assert.equal(p.policyCount, 0);
  assert.equal(reg(p, good), SUCCESS);
});

test('edk2 #18 Policy.MalformedStrings: a Size or OffsetToName that cuts a CHAR16 in half is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  const state = { namespace: GUID2, value: 1, name: 'TestVar2' };
  const good = entry({ name: 'TestVar1', state });
  assert.equal(reg(p, entry({ name: 'TestVar1', state, size: good.length - 1 })), INVALID_PARAMETER);
  const off = 62 + 17;
  const shifted = new Uint8Array(off + 18);
  shifted.set(good.subarray(0, off));
  shifted.set(good.subarray(good.length - 18), off);
  new DataView(shifted.buffer).setUint16(4, shifted.length, true);
  new DataView(shifted.buffer).setUint16(6, off, true);
  assert.equal(reg(p, shifted), INVALID_PARAMETER);
  assert.equal(p.policyCount, 0);
});

test('edk2 #19 Policy.PolicyPacking: padding between the fixed part and the name is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  for (const state of [{ namespace: GUID2, value: 1, name: 'TestVar2' }, undefined]) {
    const e = entry(state ? { name: 'TestVar1', state } : { name: 'TestVar1' });
    const off = (state ? 62 + 18 : 44) + 2;
    const padded = new Uint8Array(e.length + 2);
    padded.set(e.subarray(0, off - 2));
    padded.set(e.subarray(off - 2), off);
    new DataView(padded.buffer).setUint16(4, padded.length, true);
    new DataView(padded.buffer).setUint16(6, off, true);
    assert.equal(reg(p, padded), INVALID_PARAMETER, state ? 'state policy' : 'no lock');
  }
  assert.equal(p.policyCount, 0);
});

test('edk2 #20 Policy.InvalidCharacters: no character is refused, and "#" in a state name is literal', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'Any !*?\u00e9\u4e2d name', lockType: LOCK_NOW })), SUCCESS);
  assert.equal(reg(p, entry({ name: 'TestVar1', state: { namespace: GUID2, value: 1, name: 'State#1' } })), SUCCESS);
  const vars = new Vars().set(GUID2, 'State11', Uint8Array.of(1));
  assert.equal(write(p, { name: 'TestVar1' }, ctx({ endOfDxe: true, vars })), SUCCESS, '"#" did not match the digit');
  vars.set(GUID2, 'State#1', Uint8Array.of(1));
  assert.equal(write(p, { name: 'TestVar1' }, ctx({ endOfDxe: true, vars })), WRITE_PROTECTED);
});

test('edk2 #21 Policy.BadConstraints: MaxSize 0 is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', maxSize: 0 })), INVALID_PARAMETER);
  assert.equal(reg(p, entry({ name: 'TestVar1', maxSize: 1 })), SUCCESS);
});

test('edk2 #22 Policy.BadLocks: LockPolicyType above LOCK_ON_VAR_STATE is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  for (const lockType of [4, 9, 0xff]) assert.equal(reg(p, entry({ name: 'TestVar1', lockType })), INVALID_PARAMETER);
  assert.equal(p.policyCount, 0);
});

test('edk2 #23 Policy.TooManyWildcards: 300 "#" is EFI_INVALID_PARAMETER; 255 is the most that registers', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: '#'.repeat(300) })), INVALID_PARAMETER);
  assert.equal(reg(p, entry({ name: '#'.repeat(256) })), INVALID_PARAMETER);
  assert.equal(reg(p, entry({ name: '#'.repeat(255) })), SUCCESS);
});

test('edk2 #24 Policy.DuplicatePolicies: the identical policy twice → EFI_ALREADY_STARTED, one entry kept', () => {
  const p = new VariablePolicy();
  const e = entry({ name: 'TestVar1' });
  assert.equal(reg(p, e), SUCCESS);
  assert.equal(reg(p, e), ALREADY_STARTED);
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), ALREADY_STARTED, 'same target, other type');
  assert.deepEqual(dumpAll(p), e);
});

// ── Suite VarPolicy.Policy: enforcement (after EndOfDxe, spec §5.5)

test('edk2 #25 Policy.MinMax: sizes outside [MinSize, MaxSize] are EFI_INVALID_PARAMETER; no policy, no limit', () => {
  const p = new VariablePolicy();
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS, dataSize: 201 }), SUCCESS);
  assert.equal(reg(p, entry({ name: 'TestVar1', minSize: 10, maxSize: 200 })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS, dataSize: 201 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS, dataSize: 9 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS, dataSize: 11 }), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS, dataSize: 200 }), SUCCESS);
});

test('edk2 #26 Policy.AttrMust: missing any AttributesMustHave bit is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  assert.equal(write(p, { name: 'TestVar1', attributes: 0, dataSize: 12 }), SUCCESS);
  assert.equal(reg(p, entry({ name: 'TestVar1', mustHave: NV | BS | RT })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', attributes: 0, dataSize: 12 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'TestVar1', attributes: BS | RT | AT, dataSize: 12 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS | RT, dataSize: 12 }), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS | RT | AT, dataSize: 12 }), SUCCESS);
});

test('edk2 #27 Policy.AttrCant: any AttributesCantHave bit is EFI_INVALID_PARAMETER', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', cantHave: AT })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', attributes: AT, dataSize: 12 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'TestVar1', attributes: BS | RT | AT, dataSize: 12 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS | RT, dataSize: 12 }), SUCCESS);
});

test('edk2 #28 Policy.DeleteIgnoreSize: a delete (DataSize 0) skips the size check that refuses a short write', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', minSize: 10 })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS, dataSize: 9, exists: true }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'TestVar1', attributes: NV | BS, dataSize: 0, exists: true }), SUCCESS);
});

test('edk2 #29 Policy.LockNow: once registered, every create, update and delete is EFI_WRITE_PROTECTED', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', exists: false }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'TestVar1', exists: true }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'TestVar1', dataSize: 0, exists: true }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'TestVar1' }, DXE), SUCCESS, 'not enforced before EndOfDxe');
});

test('edk2 #30 Policy.LockOnCreate: writable while the variable does not exist, EFI_WRITE_PROTECTED once it does', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_ON_CREATE })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', exists: false }), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1', exists: true }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'TestVar1', dataSize: 0, exists: true }), WRITE_PROTECTED);
});

const STATE = { namespace: GUID2, value: 20, name: 'TestVar2' };

test('edk2 #31 Policy.LockState: locked only when the state variable holds exactly one byte equal to Value', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', state: STATE })), SUCCESS);
  const vars = new Vars();
  const c = ctx({ endOfDxe: true, vars });
  assert.equal(write(p, { name: 'TestVar1' }, c), SUCCESS, 'state variable missing');
  vars.set(GUID2, 'TestVar2', new Uint8Array(10).fill(20));
  assert.equal(write(p, { name: 'TestVar1' }, c), SUCCESS, 'wrong size');
  vars.set(GUID2, 'TestVar2', Uint8Array.of(0));
  assert.equal(write(p, { name: 'TestVar1' }, c), SUCCESS, 'value 0');
  vars.set(GUID2, 'TestVar2', Uint8Array.of(10));
  assert.equal(write(p, { name: 'TestVar1' }, c), SUCCESS, 'value 10');
  vars.set(GUID2, 'TestVar2', Uint8Array.of(20));
  assert.equal(write(p, { name: 'TestVar1' }, c), WRITE_PROTECTED, 'value 20');
  assert.equal(write(p, { name: 'TestVar3' }, c), SUCCESS, 'other names untouched');
});

test('edk2 #32 Policy.NamespaceLockState: a namespace-wide LOCK_ON_VAR_STATE locks every name in the namespace alike', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: undefined, state: STATE })), SUCCESS);
  const vars = new Vars();
  const c = ctx({ endOfDxe: true, vars });
  assert.equal(write(p, { name: 'TestVar1' }, c), SUCCESS);
  assert.equal(write(p, { name: 'TestVar3' }, c), SUCCESS);
  vars.set(GUID2, 'TestVar2', Uint8Array.of(20));
  assert.equal(write(p, { name: 'TestVar1' }, c), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'TestVar3' }, c), WRITE_PROTECTED);
  assert.equal(write(p, { guid: GUID3, name: 'TestVar1' }, c), SUCCESS);
});

test('edk2 #33 Policy.LockStateErrors: a state probe that fails other than not-found/too-small fails closed (EFI_ABORTED)', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', state: STATE })), SUCCESS);
  const failing = ctx({ endOfDxe: true, getVariable: () => { throw new Error('storage unavailable'); } });
  assert.equal(write(p, { name: 'TestVar1' }, failing), ABORTED);
  assert.equal(judge(p, { name: 'TestVar1' }, failing).reason, 'state-probe-failed');
  assert.equal(write(p, { name: 'TestVar1' }, ctx({ endOfDxe: true })), SUCCESS, 'not found: unlocked');
});

test('edk2 #34 Policy.BestMatch: each write is judged by the most specific matching policy only', () => {
  const p = new VariablePolicy();
  const specs: [string | undefined, number][] = [
    [undefined, 60], ['Wild##Card##Placeholder', 50], ['Wild##Card#4Placeholder', 40],
    ['Wild##Card34Placeholder', 30], ['Wild#2Card34Placeholder', 20], ['Wild12Card34Placeholder', 10],
  ];
  for (const [name, maxSize] of specs) assert.equal(reg(p, entry({ name, maxSize, lockType: NO_LOCK })), SUCCESS);
  const cases: [string, number, number][] = [
    ['ArbitraryName', 65, 55], ['Wild77Card77Placeholder', 55, 45], ['Wild77Card74Placeholder', 45, 35],
    ['Wild77Card34Placeholder', 35, 25], ['Wild72Card34Placeholder', 25, 15], ['Wild12Card34Placeholder', 15, 5],
  ];
  for (const [name, refused, allowed] of cases) {
    assert.equal(write(p, { name, dataSize: refused }), INVALID_PARAMETER, `${name} ${refused}`);
    assert.equal(write(p, { name, dataSize: allowed }), SUCCESS, `${name} ${allowed}`);
  }
});

test('registered policies are enforced from EndOfDxe on only (spec §5.5)', () => {
  const p = new VariablePolicy();
  assert.equal(reg(p, entry({ name: 'TestVar1', lockType: LOCK_NOW })), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1' }, DXE), SUCCESS);
  assert.equal(write(p, { name: 'TestVar1' }, AFTER_EOD), WRITE_PROTECTED);
  const m = dumpMsg(0);
  assert.equal(send(p, m), SUCCESS);
  assert.equal(readDump(m).totalSize, 62, 'enforcement did not alter the table');
});
