import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient, DaemonError } from '../../src/daemon/protocol/vmm-client.js';
import { ErrorCode, encodeHello, FrameType, decodeError } from '../../src/daemon/protocol/frames.js';
import { getNextRequest } from '../../src/client/requests.js';
import { replyStatus } from '../../src/client/requests.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { startDaemon, tempDir, setVar, getVar, FrameSocket, EFI_SUCCESS, EFI_NOT_FOUND, TEST_GUID } from './helpers.js';

test('two VMs cannot see each other\'s variables: not by name, not by enumeration, not in their stores', async (t) => {
  const d = await startDaemon(t);
  const a = await DaemonClient.connect(d.socket, 'vm-a');
  const b = await DaemonClient.connect(d.socket, 'vm-b');
  t.after(async () => { await a.close(); await b.close(); });
  assert.equal(await setVar(a, 'SecretOfA', Uint8Array.of(1, 2, 3)), EFI_SUCCESS);
  assert.equal((await getVar(b, 'SecretOfA')).status, EFI_NOT_FOUND);
  assert.deepEqual((await getVar(a, 'SecretOfA')).data, Uint8Array.of(1, 2, 3));

  // Walk B's whole namespace with GetNextVariableName: A's variable never shows up.
  const seen: string[] = [];
  let name = '';
  let guid = '00000000-0000-0000-0000-000000000000';
  for (let i = 0; i < 100; i++) {
    const r = await b.process(getNextRequest({ name, guid, bufferSize: 1024 }), 65536);
    if (replyStatus(r.reply!) !== EFI_SUCCESS) break;
    const msg = r.reply!.subarray(24);
    const v = new DataView(msg.buffer, msg.byteOffset);
    const size = Number(v.getBigUint64(32, true));
    name = nameKey(msg.subarray(40, 40 + size));
    guid = [...msg.subarray(16, 32)].map((x) => x.toString(16).padStart(2, '0')).join('');
    guid = `${guid.slice(6, 8)}${guid.slice(4, 6)}${guid.slice(2, 4)}${guid.slice(0, 2)}-${guid.slice(10, 12)}${guid.slice(8, 10)}-${guid.slice(14, 16)}${guid.slice(12, 14)}-${guid.slice(16, 20)}-${guid.slice(20)}`;
    seen.push(name);
  }
  assert.ok(seen.includes('SetupMode'), `B enumerates its own auth variables (${seen.join(', ')})`);
  assert.ok(!seen.includes('SecretOfA'));

  const storeA = await loadStoreFile(join(d.dir, 'vms', 'vm-a.json'));
  const storeB = await loadStoreFile(join(d.dir, 'vms', 'vm-b.json'));
  assert.ok(storeA.variables.some((v) => nameKey(v.name) === 'SecretOfA' && v.guid === TEST_GUID));
  assert.ok(!storeB.variables.some((v) => nameKey(v.name) === 'SecretOfA'));
});

test('the first hello for a VM creates its store as <state-dir>/<vm-id>.json; a second connection shares the VM', async (t) => {
  const d = await startDaemon(t);
  const one = await DaemonClient.connect(d.socket, 'web-01');
  t.after(() => one.close());
  assert.ok(existsSync(join(d.dir, 'vms', 'web-01.json')));
  assert.equal(await setVar(one, 'Shared', Uint8Array.of(5)), EFI_SUCCESS);
  const two = await DaemonClient.connect(d.socket, 'web-01');
  t.after(() => two.close());
  assert.deepEqual((await getVar(two, 'Shared')).data, Uint8Array.of(5));
  assert.equal(d.daemon.registry.loaded().length, 1);
});

test('VM ids that could name another file are refused at hello and create nothing', async (t) => {
  const d = await startDaemon(t);
  for (const id of ['../escape', 'a/b', '.hidden', '..', 'x'.repeat(65), 'sp ace', 'nul\u0000']) {
    await assert.rejects(DaemonClient.connect(d.socket, id), (e: unknown) => e instanceof DaemonError && e.code === ErrorCode.BAD_VM_ID, id);
  }
  // The daemon's own claim on the directory (store-lock.ts) is the one file expected there.
  const files = existsSync(join(d.dir, 'vms')) ? readdirSync(join(d.dir, 'vms')).filter((f) => f !== '.uefi-vars.lock') : [];
  assert.deepEqual(files, []);
  assert.ok(!existsSync(join(d.dir, 'escape.json')));
});

test('a connection is bound to one VM: a second HELLO closes it, and the first VM is all it ever reached', async (t) => {
  const d = await startDaemon(t);
  const s = await FrameSocket.connect(d.socket);
  t.after(() => s.destroy());
  s.send(encodeHello('first'));
  assert.equal((await s.next())!.type, FrameType.HELLO_OK);
  s.send(encodeHello('second'));
  const e = await s.next();
  assert.equal(e!.type, FrameType.ERROR);
  assert.equal(decodeError(e!.payload).code, ErrorCode.UNEXPECTED_FRAME);
  await s.waitClosed();
  assert.deepEqual(d.daemon.registry.loaded().map((v) => v.id), ['first']);
});

test('with --store every VM id reaches the one store, reported as VM "default"', async (t) => {
  const path = join(tempDir(t), 'single.json');
  const s = await startDaemon(t, { layout: { kind: 'single', path } });
  const x = await DaemonClient.connect(s.socket, 'anything');
  const y = await DaemonClient.connect(s.socket, 'default');
  t.after(async () => { await x.close(); await y.close(); });
  assert.equal(await setVar(x, 'One', Uint8Array.of(1)), EFI_SUCCESS);
  assert.deepEqual((await getVar(y, 'One')).data, Uint8Array.of(1));
  assert.deepEqual(s.daemon.registry.loaded().map((v) => v.id), ['default']);
  assert.ok((await loadStoreFile(path)).variables.some((v) => nameKey(v.name) === 'One'));
});

test('a VM whose store does not parse is refused at hello with STORE_UNAVAILABLE; its file is left as it was and other VMs work', async (t) => {
  const d = await startDaemon(t);
  const ok = await DaemonClient.connect(d.socket, 'healthy'); // also creates the state directory's first store
  t.after(() => ok.close());
  const bad = join(d.dir, 'vms', 'broken.json');
  writeFileSync(bad, '{"version": 2, "variables": [');
  await assert.rejects(DaemonClient.connect(d.socket, 'broken'), (e: unknown) => e instanceof DaemonError && e.code === ErrorCode.STORE_UNAVAILABLE && e.message.includes(bad));
  assert.equal(readFileSync(bad, 'utf8'), '{"version": 2, "variables": [');
  assert.equal(await setVar(ok, 'Fine', Uint8Array.of(1)), EFI_SUCCESS);
  await d.logs.waitFor((l) => l.msg === 'cannot load the VM store' && l.vm === 'broken');
});
