import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { CLI, tempDir, spawnServe, waitListening, setVar, http, EFI_SUCCESS } from './helpers.js';

test('serve --store creates a missing store, listens on 0600 sockets, and on SIGTERM exits 0 with every acknowledged write in the store', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vm.json');
  const sock = join(dir, 'd.sock');
  const api = join(dir, 'a.sock');
  const p = spawnServe(['--store', store, '--socket', sock, '--api', api, '--log-level', 'info']);
  t.after(() => { p.child.kill('SIGKILL'); });
  await waitListening(sock, 10_000, p.exited);
  await waitListening(api, 10_000, p.exited);
  assert.equal(statSync(sock).mode & 0o777, 0o600, 'data socket mode');
  assert.equal(statSync(api).mode & 0o777, 0o600, 'API socket mode');

  const c = await DaemonClient.connect(sock, 'whatever');
  assert.ok(existsSync(store), 'the missing store was created by the time HELLO_OK arrives');
  assert.deepEqual(JSON.parse(readFileSync(store, 'utf8')).version, 2);
  const acked: string[] = [];
  // Keep writing while SIGTERM arrives: the daemon must finish what it accepted.
  const writer = (async () => {
    for (let i = 0; i < 10_000; i++) {
      try {
        if (await setVar(c, `T${i}`, Uint8Array.of(i & 0xff)) === EFI_SUCCESS) acked.push(`T${i}`);
      } catch {
        return;
      }
    }
  })();
  let writing = true;
  void writer.then(() => { writing = false; });
  while (acked.length < 5 && writing) await new Promise((r) => setTimeout(r, 5));
  assert.ok(acked.length >= 5, p.stderr());
  p.child.kill('SIGTERM');
  const { code, signal } = await p.exited;
  await writer;
  assert.equal(signal, null);
  assert.equal(code, 0, p.stderr());
  assert.ok(!existsSync(sock) && !existsSync(api), 'sockets removed on a clean stop');
  const names = new Set((await loadStoreFile(store)).variables.map((v) => nameKey(v.name)));
  for (const n of acked) assert.ok(names.has(n), `${n} was acknowledged, so it must be in the store`);
  const logs = p.stderr().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(logs.some((l) => l.msg === 'hello'));
  assert.ok(logs.some((l) => l.msg === 'stopped'));
});

test('a store that exists but does not parse: one line naming the file, exit 1, file untouched, nothing listening', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'broken.json');
  const sock = join(dir, 'd.sock');
  const bytes = '{"version": 2, "variables": [ {"name": "X", "guid": 5 ';
  writeFileSync(store, bytes);
  const before = statSync(store).mtimeMs;
  const p = spawnServe(['--store', store, '--socket', sock]);
  const { code } = await p.exited;
  assert.equal(code, 1);
  const lines = p.stderr().trim().split('\n').filter((l) => !l.startsWith('{'));
  assert.equal(lines.length, 1, p.stderr());
  assert.ok(lines[0]!.includes(store), lines[0]);
  assert.equal(readFileSync(store, 'utf8'), bytes);
  assert.equal(statSync(store).mtimeMs, before);
  assert.ok(!existsSync(sock));
});

test('a stale socket file is replaced, a live one is refused before the store is touched, and a regular file at the path is never removed', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 's.json');
  const sock = join(dir, 'd.sock');
  // A socket file nobody listens on: what a killed daemon leaves.
  const stale: Server = createServer();
  await new Promise<void>((r) => stale.listen(join(dir, 'tmp.sock'), r));
  renameSync(join(dir, 'tmp.sock'), sock); // closing the server must not remove the renamed file
  await new Promise<void>((r) => stale.close(() => r()));
  assert.ok(existsSync(sock));

  const first = spawnServe(['--store', store, '--socket', sock]);
  t.after(() => { first.child.kill('SIGKILL'); });
  await waitListening(sock, 10_000, first.exited);

  // A second daemon on the same socket and store, started by mistake, must not touch the store.
  const c = await DaemonClient.connect(sock, 'x'); // the store is loaded and written once the first HELLO is answered
  await c.close();
  const mtime = statSync(store).mtimeMs;
  const second = spawnServe(['--store', store, '--socket', sock]);
  assert.equal((await second.exited).code, 1);
  assert.match(second.stderr(), /in use by a running uefi-vars daemon/); // the store's claim is checked first
  assert.equal(statSync(store).mtimeMs, mtime, 'the refused daemon never rewrote the store');
  // Another store, the same socket path: refused at listen, its store never created.
  const other = join(dir, 'other.json');
  const secondSocket = spawnServe(['--store', other, '--socket', sock]);
  assert.equal((await secondSocket.exited).code, 1);
  assert.match(secondSocket.stderr(), /another process is listening/);
  assert.ok(!existsSync(other));
  await waitListening(sock, 1000); // the first daemon is unharmed

  const file = join(dir, 'not-a-socket');
  writeFileSync(file, 'keep me');
  const third = spawnServe(['--store', join(dir, 'third.json'), '--socket', file]);
  assert.equal((await third.exited).code, 1);
  assert.match(third.stderr(), /not a socket/);
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
  first.child.kill('SIGTERM');
  assert.equal((await first.exited).code, 0);
});

test('socket activation: with LISTEN_PID/LISTEN_FDS the daemon serves the inherited fd 3 and ignores --socket', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'activated.sock');
  const listener: Server = createServer();
  await new Promise<void>((r) => listener.listen(join(dir, 'bind.sock'), r));
  renameSync(join(dir, 'bind.sock'), path);
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  assert.ok(fd > 2);
  const api = join(dir, 'api.sock');
  // $$ is the shell's pid, which exec hands on to node: exactly how systemd sets LISTEN_PID.
  const cmd = `LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=data exec "${process.execPath}" "${CLI}" serve --state-dir "${join(dir, 'vms')}" --socket "${join(dir, 'unused.sock')}" --api "${api}"`;
  const p = spawnServe([], { shell: cmd, fds: [fd] });
  t.after(() => { p.child.kill('SIGKILL'); });
  await new Promise<void>((r) => listener.close(() => r())); // the child holds its own copy; we must not accept
  await waitListening(api, 10_000, p.exited);
  const c = await DaemonClient.connect(path, 'activated');
  assert.equal(await setVar(c, 'Hi', Uint8Array.of(1)), EFI_SUCCESS);
  await c.close();
  assert.ok(!existsSync(join(dir, 'unused.sock')));
  assert.equal((await http({ socketPath: api }, 'GET', '/healthz')).status, 200);
  p.child.kill('SIGTERM');
  assert.equal((await p.exited).code, 0);
});

test('serve refuses contradictory or incomplete options with one line and exit 1', async (t) => {
  const dir = tempDir(t);
  const cases: [string[], RegExp][] = [
    [['--store', join(dir, 'a.json'), '--state-dir', dir], /exclude each other/],
    [['--store', join(dir, 'a.json'), '--api-port', '0'], /--api-token-file/],
    [['--store', join(dir, 'a.json'), '--log-level', 'loud'], /--log-level/],
    [['--store', join(dir, 'a.json'), '--bogus'], /unknown option --bogus/],
  ];
  await Promise.all(cases.map(async ([args, re]) => {
    const p = spawnServe(args);
    assert.equal((await p.exited).code, 1, args.join(' '));
    assert.match(p.stderr(), re);
    assert.equal(p.stderr().trim().split('\n').length, 1);
  }));
  assert.ok(!existsSync(join(dir, 'a.json')), 'nothing was created');
});

test('the listening line says which collector runs: single-threaded under node --single-threaded-gc (docs/cli.md, serve)', async (t) => {
  const dir = tempDir(t);
  const gcOf = async (flags: string): Promise<unknown> => {
    const sock = join(dir, `gc${flags.length}.sock`);
    const p = spawnServe([], { shell: `exec "${process.execPath}" ${flags} "${CLI}" serve --memory --socket "${sock}" --log-level info` });
    t.after(() => { p.child.kill('SIGKILL'); });
    await waitListening(sock, 10_000, p.exited);
    for (let i = 0; i < 100 && !p.stderr().includes('"msg":"listening"'); i++) await new Promise((r) => setTimeout(r, 20));
    const listening = p.stderr().split('\n').filter((l) => l.includes('"msg":"listening"')).map((l) => JSON.parse(l) as { gc: unknown });
    p.child.kill('SIGTERM');
    await p.exited;
    return listening[0]?.gc;
  };
  assert.equal(await gcOf('--single-threaded-gc'), 'single-threaded');
  assert.match(String(await gcOf('')), /^parallel/);
});

test('SIGTERM sent the moment the listening line appears stops the daemon (exit 0), every time', async (t) => {
  // The signal used to be lost about one time in two: caught by the handler that waited for
  // start() to return, and dropped when that handler was swapped for the running one.
  const dir = tempDir(t);
  for (let round = 0; round < 10; round++) {
    const sock = join(dir, `r${round}.sock`);
    const p = spawnServe(['--memory', '--socket', sock, '--log-level', 'info']);
    t.after(() => { p.child.kill('SIGKILL'); });
    let sent = false;
    p.child.stderr!.on('data', () => {
      if (!sent && p.stderr().includes('"msg":"listening"')) { sent = true; p.child.kill('SIGTERM'); }
    });
    const r = await Promise.race([p.exited, new Promise<'hung'>((res) => setTimeout(() => res('hung'), 10_000))]);
    assert.notEqual(r, 'hung', `round ${round}: still running 10 s after SIGTERM`);
    assert.deepEqual(r, { code: 0, signal: null }, `round ${round}: ${p.stderr()}`);
    assert.ok(sent, 'the signal was sent after the listening line');
  }
});
