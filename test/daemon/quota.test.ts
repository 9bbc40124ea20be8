import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon/server/server.js';
import { createLogger } from '../../src/daemon/server/logging.js';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { LogCapture, setVar, http, EFI_SUCCESS } from './helpers.js';

/**
 * Per-VM quotas through the management API (issue 16): PUT /vms/ID/quota is
 * durable beside the VM's store before the answer, binds the guest's next
 * request (EFI_OUT_OF_RESOURCES), and comes back with the VM after a restart.
 */
const EFI_OUT_OF_RESOURCES = 0x8000000000000009n;

async function start(dir: string, n: number): Promise<{ daemon: Daemon; socket: string; api: string }> {
  const socket = join(dir, `data-${n}.sock`);
  const api = join(dir, `api-${n}.sock`);
  const daemon = await Daemon.start({ layout: { kind: 'dir', dir: join(dir, 'vms') }, socketPath: socket, apiSocketPath: api, logger: createLogger('warn', new LogCapture()) });
  return { daemon, socket, api };
}

test('PUT /vms/ID/quota: stored beside the store, enforced on the guest, kept across a restart; bad quotas are 400', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-quota-'));
  const running: Daemon[] = [];
  t.after(async () => { for (const d of running) await d.stop().catch(() => undefined); rmSync(dir, { recursive: true, force: true }); });

  const a = await start(dir, 1);
  running.push(a.daemon);
  const c = await DaemonClient.connect(a.socket, 'vm1');
  assert.equal(await setVar(c, 'First', Uint8Array.of(1)), EFI_SUCCESS);
  const count = (await http({ socketPath: a.api }, 'GET', '/vms/vm1/variables')).json as { variables: unknown[] };
  const maxVariables = count.variables.length + 1;

  assert.deepEqual((await http({ socketPath: a.api }, 'GET', '/vms/vm1/quota')).json, { quota: {} });
  const put = await http({ socketPath: a.api }, 'PUT', '/vms/vm1/quota', { body: { maxVariables, maxBytes: null } });
  assert.equal(put.status, 200, put.body);
  assert.deepEqual(put.json, { quota: { maxVariables } });
  const file = join(dir, 'vms', 'vm1.json.quota');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { maxVariables });

  assert.equal(await setVar(c, 'Second', Uint8Array.of(2)), EFI_SUCCESS, 'one more fits');
  assert.equal(await setVar(c, 'Third', Uint8Array.of(3)), EFI_OUT_OF_RESOURCES, 'then the quota refuses');
  assert.equal(await setVar(c, 'First', Uint8Array.of(9, 9)), EFI_SUCCESS, 'updates still pass');

  for (const body of [{ maxVariables: 0 }, { nope: 1 }, [1]]) {
    const bad = await http({ socketPath: a.api }, 'PUT', '/vms/vm1/quota', { body });
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.equal((bad.json as { error: string }).error, 'bad-quota');
  }
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { maxVariables }, 'a refused PUT changed nothing');
  const vms = (await http({ socketPath: a.api }, 'GET', '/vms')).json as { vms: { id: string }[] };
  assert.deepEqual(vms.vms.map((v) => v.id), ['vm1'], 'the quota file is not taken for a VM');
  await c.close();
  await a.daemon.stop();

  // A new daemon on the same state directory: the quota comes back with the VM.
  const b = await start(dir, 2);
  running.push(b.daemon);
  const c2 = await DaemonClient.connect(b.socket, 'vm1');
  t.after(() => c2.close());
  assert.equal(await setVar(c2, 'Third', Uint8Array.of(3)), EFI_OUT_OF_RESOURCES, 'still bound after the restart');
  assert.deepEqual((await http({ socketPath: b.api }, 'GET', '/vms/vm1/quota')).json, { quota: { maxVariables } });
  const cleared = await http({ socketPath: b.api }, 'PUT', '/vms/vm1/quota', { body: {} });
  assert.equal(cleared.status, 200);
  assert.equal(existsSync(file), false, 'an empty quota removes the file');
  assert.equal(await setVar(c2, 'Third', Uint8Array.of(3)), EFI_SUCCESS);
});

test('a quota file that does not parse keeps the VM from loading instead of running it unbounded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-quota-'));
  const a = await start(dir, 1);
  t.after(async () => { await a.daemon.stop(); rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(join(dir, 'vms', 'vm2.json.quota'), '{"maxVariables": "lots"}');
  await assert.rejects(DaemonClient.connect(a.socket, 'vm2'));
  const r = await http({ socketPath: a.api }, 'GET', '/vms/vm2');
  assert.notEqual(r.status, 200);
});
