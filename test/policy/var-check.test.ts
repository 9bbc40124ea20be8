/**
 * SMM variable functions 7, 9 and 10 as edk2 answers them (VariableSmm.c
 * SmmVariableHandler, VarCheckLib), and VarCheck property enforcement in
 * checkSetVariable (VarCheckLibSetVariableCheck).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EfiStatus } from '../../src/wire/status.js';
import { Guids } from '../../src/wire/guid.js';
import { VariablePolicy } from '../../src/policy/engine.js';
import { AFTER_EOD, AP, AT, BS, DXE, GUID1, LOCK_NOW, NV, RT, entry, judge, propertyMsg, registerMsg, send, st, write } from './builders.js';

const { SUCCESS, INVALID_PARAMETER, WRITE_PROTECTED, NOT_FOUND, UNSUPPORTED } = EfiStatus;

function readProp(msg: Uint8Array): { revision: number; property: number; attributes: number; minSize: bigint; maxSize: bigint } {
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  return { revision: v.getUint16(40, true), property: v.getUint16(42, true), attributes: v.getUint32(44, true), minSize: v.getBigUint64(48, true), maxSize: v.getBigUint64(56, true) };
}

test('GET_STATISTICS is EFI_UNSUPPORTED: edk2 collects none without PcdVariableCollectStatistics, which OVMF keeps FALSE', () => {
  const p = new VariablePolicy();
  const msg = new Uint8Array(200);
  const r = p.varCheckFunction(7, msg, DXE);
  assert.equal(st(r), UNSUPPORTED);
  assert.equal(r.responseLength, 16);
  assert.equal(r.reason, 'statistics-not-collected');
});

test('PROPERTY_SET then PROPERTY_GET returns the property written into the message; unknown names are EFI_NOT_FOUND', () => {
  const p = new VariablePolicy();
  const prop = { property: 1, attributes: NV | BS | RT, minSize: 2n, maxSize: 0x1_0000_0000n };
  const set = propertyMsg(9, GUID1, 'MyVar', prop);
  const r = p.varCheckFunction(9, set, DXE);
  assert.equal(st(r), SUCCESS);
  assert.equal(r.responseLength, 64 + 12);
  const get = propertyMsg(10, GUID1, 'MyVar', { revision: 0, attributes: 0, minSize: 0n, maxSize: 0n });
  const g = p.varCheckFunction(10, get, AFTER_EOD);
  assert.equal(st(g), SUCCESS);
  assert.equal(g.responseLength, 76);
  assert.deepEqual(readProp(get), { revision: 1, ...prop });
  assert.equal(st(p.varCheckFunction(10, propertyMsg(10, GUID1, 'Other'), DXE)), NOT_FOUND);
  assert.equal(st(p.varCheckFunction(10, propertyMsg(10, Guids.globalVariable, 'MyVar'), DXE)), NOT_FOUND);
});

test('a later PROPERTY_SET for the same name replaces the earlier one (VarCheckLibVariablePropertySet)', () => {
  const p = new VariablePolicy();
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'V', { property: 1 }), DXE)), SUCCESS);
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'V', { property: 0, minSize: 3n }), DXE)), SUCCESS);
  assert.equal(p.snapshot().properties?.length, 1);
  assert.equal(write(p, { name: 'V', dataSize: 2 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'V', dataSize: 3 }), SUCCESS);
});

test('a property set on "Boot####" covers every Boot + 4 hex digits (VarCheckLib wildcard slots); other names do not get one', () => {
  const p = new VariablePolicy();
  assert.equal(st(p.setVariableProperty(propertyMsg(9, Guids.globalVariable, 'Boot####', { minSize: 6n }), DXE)), SUCCESS);
  const get = propertyMsg(10, Guids.globalVariable, 'Boot00aF');
  assert.equal(st(p.getVariableProperty(get, DXE)), SUCCESS);
  assert.equal(readProp(get).minSize, 6n);
  assert.equal(st(p.getVariableProperty(propertyMsg(10, Guids.globalVariable, 'Boot00G1'), DXE)), NOT_FOUND);
  assert.equal(st(p.getVariableProperty(propertyMsg(10, Guids.globalVariable, 'Driver0001'), DXE)), NOT_FOUND);
  assert.equal(st(p.getVariableProperty(propertyMsg(10, GUID1, 'Boot0001'), DXE)), NOT_FOUND);
  assert.equal(write(p, { guid: Guids.globalVariable, name: 'Boot0001', dataSize: 5 }), INVALID_PARAMETER);
  assert.equal(write(p, { guid: Guids.globalVariable, name: 'Boot0001', dataSize: 6 }), SUCCESS);
});

test('READ_ONLY refuses every write, delete included, with EFI_WRITE_PROTECTED after EndOfDxe only', () => {
  const p = new VariablePolicy();
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'Ro', { property: 1 }), DXE)), SUCCESS);
  assert.equal(write(p, { name: 'Ro' }, DXE), SUCCESS);
  assert.equal(write(p, { name: 'Ro' }), WRITE_PROTECTED);
  assert.equal(write(p, { name: 'Ro', dataSize: 0, exists: true }), WRITE_PROTECTED);
});

test('property Attributes must equal the written attributes without APPEND_WRITE; size must lie in [MinSize, MaxSize]; deletes skip both', () => {
  const p = new VariablePolicy();
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'P', { attributes: NV | BS | RT, minSize: 2n, maxSize: 8n }), DXE)), SUCCESS);
  assert.equal(write(p, { name: 'P', attributes: NV | BS }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'P', attributes: NV | BS | RT | AT }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'P', attributes: NV | BS | RT | AP }), SUCCESS);
  assert.equal(write(p, { name: 'P', dataSize: 1 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'P', dataSize: 9 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'P', dataSize: 8 }), SUCCESS);
  assert.equal(write(p, { name: 'P', attributes: NV | BS, dataSize: 0 }), SUCCESS, 'delete');
  assert.equal(write(p, { name: 'P', attributes: 0, dataSize: 3 }), SUCCESS, 'attributes 0 count as a delete');
});

test('properties are checked before policies and still apply after DISABLE (VarCheckLib runs them first; DISABLE is policy-only)', () => {
  const p = new VariablePolicy({ allowDisable: true });
  assert.equal(send(p, registerMsg(entry({ name: 'Both', lockType: LOCK_NOW }))), SUCCESS);
  assert.equal(st(p.setVariableProperty(propertyMsg(9, GUID1, 'Both', { minSize: 10n }), DXE)), SUCCESS);
  assert.equal(judge(p, { name: 'Both', dataSize: 4 }).reason, 'property-size');
  assert.equal(write(p, { name: 'Both', dataSize: 4 }), INVALID_PARAMETER);
  assert.equal(write(p, { name: 'Both', dataSize: 12 }), WRITE_PROTECTED);
  assert.equal(send(p, new Uint8Array([0x56, 0x43, 0x50, 0x43, 1, 0, 0, 0, 1, 0, 0, 0, ...new Uint8Array(8)])), SUCCESS);
  assert.equal(write(p, { name: 'Both', dataSize: 12 }), SUCCESS);
  assert.equal(write(p, { name: 'Both', dataSize: 4 }), INVALID_PARAMETER);
});

test('varCheckFunction answers EFI_UNSUPPORTED for any function other than 7, 9, 10', () => {
  const p = new VariablePolicy();
  for (const fn of [0, 8, 11, 12]) assert.equal(st(p.varCheckFunction(fn, new Uint8Array(80), DXE)), UNSUPPORTED);
});
