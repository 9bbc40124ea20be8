/**
 * Audit trail of Secure Boot changes (issue 16 §4): a guest dbx update that is
 * applied, a KEK update the platform key refuses, and a host write each give one
 * record with VM-independent fields: variable, old/new/payload SHA-256 (computed
 * here with node:crypto, not by the code under test), signer subject and serial
 * (from the vectors' reference parse), EFI status and reason, mode before/after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AuditRecord } from '../../src/service/audit.js';
import type { VariableService } from '../../src/service/variable-service.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { FILES, CERT, GLOBAL_GUID, SECURITY_GUID, UPDATE_ATTR, SB_ATTR, TEST_GUID, realState, send, setRequest, x509List } from '../attack/fixtures.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function valueOf(svc: VariableService, guid: string, name: string): Uint8Array | undefined {
  return svc.variables().find((v) => v.guid === guid && nameKey(v.name) === name)?.data;
}

interface SignerJson { subject: string; serial_hex: string }
const signerOf = (f: { json: unknown }): SignerJson => (f.json as { pkcs7: { signer: SignerJson } }).pkcs7.signer;

async function recording(): Promise<{ svc: VariableService; records: AuditRecord[] }> {
  const svc = await realState();
  const records: AuditRecord[] = [];
  svc.onAudit = (r) => records.push(r);
  return { svc, records };
}

test('audit: a guest dbx update signed by a KEK is one applied record with hashes and signer', async () => {
  const { svc, records } = await recording();
  const before = valueOf(svc, SECURITY_GUID, 'dbx');
  const r = await send(svc, setRequest({ name: 'dbx', guid: SECURITY_GUID }, UPDATE_ATTR, FILES.dbx.bytes));
  assert.equal(r.status, 0n);
  await svc.flushAudit();
  assert.equal(records.length, 1);
  const a = records[0]!;
  const after = valueOf(svc, SECURITY_GUID, 'dbx')!;
  assert.equal(a.variable, 'dbx');
  assert.equal(a.guid, SECURITY_GUID);
  assert.equal(a.source, 'guest');
  assert.equal(a.operation, 'append');
  assert.equal(a.applied, true);
  assert.equal(a.status, 'EFI_SUCCESS');
  assert.equal(a.reason, null);
  assert.equal(a.oldSha256, before ? sha(before) : null);
  assert.equal(a.newSha256, sha(after));
  assert.notEqual(a.newSha256, a.oldSha256);
  assert.equal(a.payloadSha256, sha(FILES.dbx.payload));
  const want = signerOf(FILES.dbx);
  assert.deepEqual(a.signer, { subject: want.subject, serial: want.serial_hex });
  assert.equal(a.modeBefore, 'user');
  assert.equal(a.modeAfter, 'user');
  assert.ok(!Number.isNaN(Date.parse(a.time)));
});

test('audit: a KEK update signed by a key that is not the PK is one refused record, value unchanged', async () => {
  const { svc, records } = await recording();
  const before = valueOf(svc, GLOBAL_GUID, 'KEK')!;
  const r = await send(svc, setRequest({ name: 'KEK', guid: GLOBAL_GUID }, UPDATE_ATTR, FILES.kekAmi.bytes));
  assert.equal(r.status, 0x800000000000001an); // EFI_SECURITY_VIOLATION
  await svc.flushAudit();
  assert.equal(records.length, 1);
  const a = records[0]!;
  assert.equal(a.variable, 'KEK');
  assert.equal(a.applied, false);
  assert.equal(a.status, 'EFI_SECURITY_VIOLATION');
  assert.ok(a.reason && a.reason.length > 0, 'a refusal names its reason');
  assert.equal(a.oldSha256, sha(before));
  assert.equal(a.newSha256, sha(before));
  assert.equal(a.payloadSha256, sha(FILES.kekAmi.payload));
  const want = signerOf(FILES.kekAmi);
  assert.deepEqual(a.signer, { subject: want.subject, serial: want.serial_hex }); // a negative serial, printed signed
  assert.equal(a.modeAfter, a.modeBefore);
});

test('audit: a host write to db is recorded as a host change; other variables are not audited', async () => {
  const { svc, records } = await recording();
  const before = valueOf(svc, SECURITY_GUID, 'db');
  const data = x509List(CERT.msKekCa2011);
  await svc.hostSetVariable(makeVariable({ guid: SECURITY_GUID, name: encodeName('db'), attributes: SB_ATTR, data }));
  await svc.hostSetVariable(makeVariable({ guid: TEST_GUID, name: encodeName('NotAudited'), attributes: 7, data: Uint8Array.of(1) }));
  await send(svc, setRequest({ name: 'Plain', guid: TEST_GUID }, 7, Uint8Array.of(2)));
  await svc.flushAudit();
  assert.equal(records.length, 1);
  const a = records[0]!;
  assert.equal(a.variable, 'db');
  assert.equal(a.source, 'host');
  assert.equal(a.signer, 'host');
  assert.equal(a.applied, true);
  assert.equal(a.status, 'EFI_SUCCESS');
  assert.equal(a.oldSha256, before ? sha(before) : null);
  assert.equal(a.newSha256, sha(data));
  assert.equal(a.operation, 'write');
});

test('audit: records arrive in request order, each with the value as that request left it', async () => {
  const { svc, records } = await recording();
  const reqs = [FILES.kekAmi.bytes, FILES.dbx.bytes];
  await Promise.all([
    send(svc, setRequest({ name: 'KEK', guid: GLOBAL_GUID }, UPDATE_ATTR, reqs[0]!)),
    send(svc, setRequest({ name: 'dbx', guid: SECURITY_GUID }, UPDATE_ATTR, reqs[1]!)),
  ]);
  await svc.hostSetVariable({ guid: SECURITY_GUID, name: encodeName('dbx'), delete: true });
  await svc.flushAudit();
  assert.deepEqual(records.map((r) => [r.variable, r.source, r.applied]), [['KEK', 'guest', false], ['dbx', 'guest', true], ['dbx', 'host', true]]);
  assert.equal(records[2]!.oldSha256, records[1]!.newSha256);
  assert.equal(records[2]!.newSha256, null);
  assert.equal(records[2]!.operation, 'delete');
});
