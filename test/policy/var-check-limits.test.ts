/**
 * Issue 18 item 4: VAR_CHECK_VARIABLE_PROPERTY_SET (function 9, `edk2VarCheck`) is
 * open to the guest until EndOfDxe; the property table is bounded as the policy
 * table is (docs/policy.md P10): 1,024 properties, 256 KiB of GUID + property +
 * UCS-2 name. Past either bound a new name is EFI_OUT_OF_RESOURCES and nothing
 * changes. Driven through the whole service with MM buffers, as a guest sends them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VariableService } from '../../src/service/variable-service.js';
import { writeMmHeader } from '../../src/wire/mm.js';
import { guidBytes, Guids } from '../../src/wire/guid.js';
import { getVariableRequest, setVariableRequest, replyStatus } from '../../src/client/requests.js';
import { propertyMsg, GUID1 } from './builders.js';

// Status values spelled out (spec §2.4), not taken from the code under test.
const SUCCESS = 0n;
const OUT_OF_RESOURCES = 0x8000000000000009n;
const INVALID_PARAMETER = 0x8000000000000002n;
// The bounds the issue asks for, written out independently of PROPERTY_TABLE_LIMITS.
const MAX_PROPERTIES = 1024;
const MAX_BYTES = 256 * 1024;
const RECORD_OVERHEAD = 16 + 24; // GUID + VAR_CHECK_VARIABLE_PROPERTY, then the UCS-2 name with its NUL

function mm(msg: Uint8Array): Uint8Array {
  const buf = new Uint8Array(24 + msg.length);
  writeMmHeader(buf, guidBytes(Guids.smmVariable), msg.length);
  buf.set(msg, 24);
  return buf;
}

async function setProperty(svc: VariableService, name: string, minSize = 0n): Promise<bigint> {
  return replyStatus(await svc.handle(mm(propertyMsg(9, GUID1, name, { minSize })), 65536));
}

function snapshotBytes(svc: VariableService): number {
  const s = svc.snapshot();
  return (s.policy.properties ?? []).reduce((n, p) => n + p.name.length + p.property.length + 16, 0);
}

test('function 9 accepts 1,024 distinct properties, refuses the 1,025th with EFI_OUT_OF_RESOURCES, and changes nothing', async () => {
  const svc = await VariableService.create({ options: { edk2VarCheck: true } });
  for (let i = 0; i < MAX_PROPERTIES; i++) assert.equal(await setProperty(svc, `P${i}`), SUCCESS, `property ${i}`);
  const before = JSON.stringify(svc.snapshot(), (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : typeof v === 'bigint' ? String(v) : v));
  const storeBefore = svc.variables();
  assert.equal(await setProperty(svc, 'OneMore'), OUT_OF_RESOURCES);
  const after = JSON.stringify(svc.snapshot(), (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : typeof v === 'bigint' ? String(v) : v));
  assert.equal(after, before, 'registry and store unchanged by the refusal');
  assert.deepEqual(svc.variables(), storeBefore);
  // Replacing a property already held needs no room: still accepted when the table is full.
  assert.equal(await setProperty(svc, 'P7', 3n), SUCCESS);
  // And it is enforced after EndOfDxe: the replacement's MinSize 3 refuses a 2-byte write.
  await svc.handle(eod(), 65536);
  assert.equal(replyStatus(await svc.handle(setVariableRequest({ name: 'P7', guid: GUID1, attributes: 7, data: Uint8Array.of(1, 2) }), 65536)), INVALID_PARAMETER);
  // The refused name has no property: a 1-byte write of it passes.
  assert.equal(replyStatus(await svc.handle(setVariableRequest({ name: 'OneMore', guid: GUID1, attributes: 7, data: Uint8Array.of(1) }), 65536)), SUCCESS);
});

function eod(): Uint8Array {
  const buf = new Uint8Array(24);
  writeMmHeader(buf, guidBytes(Guids.endOfDxe), 0);
  return buf;
}

test('function 9 stops at 256 KiB of names: long names hit the byte bound long before the count, exactly at the boundary', async () => {
  const svc = await VariableService.create({ options: { edk2VarCheck: true } });
  const units = 16 * 1024 - 1; // a 32 KiB UCS-2 name with its NUL
  const record = RECORD_OVERHEAD + 2 * (units + 1);
  const fit = Math.floor(MAX_BYTES / record);
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const name = `${String(i).padStart(5, '0')}${'x'.repeat(units - 5)}`;
    const st = await setProperty(svc, name);
    if (st === SUCCESS) accepted++; else { assert.equal(st, OUT_OF_RESOURCES); }
  }
  assert.equal(accepted, fit, `${fit} records of ${record} bytes fit 256 KiB`);
  assert.ok(snapshotBytes(svc) <= MAX_BYTES, `snapshot keeps ${snapshotBytes(svc)} bytes of properties`);
  // Room left for a short name exactly when the bytes say so.
  const left = MAX_BYTES - fit * record;
  const shortUnits = Math.floor((left - RECORD_OVERHEAD) / 2) - 1;
  if (shortUnits >= 1) {
    assert.equal(await setProperty(svc, 'y'.repeat(shortUnits)), SUCCESS, `a name of ${shortUnits} units fills the last ${left} bytes`);
    assert.equal(await setProperty(svc, 'z'), OUT_OF_RESOURCES, 'and then not one more');
  }
  // A store write is unaffected by the refusals.
  assert.equal(replyStatus(await svc.handle(setVariableRequest({ name: 'Data', guid: GUID1, attributes: 7, data: Uint8Array.of(9) }), 65536)), SUCCESS);
  assert.equal(replyStatus(await svc.handle(getVariableRequest({ name: 'Data', guid: GUID1, dataSize: 16 }), 65536)), SUCCESS);
});

test('a snapshot restores with its properties, and a reset frees the table for new ones', async () => {
  const svc = await VariableService.create({ options: { edk2VarCheck: true } });
  for (let i = 0; i < MAX_PROPERTIES; i++) assert.equal(await setProperty(svc, `R${i}`), SUCCESS);
  const restored = await VariableService.restore(svc.snapshot());
  assert.equal(restored.snapshot().policy.properties?.length, MAX_PROPERTIES);
  assert.equal(await setProperty(restored, 'Extra'), OUT_OF_RESOURCES);
  await restored.reset();
  assert.equal(await setProperty(restored, 'Extra'), SUCCESS);
});
