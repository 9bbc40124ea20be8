import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { VmRegistry } from '../../src/daemon/server/registry.js';
import { CLI, tempDir, startDaemon, spawnServe, waitListening, setVar, getVar, http, sleep, EFI_SUCCESS, TEST_GUID, type TestDaemon } from './helpers.js';
import { noPostgres, testDatabase, sql } from '../helpers/postgres.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const opts = { skip: noPostgres };
const EFI_DEVICE_ERROR = 0x8000000000000007n;

async function host(t: Parameters<typeof startDaemon>[0], url: string, owner: string): Promise<TestDaemon> {
  return startDaemon(t, { layout: { kind: 'postgres', url, owner } });
}

async function counter(d: TestDaemon, name: string): Promise<string> {
  return d.daemon.metrics.registry.getSingleMetricAsString(name);
}

test('serve --postgres: acknowledged writes survive kill -9; the next daemon reads them; the URL\'s password is never logged', opts, async (t) => {
  const url = await testDatabase(t);
  const dir = tempDir(t);
  const sock = join(dir, 'd.sock');
  const start = (): ReturnType<typeof spawnServe> => {
    const p = spawnServe(['--postgres', url, '--owner', 'host-a', '--socket', sock, '--log-level', 'info']);
    t.after(() => { p.child.kill('SIGKILL'); });
    return p;
  };
  const first = start();
  await waitListening(sock, 10_000, first.exited);
  const c = await DaemonClient.connect(sock, 'vm-1');
  for (let i = 0; i < 20; i++) assert.equal(await setVar(c, `K${i}`, Uint8Array.of(i, 0xaa)), EFI_SUCCESS);
  first.child.kill('SIGKILL');
  await first.exited;
  await c.close().catch(() => undefined);

  const second = start();
  await waitListening(sock, 10_000, second.exited);
  const again = await DaemonClient.connect(sock, 'vm-1');
  t.after(() => again.close());
  for (let i = 0; i < 20; i++) assert.deepEqual((await getVar(again, `K${i}`)).data, Uint8Array.of(i, 0xaa));
  const password = new URL(url).password;
  assert.ok(password.length > 0, 'the test URL carries a password');
  for (const p of [first, second]) {
    assert.ok(p.stderr().includes('"msg":"listening"'), p.stderr());
    assert.ok(!p.stderr().includes(password), 'no log line shows the password');
  }
});

test('a VM moved to another host: the old host\'s writes are refused (EFI_DEVICE_ERROR, counted, logged) and moving back picks up the new host\'s writes', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await host(t, url, 'host-a');
  const b = await host(t, url, 'host-b');

  const onA = await DaemonClient.connect(a.socket, 'vm1');
  assert.equal(await setVar(onA, 'Before', Uint8Array.of(1)), EFI_SUCCESS);

  // The VM migrates: its VMM on host B connects; host B takes the store over.
  const onB = await DaemonClient.connect(b.socket, 'vm1');
  assert.deepEqual((await getVar(onB, 'Before')).data, Uint8Array.of(1));
  assert.equal(await setVar(onB, 'OnB', Uint8Array.of(2)), EFI_SUCCESS);

  // A late write on the old host: refused, and not visible anywhere.
  assert.equal(await setVar(onA, 'Late', Uint8Array.of(3)), EFI_DEVICE_ERROR);
  assert.equal((await getVar(onA, 'Late')).data, undefined, 'the refused write was undone in memory too');
  assert.match(await counter(a, 'uefi_vars_store_write_failures_total'), /reason="ownership-lost"} 1/);
  const logged = await a.logs.waitFor((l) => l.msg === 'store write failed; the request was refused and undone');
  assert.equal(logged.reason, 'ownership-lost');
  assert.match(String(logged.err), /VM vm1: now owned by host-b/);
  assert.equal(Number((await sql(url, `SELECT count(*) AS n FROM uefi_vars_variable WHERE display_name = 'Late'`)).rows[0].n), 0);

  // The VM migrates back: host A must not serve what it had in memory.
  await onA.close();
  await onB.close();
  const back = await DaemonClient.connect(a.socket, 'vm1');
  t.after(() => back.close());
  assert.deepEqual((await getVar(back, 'OnB')).data, Uint8Array.of(2), 'host A re-read the store host B wrote');
  assert.equal(await setVar(back, 'Home', Uint8Array.of(4)), EFI_SUCCESS);
});

test('two connections of one VM on one host share one claim: the second hello does not reload under the first', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await host(t, url, 'host-a');
  const one = await DaemonClient.connect(a.socket, 'vm1');
  const two = await DaemonClient.connect(a.socket, 'vm1');
  t.after(async () => { await one.close(); await two.close(); });
  assert.equal(await setVar(one, 'X', Uint8Array.of(1)), EFI_SUCCESS);
  assert.deepEqual((await getVar(two, 'X')).data, Uint8Array.of(1));
  assert.equal(await setVar(two, 'Y', Uint8Array.of(2)), EFI_SUCCESS);
  assert.equal((await sql(url, 'SELECT epoch FROM uefi_vars_vm')).rows[0].epoch, '1', 'claimed once');
});

test('the management API lists the database\'s VMs and reads one it does not serve without taking it over; a write through it takes it over', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await host(t, url, 'host-a');
  const c = await DaemonClient.connect(a.socket, 'vm-listed');
  assert.equal(await setVar(c, 'Seen', Uint8Array.of(5)), EFI_SUCCESS);
  await c.close();

  const other = await host(t, url, 'host-b');
  const list = await http({ socketPath: other.api }, 'GET', '/vms');
  assert.equal(list.status, 200, list.body);
  assert.deepEqual((list.json as { vms: { id: string; loaded: boolean; owner: string }[] }).vms.map((v) => [v.id, v.loaded, v.owner]), [['vm-listed', false, 'host-a']]);
  const missing = await http({ socketPath: other.api }, 'GET', '/vms/nope');
  assert.equal(missing.status, 404, missing.body);
  const vars = await http({ socketPath: other.api }, 'GET', '/vms/vm-listed/variables');
  assert.equal(vars.status, 200, vars.body);
  assert.ok(vars.body.includes('"Seen"'), vars.body);
  const one = await http({ socketPath: other.api }, 'GET', '/vms/vm-listed');
  assert.equal((one.json as { loaded: boolean }).loaded, false, one.body);
  // Reading through another daemon's API does not take the VM over: its own host still writes.
  const back = await DaemonClient.connect(a.socket, 'vm-listed');
  t.after(() => back.close());
  assert.equal(await setVar(back, 'Still', Uint8Array.of(6)), EFI_SUCCESS);
  assert.equal((await sql(url, 'SELECT owner FROM uefi_vars_vm')).rows[0].owner, 'host-a');
  const before = (await sql(url, 'SELECT epoch FROM uefi_vars_vm')).rows[0].epoch as string;
  for (const path of ['/vms/vm-listed', '/vms/vm-listed/secure-boot', '/vms/vm-listed/variables']) {
    assert.equal((await http({ socketPath: other.api }, 'GET', path)).status, 200, path);
  }
  assert.equal((await http({ socketPath: other.api }, 'POST', '/vms/vm-listed/variables')).status, 405, 'a refused method');
  assert.equal((await sql(url, 'SELECT epoch FROM uefi_vars_vm')).rows[0].epoch, before, 'no read took the VM over');

  // A write through it does take it over (an operator's write wins); host A's next guest write is refused.
  const put = await http({ socketPath: other.api }, 'PUT', `/vms/vm-listed/variables/${TEST_GUID}/Op`, { body: { attributes: 7, dataHex: '01' } });
  assert.equal(put.status, 200, put.body);
  assert.equal(await setVar(back, 'Late', Uint8Array.of(7)), 0x8000000000000007n);
  // And host A's API write is answered 409, naming the new owner.
  const refused = await http({ socketPath: a.api }, 'PUT', `/vms/vm-listed/variables/${TEST_GUID}/Op2`, { body: { attributes: 7, dataHex: '02' } });
  assert.equal(refused.status, 409, refused.body);
  assert.match(refused.body, /ownership-lost.*now owned by host-b/);
  // Once host A's guest is gone, an operator's write there reads the store afresh and takes it back.
  await back.close();
  const retaken = await http({ socketPath: a.api }, 'PUT', `/vms/vm-listed/variables/${TEST_GUID}/Op3`, { body: { attributes: 7, dataHex: '03' } });
  assert.equal(retaken.status, 200, retaken.body);
  const names = (await sql(url, 'SELECT display_name FROM uefi_vars_variable ORDER BY seq')).rows.map((r) => r.display_name as string);
  assert.deepEqual(names.filter((n) => n.startsWith('Op')), ['Op', 'Op3'], 'host B\'s write kept, host A\'s refused one absent');
});

test('serve --postgres with an unreachable server: one line, exit 1, nothing left listening; bad option combinations are refused', opts, (t) => {
  const sock = join(tempDir(t), 'd.sock');
  const r = spawnSync(process.execPath, [CLI, 'serve', '--postgres', 'postgresql://u:hunter2@127.0.0.1:1/x', '--socket', sock, '--log-level', 'silent'], { encoding: 'utf8', timeout: 30_000 });
  assert.ok(!existsSync(sock), 'the socket it had opened is removed');
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^uefi-vars serve: postgres: .*ECONNREFUSED/);
  assert.ok(!r.stderr.includes('hunter2'));
  for (const bad of [['--postgres', 'x', '--store', 'a.json'], ['--postgres', 'x', '--memory'], ['--owner', 'h']]) {
    const u = spawnSync(process.execPath, [CLI, 'serve', ...bad], { encoding: 'utf8' });
    assert.equal(u.status, 1, bad.join(' '));
    assert.match(u.stderr, /--postgres|--owner/);
  }
});

test('the database dropping the daemon\'s connections (a restart, a failover) costs no acknowledged write: the next writes reconnect', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await host(t, url, 'host-a');
  const c = await DaemonClient.connect(a.socket, 'vm1');
  t.after(() => c.close());
  assert.equal(await setVar(c, 'One', Uint8Array.of(1)), EFI_SUCCESS);
  const db = new URL(url).pathname.slice(1);
  const killed = await sql(url, 'SELECT count(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()) k', [db]);
  assert.ok(Number(killed.rows[0].n) >= 1, 'the daemon had a connection to drop');
  // At once: the pool may still hand out the dropped connection; the save retries on a new one.
  assert.equal(await setVar(c, 'Two', Uint8Array.of(2)), EFI_SUCCESS);
  await sql(url, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
  await sleep(100); // and after the pool has seen the connection end
  assert.equal(await setVar(c, 'Three', Uint8Array.of(3)), EFI_SUCCESS);
  const names = (await sql(url, 'SELECT display_name FROM uefi_vars_variable')).rows.map((r) => r.display_name as string);
  assert.ok(['One', 'Two', 'Three'].every((n) => names.includes(n)), names.join(','));
  assert.doesNotMatch(await counter(a, 'uefi_vars_store_write_failures_total'), /reason="write-failed"} [1-9]/);
});

test('a hello that comes before the daemon has connected to the database waits for it, whenever it comes', opts, async (t) => {
  const url = await testDatabase(t);
  // The data socket listens before the registry opens the database: a VM asked for in between
  // (here, before open() is even called) must be served once the connection is there.
  const registry = new VmRegistry({ layout: { kind: 'postgres', url, owner: 'host-a' }, options: {}, rateLimit: { ratePerSecond: 0, burst: 0 } });
  t.after(() => registry.close());
  const early = registry.get('vm-early', true);
  await sleep(50);
  await registry.open();
  const vm = await early;
  assert.equal(vm.id, 'vm-early');
  assert.equal((await sql(url, 'SELECT owner FROM uefi_vars_vm')).rows[0].owner, 'host-a');
  // A registry that never opened closes without waiting for a connection that will never come.
  const never = new VmRegistry({ layout: { kind: 'postgres', url, owner: 'host-b' }, options: {}, rateLimit: { ratePerSecond: 0, burst: 0 } });
  const pending = never.get('vm-x', true);
  await never.close();
  await assert.rejects(pending, /postgres: not connected/);
});
