/**
 * One writer per store: a daemon claims its --store file or --state-dir while it
 * runs. A second daemon on the same stores, or a CLI write to a store a daemon
 * serves, is refused with one line and exit 1, and nothing is written; a claim
 * left by a killed daemon is taken over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { ErrorCode, FrameType, decodeError } from '../../src/daemon/protocol/frames.js';
import { storeLockPath, stateDirLockPath, StoreLock, StoreInUseError, assertStoreFree } from '../../src/persist/store-lock.js';
import { CLI, tempDir, spawnServe, waitListening, setVar, FrameSocket, EFI_SUCCESS } from '../daemon/helpers.js';

/** The pid of a process that has exited (a killed daemon's claim looks like this). */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

for (const layout of ['--state-dir', '--store'] as const) {
  test(`a second daemon on the same ${layout} exits 1 with one line and leaves the first serving`, async (t) => {
    const dir = tempDir(t);
    const target = join(dir, layout === '--store' ? 'vm.json' : 'vms');
    const first = spawnServe([layout, target, '--socket', join(dir, 'a.sock'), '--log-level', 'silent']);
    t.after(() => { first.child.kill('SIGKILL'); });
    await waitListening(join(dir, 'a.sock'), 10_000, first.exited);
    const lock = layout === '--store' ? storeLockPath(target) : stateDirLockPath(target);
    assert.equal(claimPid(lock), first.child.pid);

    const second = spawnServe([layout, target, '--socket', join(dir, 'b.sock'), '--log-level', 'silent']);
    t.after(() => { second.child.kill('SIGKILL'); });
    const { code } = await second.exited;
    assert.equal(code, 1);
    const lines = second.stderr().trim().split('\n');
    assert.equal(lines.length, 1, second.stderr());
    assert.match(lines[0]!, new RegExp(`${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: in use by a running uefi-vars daemon \\(pid ${first.child.pid}`));
    assert.ok(!existsSync(join(dir, 'b.sock')), 'the refused daemon never listened');

    const c = await DaemonClient.connect(join(dir, 'a.sock'), 'vm');
    assert.equal(await setVar(c, 'StillServing', Uint8Array.of(1)), EFI_SUCCESS);
    await c.close();
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0);
    assert.ok(!existsSync(lock), 'a clean stop gives the claim up');
  });
}

test('a claim left by a killed daemon is taken over', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vm.json');
  writeFileSync(storeLockPath(store), `${await deadPid()}\n`);
  const p = spawnServe(['--store', store, '--socket', join(dir, 'd.sock'), '--log-level', 'silent']);
  t.after(() => { p.child.kill('SIGKILL'); });
  await waitListening(join(dir, 'd.sock'), 10_000, p.exited);
  assert.equal(claimPid(storeLockPath(store)), p.child.pid);
  p.child.kill('SIGTERM');
  assert.equal((await p.exited).code, 0);
});

/** The pid line of a claim. */
function claimPid(lock: string): number {
  return Number(readFileSync(lock, 'utf8').split('\n')[0]);
}

/** A live process that is not a daemon: what a claim's pid names after a reboot reused it. */
function bystander(t: { after(fn: () => void): void }): number {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => { c.kill('SIGKILL'); });
  return c.pid!;
}

const procStat = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8');
const bootIdNow = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
/** Field 22 of /proc/PID/stat, read here independently of the code under test. */
const startOf = (pid: number): string => procStat(pid).replace(/^.*\) /s, '').split(' ')[19]!;

test('a claim whose pid now names another process (reused after a reboot, or later in this boot) is taken over', { skip: !existsSync('/proc/self/stat') && 'needs Linux /proc' }, async (t) => {
  const other = bystander(t);
  const dir = tempDir(t);
  const cases: [string, string][] = [
    ['written in an earlier boot', `${other}\nboot 00000000-0000-0000-0000-000000000000\nstart ${startOf(other)}\n`],
    ['by a process that started at another time', `${other}\nboot ${bootIdNow()}\nstart 1\n`],
  ];
  for (const [why, text] of cases) {
    const store = join(dir, `vm-${cases.findIndex((c) => c[0] === why)}.json`);
    writeFileSync(storeLockPath(store), text);
    const lock = await StoreLock.acquire(storeLockPath(store), store);
    assert.equal(claimPid(storeLockPath(store)), process.pid, why);
    await lock.release();
  }
});

test('a claim naming a live process with its own boot and start time, or only its pid (older claims), holds', { skip: !existsSync('/proc/self/stat') && 'needs Linux /proc' }, async (t) => {
  const other = bystander(t);
  const dir = tempDir(t);
  for (const text of [`${other}\nboot ${bootIdNow()}\nstart ${startOf(other)}\n`, `${other}\n`]) {
    const store = join(dir, 'vm.json');
    writeFileSync(storeLockPath(store), text);
    await assert.rejects(StoreLock.acquire(storeLockPath(store), store), (e: unknown) => e instanceof StoreInUseError && e.pid === other);
    await assert.rejects(assertStoreFree(store), StoreInUseError);
  }
});

test('the claim a daemon writes names its pid, this boot and its start time', { skip: !existsSync('/proc/self/stat') && 'needs Linux /proc' }, async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vm.json');
  const lock = await StoreLock.acquire(storeLockPath(store), store);
  t.after(() => lock.release());
  assert.equal(readFileSync(storeLockPath(store), 'utf8'), `${process.pid}\nboot ${bootIdNow()}\nstart ${startOf(process.pid)}\n`);
});

test('uefi-vars set on a store a daemon serves is refused: exit 1, one line, store bytes unchanged', async (t) => {
  const dir = tempDir(t);
  const vms = join(dir, 'vms');
  const p = spawnServe(['--state-dir', vms, '--socket', join(dir, 'd.sock'), '--log-level', 'silent']);
  t.after(() => { p.child.kill('SIGKILL'); });
  await waitListening(join(dir, 'd.sock'), 10_000, p.exited);
  const c = await DaemonClient.connect(join(dir, 'd.sock'), 'guest');
  assert.equal(await setVar(c, 'FromGuest', Uint8Array.of(1)), EFI_SUCCESS);
  await c.close();
  const store = join(vms, 'guest.json');
  const before = readFileSync(store);
  const r = spawnSync(process.execPath, [CLI, 'set', store, 'FromCli', 'global', '7', '--hex', '01'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /in use by a running uefi-vars daemon/);
  assert.deepEqual(readFileSync(store), before);
});

test('two claims on one path in one process: the second is refused; after release it can be taken', async (t) => {
  const dir = tempDir(t);
  const lockPath = join(dir, 'x.lock');
  const a = await StoreLock.acquire(lockPath, 'x');
  await assert.rejects(StoreLock.acquire(lockPath, 'x'), StoreInUseError);
  await a.release();
  assert.ok(!existsSync(lockPath));
  const b = await StoreLock.acquire(lockPath, 'x');
  await b.release();
});

test('--hello-timeout closes a connection that never says HELLO, with ERROR TIMEOUT', async (t) => {
  const dir = tempDir(t);
  const p = spawnServe(['--memory', '--socket', join(dir, 'd.sock'), '--log-level', 'silent', '--hello-timeout', '150']);
  t.after(() => { p.child.kill('SIGKILL'); });
  await waitListening(join(dir, 'd.sock'), 10_000, p.exited);
  const s = await FrameSocket.connect(join(dir, 'd.sock'));
  t.after(() => s.destroy());
  const t0 = Date.now();
  const f = await s.next(3000);
  assert.ok(f && f.type === FrameType.ERROR);
  assert.equal(decodeError(f.payload).code, ErrorCode.TIMEOUT);
  await s.waitClosed(3000);
  assert.ok(Date.now() - t0 < 2500, 'closed well before the 10 s default');
});

test('--hello-timeout and --memory-timeout refuse values a timer cannot hold', () => {
  for (const bad of [['--hello-timeout', '0'], ['--memory-timeout', '2147483648'], ['--hello-timeout', 'soon']]) {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--memory', ...bad], { encoding: 'utf8' });
    assert.equal(r.status, 1, bad.join(' '));
    assert.match(r.stderr, new RegExp(bad[0]!));
  }
});

test('starters racing for one stale claim: exactly one wins, every round', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vm.json');
  const lockModule = pathToFileURL(resolve('dist/src/persist/store-lock.js')).href;
  // Each starter waits for a common moment and tries; a winner holds its claim until its stdin
  // closes, which happens only once every starter has answered, so no late starter can find it
  // released and win as well.
  const script = `
    const { StoreLock } = await import(${JSON.stringify(lockModule)});
    const at = Number(process.argv[1]);
    while (Date.now() < at) {}
    try {
      const l = await StoreLock.acquire(${JSON.stringify(storeLockPath(store))}, 'vm');
      process.stdout.write('won');
      process.stdin.resume();
      await new Promise((r) => process.stdin.on('end', r));
      await l.release();
    } catch (e) {
      process.stdout.write(e.name === 'StoreInUseError' ? 'in-use' : 'error: ' + e.message);
    }`;
  for (let round = 0; round < 5; round++) {
    writeFileSync(storeLockPath(store), `${await deadPid()}\n`);
    const at = Date.now() + 500;
    const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', script, String(at)], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const exited = children.map((c) => new Promise((r) => c.on('exit', r)));
    const outs = await Promise.all(children.map((c) => new Promise<string>((res) => {
      c.stdout.once('data', (b: Buffer) => res(b.toString()));
      c.on('exit', () => res('(exited without an answer)'));
    })));
    for (const c of children) c.stdin.end();
    await Promise.all(exited);
    assert.equal(outs.filter((o) => o === 'won').length, 1, `round ${round}: ${outs.join(', ')}`);
    assert.equal(outs.filter((o) => o === 'in-use').length, 5, `round ${round}: ${outs.join(', ')}`);
    assert.ok(!existsSync(storeLockPath(store)), 'the winner released its claim');
  }
});
