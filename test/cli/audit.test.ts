/**
 * The CLI's part of the audit trail (docs/audit.md): set, delete, enroll and
 * apply append host records to STORE.audit.jsonl once they know whether the
 * store was written; `uefi-vars audit` reads them back, filtered, as text or
 * JSON lines. Real stores, real Microsoft updates from ../shared/vectors, the
 * real CLI in a child process; hashes computed here with node:crypto from the
 * store the command wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeQemuJson, decodeQemuJson } from '../../src/persist/json-qemu.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { JSON_SCHEMAS, validateJson } from '../../src/cli/json-schemas.js';
import { cli, tempDir } from '../helpers/cli.js';
import { VECTORS } from '../auth/vectors.js';
import { PgStore } from '../../src/persist/postgres.js';
import { noPostgres, testDatabase, sql } from '../helpers/postgres.js';
import { FILES, GLOBAL_GUID, SECURITY_GUID, REAL_KEYS, keyDatabases } from '../attack/fixtures.js';

type Rec = Record<string, unknown>;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const signed = (rel: string): string => join(VECTORS, 'signed', rel);
const signerOf = (f: { json: unknown }): { subject: string; serial: string } => {
  const s = (f.json as { pkcs7: { signer: { subject: string; serial_hex: string } } }).pkcs7.signer;
  return { subject: s.subject, serial: s.serial_hex };
};

function store(t: { after(fn: () => void): void }, name = 'vm7.json'): string {
  const path = join(tempDir(t), name);
  writeFileSync(path, encodeQemuJson(keyDatabases(REAL_KEYS)));
  return path;
}

function value(path: string, guid: string, name: string): Uint8Array | undefined {
  return decodeQemuJson(new Uint8Array(readFileSync(path))).find((v) => v.guid === guid && nameKey(v.name) === name)?.data;
}

/** `uefi-vars audit ARGS --json`: every line one record conforming to the schema. */
function audit(...args: string[]): Rec[] {
  const r = cli('audit', ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return r.lines.map((l) => {
    const rec = JSON.parse(l) as Rec;
    assert.deepEqual(validateJson(JSON_SCHEMAS['audit']!, rec), [], l);
    return rec;
  });
}

test('set: an applied Microsoft dbx update and a refused KEK update are host records of `set` with the PKCS#7 signer and the hashes of the store as written', (t) => {
  const s = store(t);
  const dbxBefore = value(s, SECURITY_GUID, 'dbx')!;
  const kekBefore = value(s, GLOBAL_GUID, 'KEK')!;
  assert.equal(existsSync(`${s}.audit.jsonl`), false);
  assert.equal(cli('set', s, 'dbx', '0x67', '--data-file', signed('dbx/DBXUpdate_amd64.bin')).code, 0);
  const refused = cli('set', s, 'KEK', '0x67', '--data-file', signed('kek/KEKUpdate_AMI_PK1.bin'));
  assert.equal(refused.code, 2);
  assert.equal(refused.lines[0], 'EFI_SECURITY_VIOLATION');
  // A variable outside Secure Boot is not audited.
  assert.equal(cli('set', s, 'Plain', 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70', '7', '--hex', '01').code, 0);

  const [dbx, kek, ...more] = audit(s);
  assert.equal(more.length, 0);
  assert.deepEqual([dbx!.vm, dbx!.variable, dbx!.source, dbx!.via, dbx!.operation, dbx!.applied, dbx!.status], ['vm7', 'dbx', 'host', 'set', 'append', true, 'EFI_SUCCESS']);
  assert.equal(dbx!.oldSha256, sha(dbxBefore));
  assert.equal(dbx!.newSha256, sha(value(s, SECURITY_GUID, 'dbx')!));
  assert.equal(dbx!.payloadSha256, sha(FILES.dbx.payload));
  assert.deepEqual(dbx!.signer, signerOf(FILES.dbx));
  assert.deepEqual([kek!.variable, kek!.applied, kek!.status, kek!.via], ['KEK', false, 'EFI_SECURITY_VIOLATION', 'set']);
  assert.ok(typeof kek!.reason === 'string' && kek!.reason !== '');
  assert.deepEqual([kek!.oldSha256, kek!.newSha256], [sha(kekBefore), sha(kekBefore)]);
  assert.deepEqual(value(s, GLOBAL_GUID, 'KEK'), kekBefore, 'the refused write left KEK as it was');
  assert.deepEqual(kek!.signer, signerOf(FILES.kekAmi));

  // Filters and the text form.
  assert.deepEqual(audit(s, '--variable', 'KEK').map((r) => r.variable), ['KEK']);
  assert.deepEqual(audit(s, '--since', String(kek!.time)).map((r) => r.variable), ['KEK']);
  assert.deepEqual(audit(s, '--since', '2999-01-01'), []);
  const text = cli('audit', s);
  assert.equal(text.code, 0);
  assert.equal(text.lines.length, 2);
  assert.match(text.lines[1]!, /^\S+ {2}vm7 {2}KEK {2}host\/set {2}"CN=DO NOT TRUST - AMI Test PK" serial -[0-9a-f]+ {2}not-applied {2}EFI_SECURITY_VIOLATION \(\S+\) {2}([0-9a-f]{12})→\1$/);
});

test('set --custom-mode whose write is refused: CustomMode, applied in memory only, is recorded as not applied (store-not-written)', (t) => {
  const s = store(t);
  const r = cli('set', s, 'PK', '0x07', '--hex', '00', '--custom-mode');
  assert.equal(r.code, 2);
  const recs = audit(s);
  assert.deepEqual(recs.map((x) => [x.variable, x.applied]), [['CustomMode', false], ['PK', false]]);
  assert.equal(recs[0]!.status, 'EFI_SUCCESS');
  assert.equal(recs[0]!.reason, 'store-not-written');
  assert.equal(recs[0]!.newSha256, recs[0]!.oldSha256);
  assert.equal(recs[1]!.signer, 'custom mode');
});

test('enroll: one host record per Secure Boot variable it changes, none when nothing changes; modes from the stores', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'enrolled.json');
  const r = cli('enroll', '--output', out, '--enroll-redhat');
  assert.equal(r.code, 0, r.stderr);
  const recs = audit(out);
  assert.deepEqual(recs.map((x) => x.variable).sort(), ['KEK', 'PK', 'db', 'dbx'].sort());
  for (const x of recs) {
    assert.deepEqual([x.vm, x.source, x.via, x.signer, x.applied, x.oldSha256, x.modeBefore, x.modeAfter], ['enrolled', 'host', 'enroll', 'host', true, null, 'setup', 'user']);
    const guid = x.variable === 'PK' || x.variable === 'KEK' ? GLOBAL_GUID : SECURITY_GUID;
    assert.equal(x.newSha256, sha(value(out, guid, String(x.variable))!));
  }
  // In place, the same keys again: nothing changes, nothing is recorded; --secure-boot then sets SecureBootEnable.
  assert.equal(cli('enroll', out, '--enroll-redhat').code, 0);
  assert.equal(audit(out).length, recs.length);
  assert.equal(cli('enroll', out, '--secure-boot').code, 0);
  const added = audit(out).slice(recs.length).map((x) => x.variable);
  assert.ok(added.includes('SecureBootEnable'), JSON.stringify(added));
  assert.ok(!added.includes('PK') && !added.includes('KEK'), JSON.stringify(added));
  // --dry-run writes nothing, the trail included.
  assert.equal(cli('enroll', join(dir, 'enrolled.json'), '--delete', 'PK', '--dry-run').code, 0);
  assert.equal(audit(out).length, recs.length + added.length);
});

test('apply: the update applied is a host record of `apply`; applied again (already present) it is recorded as not written; --dry-run records nothing', (t) => {
  const s = store(t, 'fleet-01.json');
  const before = value(s, SECURITY_GUID, 'dbx')!;
  const upd = signed('dbx/DBXUpdate_arm64.bin');
  assert.equal(cli('apply', upd, s, '--dry-run').code, 0);
  assert.equal(existsSync(`${s}.audit.jsonl`), false);
  assert.equal(cli('apply', upd, s).code, 0);
  assert.equal(cli('apply', upd, s).code, 0);
  const [first, again, ...more] = audit(s);
  assert.equal(more.length, 0);
  assert.deepEqual([first!.vm, first!.variable, first!.via, first!.applied, first!.status], ['fleet-01', 'dbx', 'apply', true, 'EFI_SUCCESS']);
  assert.equal(first!.oldSha256, sha(before));
  assert.equal(first!.newSha256, sha(value(s, SECURITY_GUID, 'dbx')!));
  assert.deepEqual(first!.signer, signerOf(FILES.dbxArm));
  assert.deepEqual([again!.applied, again!.reason, again!.oldSha256, again!.newSha256], [false, 'store-not-written', first!.newSha256, first!.newSha256]);
});

test('audit: usage and I/O errors exit 1; a store without a trail has no records (exit 0); a damaged line is reported, the rest printed, exit 1', (t) => {
  const s = store(t);
  assert.equal(cli('audit', s).code, 0);
  assert.equal(cli('audit', s).stdout, '');
  const missing = cli('audit', join(tempDir(t), 'nope.json'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.json: no such store/);
  assert.equal(cli('audit', s, '--since', 'soon').code, 1);
  assert.match(cli('audit', s, '--variable', 'Boot0001').stderr, /--variable is one of PK, KEK/);
  assert.equal(cli('audit', '--state-dir', '/tmp', '../etc').code, 1);
  assert.equal(cli('set', s, 'dbx', '0x67', '--data-file', signed('dbx/DBXUpdate_amd64.bin')).code, 0);
  appendFileSync(`${s}.audit.jsonl`, 'garbage that is not a record\n');
  assert.equal(cli('set', s, 'dbx', '0x67', '--data-file', signed('dbx/DBXUpdate-20100307.x64.bin')).code, 0);
  const r = cli('audit', `${s}.audit.jsonl`, '--json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\.audit\.jsonl:2: not JSON/);
  assert.equal(r.lines.length, 2, 'the records around the damage are printed');
});

test('apply to a PostgreSQL VM: the record goes to its audit table, after the save, and `audit postgresql://…#VM` reads it', { skip: noPostgres }, async (t) => {
  const url = await testDatabase(t);
  const db = await PgStore.open({ url, owner: 'test' });
  await db.create('pgvm', keyDatabases(REAL_KEYS));
  await db.close();
  const r = cli('apply', signed('dbx/DBXUpdate_arm64.bin'), `${url}#pgvm`);
  assert.equal(r.code, 0, r.stderr);
  const [rec, ...more] = audit(`${url}#pgvm`);
  assert.equal(more.length, 0);
  const peek = await PgStore.open({ url, owner: 'test', readOnly: true });
  const now = (await peek.peek('pgvm'))!.find((v) => v.guid === SECURITY_GUID && nameKey(v.name) === 'dbx')!;
  await peek.close();
  assert.deepEqual([rec!.vm, rec!.variable, rec!.source, rec!.via, rec!.applied], ['pgvm', 'dbx', 'host', 'apply', true]);
  assert.equal(rec!.newSha256, sha(now.data));
  assert.deepEqual(rec!.signer, signerOf(FILES.dbxArm));
  const rows = (await sql(url, 'SELECT vm_id, variable, applied FROM uefi_vars_audit')).rows;
  assert.deepEqual(rows, [{ vm_id: 'pgvm', variable: 'dbx', applied: true }]);
});
