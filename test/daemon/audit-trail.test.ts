/**
 * The audit trail of Secure Boot changes end to end (issue 16 §4, docs/audit.md):
 * a real daemon on a real state directory (and a real PostgreSQL when
 * UEFI_VARS_TEST_PG is set), a real Microsoft DBX update sent by a guest over the
 * data socket on a store whose KEK holds Microsoft KEK CA 2011, a KEK update
 * signed by a key that is not the PK, and a host write through the management
 * API. Expected hashes are computed here with node:crypto from the bytes the test
 * wrote or read back; signers come from the vectors' reference parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Daemon, type DaemonConfig } from '../../src/daemon/server/server.js';
import { createLogger } from '../../src/daemon/server/logging.js';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { encodeQemuJson } from '../../src/persist/json-qemu.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { PgStore } from '../../src/persist/postgres.js';
import { replyStatus } from '../../src/client/requests.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { JSON_SCHEMAS, validateJson } from '../../src/cli/json-schemas.js';
import { CLI, LogCapture, http, tempDir } from './helpers.js';
import { noPostgres, testDatabase, sql } from '../helpers/postgres.js';
import { FILES, CERT, GLOBAL_GUID, SECURITY_GUID, UPDATE_ATTR, SB_ATTR, REAL_KEYS, keyDatabases, setRequest, x509List } from '../attack/fixtures.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const EFI_SECURITY_VIOLATION = 0x800000000000001an;
type Rec = Record<string, unknown>;
interface SignerJson { subject: string; serial_hex: string }
const signerOf = (f: { json: unknown }): { subject: string; serial: string } => {
  const s = (f.json as { pkcs7: { signer: SignerJson } }).pkcs7.signer;
  return { subject: s.subject, serial: s.serial_hex };
};

const initial = keyDatabases(REAL_KEYS);
const valueIn = (vars: readonly { guid: string; name: Uint8Array; data: Uint8Array }[], guid: string, name: string): Uint8Array | undefined =>
  vars.find((v) => v.guid === guid && nameKey(v.name) === name)?.data;
const KEK_BEFORE = valueIn(initial, GLOBAL_GUID, 'KEK')!;
const DBX_BEFORE = valueIn(initial, SECURITY_GUID, 'dbx')!;
const DB_BEFORE = valueIn(initial, SECURITY_GUID, 'db')!;
const HOST_DB = x509List(CERT.msKekCa2011);

interface Running { daemon: Daemon; logs: LogCapture; socket: string; api: string }

async function start(t: { after(fn: () => Promise<void>): void }, dir: string, layout: DaemonConfig['layout'], n: number): Promise<Running> {
  const logs = new LogCapture();
  const socket = join(dir, `data${n}.sock`), api = join(dir, `api${n}.sock`);
  const daemon = await Daemon.start({ layout, socketPath: socket, apiSocketPath: api, logger: createLogger('info', logs) });
  t.after(() => daemon.stop());
  return { daemon, logs, socket, api };
}

/** The three changes of the issue: a guest dbx update (applied), a guest KEK update (refused), a host db write (API). */
async function threeChanges(d: Running, vm: string): Promise<{ started: number }> {
  const started = Date.now();
  const c = await DaemonClient.connect(d.socket, vm);
  try {
    const dbx = await c.process(setRequest({ name: 'dbx', guid: SECURITY_GUID }, UPDATE_ATTR, FILES.dbx.bytes), 65536);
    assert.equal(replyStatus(dbx.reply!), 0n, 'the Microsoft DBX update is accepted (KEK holds Microsoft KEK CA 2011)');
    const kek = await c.process(setRequest({ name: 'KEK', guid: GLOBAL_GUID }, UPDATE_ATTR, FILES.kekAmi.bytes), 65536);
    assert.equal(replyStatus(kek.reply!), EFI_SECURITY_VIOLATION, 'a KEK update not signed by the PK is refused');
  } finally {
    await c.close();
  }
  const put = await http({ socketPath: d.api }, 'PUT', `/vms/${vm}/variables/${SECURITY_GUID}/db`, { body: { attributes: SB_ATTR, dataHex: Buffer.from(HOST_DB).toString('hex') } });
  assert.equal(put.status, 200, put.body);
  return { started };
}

/** The three records, field by field, against what the test itself knows. */
function checkThree(records: readonly Rec[], vm: string, dbxAfter: Uint8Array, started: number): void {
  assert.equal(records.length, 3, JSON.stringify(records));
  const [dbx, kek, db] = records as [Rec, Rec, Rec];
  for (const r of records) {
    assert.equal(r.vm, vm);
    const t = Date.parse(String(r.time));
    assert.ok(t >= started - 1000 && t <= Date.now(), `time ${String(r.time)}`);
    assert.deepEqual(validateJson(JSON_SCHEMAS['audit']!, r), [], 'conforms to the audit schema');
  }
  assert.deepEqual([dbx.variable, dbx.guid, dbx.source, dbx.via, dbx.operation], ['dbx', SECURITY_GUID, 'guest', 'guest', 'append']);
  assert.deepEqual([dbx.applied, dbx.status, dbx.reason], [true, 'EFI_SUCCESS', null]);
  assert.equal(dbx.oldSha256, sha(DBX_BEFORE));
  assert.equal(dbx.newSha256, sha(dbxAfter));
  assert.equal(dbx.payloadSha256, sha(FILES.dbx.payload));
  assert.deepEqual(dbx.signer, signerOf(FILES.dbx));
  assert.deepEqual([dbx.modeBefore, dbx.modeAfter], ['user', 'user']);

  assert.deepEqual([kek.variable, kek.source, kek.via, kek.applied, kek.status], ['KEK', 'guest', 'guest', false, 'EFI_SECURITY_VIOLATION']);
  assert.ok(typeof kek.reason === 'string' && kek.reason.length > 0, 'a refusal names its reason');
  assert.equal(kek.oldSha256, sha(KEK_BEFORE));
  assert.equal(kek.newSha256, sha(KEK_BEFORE));
  assert.equal(kek.payloadSha256, sha(FILES.kekAmi.payload));
  assert.deepEqual(kek.signer, signerOf(FILES.kekAmi));

  assert.deepEqual([db.variable, db.source, db.via, db.signer, db.applied, db.status, db.operation], ['db', 'host', 'api', 'host', true, 'EFI_SUCCESS', 'write']);
  assert.equal(db.oldSha256, sha(DB_BEFORE));
  assert.equal(db.newSha256, sha(HOST_DB));
}

const TORN = '{"vm":"vm1","time":"2026-';
const fileLines = (path: string): Rec[] => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '' && l !== TORN).map((l) => JSON.parse(l) as Rec);

test('state dir: a guest dbx update, a refused KEK update and an API write each give one record in VM.json.audit.jsonl, the log, /metrics and the API; append-only across restarts; uefi-vars audit --json matches', async (t) => {
  const dir = tempDir(t);
  const vms = join(dir, 'vms');
  mkdirSync(vms);
  writeFileSync(join(vms, 'vm1.json'), encodeQemuJson(initial));
  const trail = join(vms, 'vm1.json.audit.jsonl');

  const first = await start(t, dir, { kind: 'dir', dir: vms }, 1);
  const { started } = await threeChanges(first, 'vm1');
  // The API answers with what the daemon has accepted so far, in order.
  await first.daemon.audit.drain(first.daemon.registry.loaded());
  const api = await http({ socketPath: first.api }, 'GET', '/vms/vm1/audit');
  assert.equal(api.status, 200, api.body);
  const dbxAfter = valueIn((await loadStoreFile(join(vms, 'vm1.json'))).variables, SECURITY_GUID, 'dbx')!;
  checkThree((api.json as { records: Rec[] }).records, 'vm1', dbxAfter, started);
  const onlyKek = await http({ socketPath: first.api }, 'GET', '/vms/vm1/audit?variable=KEK');
  assert.deepEqual((onlyKek.json as { records: Rec[] }).records.map((r) => r.variable), ['KEK']);
  assert.equal((await http({ socketPath: first.api }, 'GET', '/vms/vm1/audit?since=yesterday-ish')).status, 400);
  assert.equal((await http({ socketPath: first.api }, 'GET', '/vms/nope/audit')).status, 404);

  // One structured log line per record, and the counters by vm, variable and result.
  const logged = first.logs.lines.filter((l) => l.msg === 'secure boot change audited');
  assert.deepEqual(logged.map((l) => [l.vm, (l.audit as Rec).variable, (l.audit as Rec).applied, l.level]),
    [['vm1', 'dbx', true, 'info'], ['vm1', 'KEK', false, 'warn'], ['vm1', 'db', true, 'info']]);
  const counted = (await first.daemon.metrics.auditRecords.get()).values.map((v) => [v.labels.vm, v.labels.variable, v.labels.result, v.value]);
  assert.deepEqual(counted.sort(), [['vm1', 'KEK', 'refused', 1], ['vm1', 'db', 'applied', 1], ['vm1', 'dbx', 'applied', 1]]);
  const text = (await http({ socketPath: first.api }, 'GET', '/metrics')).body;
  assert.match(text, /uefi_vars_audit_records_total\{vm="vm1",variable="dbx",result="applied"\} 1/);
  await first.daemon.stop();

  const bytesBefore = readFileSync(trail);
  checkThree(fileLines(trail), 'vm1', dbxAfter, started);

  // A crash once cut a line short: the next record still lands whole, on a line of its own.
  appendFileSync(trail, TORN);
  const second = await start(t, dir, { kind: 'dir', dir: vms }, 2);
  const c = await DaemonClient.connect(second.socket, 'vm1');
  const more = await c.process(setRequest({ name: 'KEK', guid: GLOBAL_GUID }, UPDATE_ATTR, FILES.kekRedHat.bytes), 65536);
  await c.close();
  await second.daemon.stop();
  const after = readFileSync(trail);
  assert.deepEqual(after.subarray(0, bytesBefore.length), bytesBefore, 'the records written before the restart are untouched');
  const lines = after.toString('utf8').split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 5);
  assert.equal(lines[3], TORN, 'the torn line stays as it was, on its own');
  const fourth = JSON.parse(lines[4]!) as Rec;
  assert.equal(replyStatus(more.reply!), 0n, 'a KEK update signed by the PK (Red Hat) is accepted');
  assert.deepEqual([fourth.variable, fourth.status, fourth.applied], ['KEK', 'EFI_SUCCESS', true]);
  assert.deepEqual(fourth.signer, signerOf(FILES.kekRedHat));

  // The CLI reads the same trail: the records as written, the torn line reported and skipped (exit 0).
  const r = spawnSync(process.execPath, [CLI, 'audit', '--state-dir', vms, 'vm1', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /vm1\.json\.audit\.jsonl:4: cut short/);
  const printed = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec);
  assert.deepEqual(printed, [...fileLines(trail).slice(0, 3), fourth]);
  const since = spawnSync(process.execPath, [CLI, 'audit', join(vms, 'vm1.json'), '--since', String(fourth.time), '--variable', 'KEK'], { encoding: 'utf8' });
  assert.equal(since.status, 0, since.stderr);
  assert.equal(since.stdout.trim().split('\n').length, 1, since.stdout);
  const words = since.stdout.trim().split('  ');
  assert.deepEqual(words.slice(0, 4), [fourth.time, 'vm1', 'KEK', 'guest/guest']);
  assert.equal(words[4], `"${signerOf(FILES.kekRedHat).subject}" serial ${signerOf(FILES.kekRedHat).serial}`);
  assert.deepEqual(words.slice(5), ['applied', 'EFI_SUCCESS', `${String(fourth.oldSha256).slice(0, 12)}→${String(fourth.newSha256).slice(0, 12)}`]);
});

test('an audit trail that cannot be written is logged and counted; the store write it records stands', async (t) => {
  const dir = tempDir(t);
  const vms = join(dir, 'vms');
  mkdirSync(vms);
  writeFileSync(join(vms, 'vm2.json'), encodeQemuJson(initial));
  mkdirSync(join(vms, 'vm2.json.audit.jsonl')); // a directory where the file should be
  const d = await start(t, dir, { kind: 'dir', dir: vms }, 1);
  const c = await DaemonClient.connect(d.socket, 'vm2');
  const r = await c.process(setRequest({ name: 'dbx', guid: SECURITY_GUID }, UPDATE_ATTR, FILES.dbx.bytes), 65536);
  await c.close();
  assert.equal(replyStatus(r.reply!), 0n);
  await d.daemon.audit.drain(d.daemon.registry.loaded());
  const failed = await d.logs.waitFor((l) => l.msg === 'audit record not written (the store write it records stands)');
  assert.deepEqual([failed.vm, failed.sink, failed.variable], ['vm2', 'file', 'dbx']);
  assert.deepEqual((await d.daemon.metrics.auditWriteFailures.get()).values.map((v) => [v.labels.sink, v.value]), [['file', 1]]);
  const dbx = valueIn((await loadStoreFile(join(vms, 'vm2.json'))).variables, SECURITY_GUID, 'dbx')!;
  assert.notEqual(sha(dbx), sha(DBX_BEFORE), 'the dbx update is in the store');
});

test('PostgreSQL: the same three records go to the append-only uefi_vars_audit table, readable by the API and uefi-vars audit', { skip: noPostgres }, async (t) => {
  const url = await testDatabase(t);
  const db = await PgStore.open({ url, owner: 'test' });
  await db.create('vm1', initial);
  await db.close();
  const dir = tempDir(t);
  const d = await start(t, dir, { kind: 'postgres', url, owner: 'host-a' }, 1);
  const { started } = await threeChanges(d, 'vm1');
  await d.daemon.stop();

  const rows = (await sql(url, 'SELECT vm_id, variable, applied, status, record FROM uefi_vars_audit ORDER BY id')).rows as Rec[];
  const check = await PgStore.open({ url, owner: 'test', readOnly: true });
  const dbxAfter = valueIn((await check.peek('vm1'))!, SECURITY_GUID, 'dbx')!;
  await check.close();
  checkThree(rows.map((r) => r.record as Rec), 'vm1', dbxAfter, started);
  assert.deepEqual(rows.map((r) => [r.vm_id, r.variable, r.applied, r.status]),
    [['vm1', 'dbx', true, 'EFI_SUCCESS'], ['vm1', 'KEK', false, 'EFI_SECURITY_VIOLATION'], ['vm1', 'db', true, 'EFI_SUCCESS']]);
  await assert.rejects(sql(url, 'DELETE FROM uefi_vars_audit'), /append-only/);
  await assert.rejects(sql(url, `UPDATE uefi_vars_audit SET status = 'EFI_SUCCESS'`), /append-only/);

  const r = spawnSync(process.execPath, [CLI, 'audit', `${url}#vm1`, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec), rows.map((x) => x.record));

  // A second daemon (another host) serves the API for it, from the table.
  const other = await start(t, dir, { kind: 'postgres', url, owner: 'host-b' }, 2);
  const api = await http({ socketPath: other.api }, 'GET', '/vms/vm1/audit?variable=dbx');
  assert.equal(api.status, 200, api.body);
  assert.deepEqual((api.json as { records: Rec[] }).records, [rows[0]!.record]);
});

test('PostgreSQL: a database made before the audit table existed gets it when a daemon opens it; the stores are untouched', { skip: noPostgres }, async (t) => {
  const url = await testDatabase(t);
  const db = await PgStore.open({ url, owner: 'test' });
  await db.create('old', initial);
  await db.close();
  await sql(url, 'DROP TABLE uefi_vars_audit'); // as an older uefi-vars left it
  await sql(url, 'DROP FUNCTION uefi_vars_audit_refuse()');
  const again = await PgStore.open({ url, owner: 'test' });
  assert.equal(again.auditUnavailable, undefined);
  assert.equal((await again.peek('old'))!.length, initial.length);
  await again.appendAudit({ vm: 'old', time: new Date().toISOString(), variable: 'db', applied: true, status: 'EFI_SUCCESS', record: { vm: 'old', variable: 'db' } });
  assert.deepEqual(await again.auditRecords('old'), [{ vm: 'old', variable: 'db' }]);
  await again.close();
  await assert.rejects(sql(url, 'TRUNCATE uefi_vars_audit'), /append-only/);
});
