/**
 * The engine's life cycle and interfaces beyond the edk2 unit-test scenarios:
 * DUMP paging of large tables, LOCK_VARIABLE policies, reset, snapshot/restore,
 * the lockAtEndOfDxe switch, and checkSetVariable details (spec §5.5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EfiStatus } from '../../src/wire/status.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { VariablePolicy, PolicySnapshotError } from '../../src/policy/engine.js';
import {
  AFTER_EOD, AP, BS, DUMP_PAGE, DXE, GUID1, GUID2, LOCK_NOW, NV, RT, disableMsg, dumpAll, dumpMsg, entry, isEnabledMsg,
  answer, judge, lockMsg, propertyMsg, readDump, registerMsg, send, st, write,
} from './builders.js';

const { SUCCESS, INVALID_PARAMETER, WRITE_PROTECTED, ACCESS_DENIED } = EfiStatus;

test('DUMP pages a table larger than one page in 16327-byte pages, HasMore until the last, concatenating to the table', () => {
  const p = new VariablePolicy();
  const entries: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const e = entry({ name: `Policy${String(i).padStart(4, '0')}${'x'.repeat(60)}`, maxSize: i + 1 });
    entries.push(e);
    assert.equal(send(p, registerMsg(e)), SUCCESS);
  }
  const table = Uint8Array.from(entries.flatMap((e) => [...e]));
  const pages = Math.ceil(table.length / DUMP_PAGE);
  assert.ok(pages >= 3);
  const first = dumpMsg(0);
  assert.equal(send(p, first), SUCCESS);
  assert.equal(readDump(first).totalSize, table.length);
  const got: number[] = [];
  for (let page = 1; page <= pages; page++) {
    const m = dumpMsg(page);
    assert.equal(send(p, m), SUCCESS);
    const d = readDump(m);
    assert.equal(d.pageSize, page < pages ? DUMP_PAGE : table.length - (pages - 1) * DUMP_PAGE);
    assert.equal(d.hasMore, page < pages ? 1 : 0);
    got.push(...d.data);
  }
  assert.deepEqual(Uint8Array.from(got), table);
});

test('DUMP of a table that is an exact multiple of the page sends a full last page (edk2 would send 0 bytes)', () => {
  const p = new VariablePolicy();
  const size = 2 * DUMP_PAGE;
  const e = entry({ name: 'N'.repeat((size - 44) / 2 - 1) });
  assert.equal(e.length, size);
  assert.equal(send(p, registerMsg(e)), SUCCESS);
  const last = (send(p, dumpMsg(0)), send(p, dumpMsg(1)), dumpMsg(2));
  assert.equal(send(p, last), SUCCESS);
  assert.equal(readDump(last).pageSize, DUMP_PAGE);
  assert.deepEqual(readDump(last).data, e.subarray(DUMP_PAGE));
  assert.deepEqual(dumpAll(p), e);
});

test('LOCK_VARIABLE registers the LOCK_NOW policy edk2 CreateBasicVariablePolicy builds (zero padding, MaxSize none)', () => {
  const p = new VariablePolicy();
  assert.equal(st(p.lockVariable(GUID1, encodeName('Locked'), DXE)), SUCCESS);
  assert.deepEqual(dumpAll(p), entry({ name: 'Locked', lockType: LOCK_NOW }));
  assert.equal(write(p, { name: 'Locked', exists: true }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'Locked', dataSize: 0, exists: true }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'Other' }), SUCCESS);
});

test('LOCK_VARIABLE of the same name twice succeeds with one policy (edk2 IsVariableAlreadyLocked; trace lock-variable seq 4)', () => {
  const p = new VariablePolicy();
  assert.equal(st(p.lockVariable(GUID1, encodeName('Locked'), DXE)), SUCCESS);
  assert.equal(st(p.lockVariable(GUID1, encodeName('Locked'), DXE)), SUCCESS);
  assert.equal(p.policyCount, 1);
});

test('LOCK_VARIABLE takes the name up to its first NUL or the end of NameSize, like QEMU\'s name compare', () => {
  const p = new VariablePolicy();
  const junk = Uint8Array.from([...encodeName('Abc'), 0x41, 0x00, 0x42]);
  assert.equal(st(p.lockVariable(GUID1, junk, DXE)), SUCCESS);
  const noNul = encodeName('Xyz').subarray(0, 6);
  assert.equal(st(p.lockVariable(GUID2, noNul, DXE)), SUCCESS);
  assert.equal(write(p, { name: 'Abc' }), WRITE_PROTECTED);
  assert.equal(write(p, { guid: GUID2, name: 'Xyz' }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'AbcA' }), SUCCESS);
});

test('reset drops policies, properties, LOCK and DISABLE (spec §5.5: OVMF re-registers each boot)', () => {
  const p = new VariablePolicy({ allowDisable: true });
  assert.equal(send(p, registerMsg(entry({ name: 'A', lockType: LOCK_NOW }))), SUCCESS);
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'B', { property: 1 }), DXE)), SUCCESS);
  assert.equal(send(p, disableMsg()), SUCCESS);
  assert.equal(send(p, lockMsg()), SUCCESS);
  p.reset();
  assert.deepEqual(p.snapshot(), { entries: [], locked: false, disabled: false, properties: [] });
  assert.equal(write(p, { name: 'B' }), SUCCESS);
  assert.equal(send(p, registerMsg(entry({ name: 'A', lockType: LOCK_NOW }))), SUCCESS);
});

test('snapshot/restore carries policies, properties and both flags, and the restored engine judges alike', () => {
  const p = new VariablePolicy({ allowDisable: true });
  const a = entry({ name: 'Boot####', maxSize: 8, padding: 0xaf });
  assert.equal(send(p, registerMsg(a)), SUCCESS);
  assert.equal(st(p.lockVariable(GUID2, encodeName('Locked'), DXE)), SUCCESS);
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'Ro', { property: 1 }), DXE)), SUCCESS);
  assert.equal(send(p, lockMsg()), SUCCESS);
  const snap = p.snapshot();
  const q = VariablePolicy.restore(snap, { allowDisable: true });
  assert.deepEqual(q.snapshot(), snap);
  assert.equal(q.locked, true);
  assert.deepEqual(dumpAll(q), dumpAll(p));
  for (const w of [{ name: 'Boot0001', dataSize: 9 }, { guid: GUID2, name: 'Locked' }, { name: 'Ro' }, { name: 'Free' }]) {
    assert.equal(write(q, w), write(p, w), JSON.stringify(w));
  }
  snap.entries[0]![0] = 0xff; // the snapshot is a copy
  assert.equal(dumpAll(q)[0], a[0]);
  const d = VariablePolicy.restore({ entries: [], locked: false, disabled: true });
  assert.equal(write(d, { name: 'x' }), SUCCESS);
  const m = isEnabledMsg();
  send(d, m);
  assert.equal(m[20], 0);
});

test('restore refuses a snapshot whose entry is not a valid policy', () => {
  const bad = entry({ name: 'X', maxSize: 0 });
  assert.throws(() => VariablePolicy.restore({ entries: [bad], locked: false, disabled: false }),
    (e: unknown) => e instanceof PolicySnapshotError && e.reason === 'max-size-zero');
  assert.throws(() => VariablePolicy.restore({ entries: [new Uint8Array(10)], locked: false, disabled: false }), PolicySnapshotError);
});

test('with lockAtEndOfDxe off (QEMU behaviour) REGISTER and DISABLE still work after EndOfDxe; LOCK_VARIABLE stays edk2', () => {
  const p = new VariablePolicy({ lockAtEndOfDxe: false, allowDisable: true });
  assert.equal(send(p, registerMsg(entry({ name: 'Late', lockType: LOCK_NOW })), AFTER_EOD), SUCCESS);
  assert.equal(write(p, { name: 'Late' }), WRITE_PROTECTED);
  assert.equal(st(p.lockVariable(GUID1, encodeName('Later'), AFTER_EOD)), ACCESS_DENIED);
  assert.equal(send(p, disableMsg(), AFTER_EOD), SUCCESS);
  const q = new VariablePolicy({ allowDisable: true });
  assert.equal(send(q, disableMsg(), AFTER_EOD), WRITE_PROTECTED, 'edk2 default: locked at EndOfDxe');
});

test('enforcement compares the guest\'s attributes with APPEND_WRITE included, and an append of 0 bytes is not a delete (edk2)', () => {
  const p = new VariablePolicy();
  assert.equal(send(p, registerMsg(entry({ name: 'NoAppend', cantHave: AP }))), SUCCESS);
  assert.equal(send(p, registerMsg(entry({ name: 'Min4', minSize: 4 }))), SUCCESS);
  assert.equal(write(p, { name: 'NoAppend', attributes: NV | BS | RT | AP }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'NoAppend', attributes: NV | BS | RT }), SUCCESS);
  assert.equal(write(p, { name: 'Min4', attributes: NV | BS | AP, dataSize: 0 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'Min4', attributes: NV | BS, dataSize: 0 }), SUCCESS);
});

test('each decision names the rule behind its refusal, and none on success', () => {
  const p = new VariablePolicy();
  assert.equal(answer(p, registerMsg(entry({ name: 'A', lockType: LOCK_NOW }))).reason, undefined);
  assert.equal(judge(p, { name: 'A' }).reason, 'locked-now');
  assert.equal(answer(p, registerMsg(entry({ name: 'A' }))).reason, 'duplicate-policy');
  assert.equal(answer(p, dumpMsg(3)).reason, 'dump-expired');
  assert.equal(judge(p, { name: 'B' }).reason, undefined);
});

test('equal match priority goes to the policy registered first (edk2 GetBestPolicyMatch keeps the earlier one)', () => {
  const p = new VariablePolicy();
  assert.equal(send(p, registerMsg(entry({ name: 'Var#1', maxSize: 10 }))), SUCCESS);
  assert.equal(send(p, registerMsg(entry({ name: 'Var1#', maxSize: 20 }))), SUCCESS);
  assert.equal(write(p, { name: 'Var11', dataSize: 15 }), INVALID_PARAMETER, 'judged by the first (MaxSize 10)');
  const q = new VariablePolicy();
  assert.equal(send(q, registerMsg(entry({ name: 'Var1#', maxSize: 20 }))), SUCCESS);
  assert.equal(send(q, registerMsg(entry({ name: 'Var#1', maxSize: 10 }))), SUCCESS);
  assert.equal(write(q, { name: 'Var11', dataSize: 15 }), SUCCESS, 'judged by the first (MaxSize 20)');
  // A namespace-wide policy (255) ties with 255 wildcards: again the earlier one wins.
  const r = new VariablePolicy();
  assert.equal(send(r, registerMsg(entry({ name: undefined, maxSize: 5 }))), SUCCESS);
  assert.equal(send(r, registerMsg(entry({ name: '#'.repeat(255), maxSize: 500 }))), SUCCESS);
  assert.equal(write(r, { name: '1'.repeat(255), dataSize: 6 }), INVALID_PARAMETER);
});
