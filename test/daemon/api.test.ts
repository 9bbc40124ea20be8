import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { startDaemon, setVar, getVar, http, EFI_SUCCESS, EFI_NOT_FOUND, TEST_GUID, SHARED } from './helpers.js';

const TOKEN = 'test-token-0123456789abcdef';

type Json = Record<string, unknown>;

test('the API lists VMs and a VM\'s variables with name, guid, attributes and size', async (t) => {
  const d = await startDaemon(t);
  const api = { socketPath: d.api };
  const c = await DaemonClient.connect(d.socket, 'listed');
  t.after(() => c.close());
  assert.equal(await setVar(c, 'Listed', Uint8Array.of(1, 2, 3)), EFI_SUCCESS);

  const vms = await http(api, 'GET', '/vms');
  assert.equal(vms.status, 200);
  const list = (vms.json as { vms: Json[] }).vms;
  assert.deepEqual(list.map((v) => v.id), ['listed']);
  assert.equal(list[0]!.connections, 1);

  const vars = await http(api, 'GET', '/vms/listed/variables');
  const items = (vars.json as { variables: Json[] }).variables;
  assert.deepEqual(items.find((v) => v.name === 'Listed'), { name: 'Listed', guid: TEST_GUID, attributes: 7, attributesText: 'NV|BS|RT', size: 3 });
  assert.ok(items.some((v) => v.name === 'SetupMode'));

  const one = await http(api, 'GET', `/vms/listed/variables/${TEST_GUID}/Listed`);
  assert.equal(one.status, 200);
  assert.equal((one.json as Json).dataHex, '010203');
  assert.equal((one.json as Json).time, null);

  assert.equal((await http(api, 'GET', `/vms/listed/variables/${TEST_GUID}/Nope`)).status, 404);
  assert.equal((await http(api, 'GET', '/vms/unknown/variables')).status, 404);
  assert.equal((await http(api, 'GET', '/vms/..%2Fetc/variables')).status, 400);
  assert.equal((await http(api, 'POST', '/vms')).status, 405);
});

test('a host PUT is durable in the store file and visible to the guest; DELETE removes it the same way', async (t) => {
  const d = await startDaemon(t);
  const api = { socketPath: d.api };
  const c = await DaemonClient.connect(d.socket, 'hosted');
  t.after(() => c.close());
  const storePath = join(d.dir, 'vms', 'hosted.json');

  const put = await http(api, 'PUT', `/vms/hosted/variables/${TEST_GUID}/FromHost`, { body: { attributes: 'NV|BS|RT', dataHex: 'cafe' } });
  assert.equal(put.status, 200, put.body);
  assert.deepEqual((await getVar(c, 'FromHost')).data, Uint8Array.of(0xca, 0xfe));
  const stored = await loadStoreFile(storePath);
  assert.ok(stored.variables.some((v) => nameKey(v.name) === 'FromHost' && v.data.length === 2));
  await d.logs.waitFor((l) => l.msg === 'host write' && l.op === 'put' && l.name === 'FromHost');
  assert.ok(!d.logs.lines.some((l) => JSON.stringify(l).includes('cafe')), 'variable data never reaches the log');

  const del = await http(api, 'DELETE', `/vms/hosted/variables/${TEST_GUID}/FromHost`);
  assert.equal(del.status, 204);
  assert.equal((await getVar(c, 'FromHost')).status, EFI_NOT_FOUND);
  assert.ok(!(await loadStoreFile(storePath)).variables.some((v) => nameKey(v.name) === 'FromHost'));
  assert.equal((await http(api, 'DELETE', `/vms/hosted/variables/${TEST_GUID}/FromHost`)).status, 404);
});

test('host writes bypass guest rules (a read-only variable) but not attribute sanity, name rules or the quota', async (t) => {
  const d = await startDaemon(t, { options: { size: 4096 } });
  const api = { socketPath: d.api };
  const c = await DaemonClient.connect(d.socket, 'rules');
  t.after(() => c.close());
  // A guest may not write SetupMode (read-only, spec §3.4); the host may.
  assert.notEqual(await setVar(c, 'SetupMode', Uint8Array.of(0), 0x6, '8be4df61-93ca-11d2-aa0d-00e098032b8c'), EFI_SUCCESS);
  const ro = await http(api, 'PUT', '/vms/rules/variables/global/SetupMode', { body: { attributes: 'BS|RT', dataHex: '00' } });
  assert.equal(ro.status, 200, ro.body);
  assert.deepEqual((await getVar(c, 'SetupMode', '8be4df61-93ca-11d2-aa0d-00e098032b8c')).data, Uint8Array.of(0));
  const bad = [
    [{ attributes: 0x47, dataHex: '00' }, 'bad-attributes'],
    [{ attributes: 0x5, dataHex: '00' }, 'bad-attributes'],
    [{ attributes: 7, dataHex: '' }, 'empty-data'],
    [{ attributes: 7, dataHex: 'xyz1' }, 'bad-data'],
    [{ attributes: 7, dataHex: '00', timeHex: '00' }, 'bad-time'],
    [{ attributes: 7, dataHex: '00'.repeat(8192) }, 'out-of-storage'],
  ] as const;
  for (const [body, reason] of bad) {
    const r = await http(api, 'PUT', `/vms/rules/variables/${TEST_GUID}/Bad`, { body });
    assert.equal((r.json as Json).error, reason, r.body);
    assert.ok(r.status === 400 || r.status === 409);
  }
  assert.equal((await getVar(c, 'Bad')).status, EFI_NOT_FOUND);
  const astral = await http(api, 'PUT', `/vms/rules/variables/${TEST_GUID}/${encodeURIComponent('\u{1F600}')}`, { body: { attributes: 7, dataHex: '00' } });
  assert.equal((astral.json as Json).error, 'bad-name', 'a character outside UCS-2 cannot be a variable name');
});

test('secure-boot reports setup mode on a fresh VM and the PK subject after a host enrolment', async (t) => {
  const d = await startDaemon(t);
  const api = { socketPath: d.api };
  const c = await DaemonClient.connect(d.socket, 'sb');
  t.after(() => c.close());
  const fresh = (await http(api, 'GET', '/vms/sb/secure-boot')).json as Json;
  assert.equal(fresh.mode, 'setup');
  assert.equal((fresh.pk as Json).present, false);

  // Enrol a real certificate as PK (one EFI_SIGNATURE_LIST of type EFI_CERT_X509) as the operator would.
  const der = readFileSync(join(SHARED, 'vectors', 'certs', 'distro', 'DebianUEFISecureBootPKKEK.der'));
  const list = new Uint8Array(28 + 16 + der.length);
  const v = new DataView(list.buffer);
  list.set([0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72], 0); // EFI_CERT_X509_GUID
  v.setUint32(16, list.length, true); v.setUint32(20, 0, true); v.setUint32(24, 16 + der.length, true);
  list.set(der, 44);
  const put = await http(api, 'PUT', '/vms/sb/variables/global/PK', { body: { attributes: 0x27, dataHex: Buffer.from(list).toString('hex'), timeHex: '00'.repeat(16) } });
  assert.equal(put.status, 200, put.body);
  await c.reset(); // the mode is decided at the auth initialisation, as at machine start
  const after = (await http(api, 'GET', '/vms/sb/secure-boot')).json as { mode: string; pk: { present: boolean; subjects: string[]; entries: Record<string, number> } };
  assert.equal(after.mode, 'user');
  assert.deepEqual(after.pk.entries, { EFI_CERT_X509: 1 });
  assert.equal(after.pk.subjects.length, 1);
  assert.match(after.pk.subjects[0]!, /Debian/);
});

test('/metrics counts requests by function and status and shows storage per VM', async (t) => {
  const d = await startDaemon(t);
  const c = await DaemonClient.connect(d.socket, 'metered');
  t.after(() => c.close());
  assert.equal(await setVar(c, 'M', Uint8Array.of(1)), EFI_SUCCESS);
  assert.equal((await getVar(c, 'Missing')).status, EFI_NOT_FOUND);
  const m = await http({ socketPath: d.api }, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers['content-type'] as string, /text\/plain/);
  assert.match(m.body, /uefi_vars_requests_total\{function="SET_VARIABLE",status="EFI_SUCCESS"\} 1/);
  assert.match(m.body, /uefi_vars_requests_total\{function="GET_VARIABLE",status="EFI_NOT_FOUND"\} 1/);
  assert.match(m.body, /uefi_vars_storage_used_bytes\{vm="metered"\} \d+/);
  assert.match(m.body, /uefi_vars_storage_free_bytes\{vm="metered"\} \d+/);
  assert.match(m.body, /uefi_vars_request_duration_seconds_bucket\{le="0.001",function="SET_VARIABLE"\}/);
  assert.match(m.body, /# TYPE uefi_vars_auth_failures_total counter/);
});

test('an authenticated write refused by signature shows up under auth failures by reason', async (t) => {
  const d = await startDaemon(t);
  const c = await DaemonClient.connect(d.socket, 'auth');
  t.after(() => c.close());
  // A time-based authenticated write whose descriptor is cut short (spec §4.1).
  const status = await setVar(c, 'Signed', new Uint8Array(8), 0x27);
  assert.notEqual(status, EFI_SUCCESS);
  const m = await http({ socketPath: d.api }, 'GET', '/metrics');
  assert.match(m.body, /uefi_vars_auth_failures_total\{reason="auth-[a-z-]+"\} 1/);
});

test('the loopback TCP API requires the bearer token; the Unix socket API is mode 0600', async (t) => {
  const d = await startDaemon(t, { apiPort: 0, apiToken: TOKEN });
  const port = d.daemon.apiPort!;
  assert.ok(port > 0);
  assert.equal((await http({ port }, 'GET', '/healthz')).status, 401);
  const wrong = await http({ port }, 'GET', '/vms', { headers: { Authorization: 'Bearer not-the-token-at-all' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['www-authenticate'], 'Bearer');
  const ok = await http({ port }, 'GET', '/healthz', { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(ok.status, 200);
  assert.equal((ok.json as Json).status, 'ok');
  assert.equal((await http({ port }, 'GET', '/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);
  assert.equal(statSync(d.api).mode & 0o777, 0o600);
  assert.equal((await http({ socketPath: d.api }, 'GET', '/healthz')).status, 200);
});
