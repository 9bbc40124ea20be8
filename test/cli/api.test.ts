import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, tempDir } from '../helpers/cli.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { nameKey } from '../../src/wire/ucs2.js';

const G = '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f';

/** Async: the daemon under test runs in this process's event loop's children, so a sync spawn would be fine too, but keep the loop free. */
function api(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [CLI, 'api', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    c.once('exit', (code) => res({ code, stdout, stderr }));
  });
}

async function startDaemon(t: { after(fn: () => void): void }, dir: string, extra: string[] = []): Promise<{ store: string; socket: string; apiSock: string; port?: number; stop(): Promise<number | null> }> {
  const store = join(dir, 'vm.json');
  const socket = join(dir, 'd.sock');
  const apiSock = join(dir, 'a.sock');
  const child = spawn(process.execPath, [CLI, 'serve', '--store', store, '--socket', socket, '--api', apiSock, '--json', '--log-level', 'silent', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { child.kill('SIGKILL'); });
  const line = await new Promise<string>((res) => { let b = ''; child.stdout.on('data', (c: Buffer) => { b += c.toString(); if (b.includes('\n')) res(b); }); });
  const port = (JSON.parse(line) as { apiPort: number | null }).apiPort ?? undefined;
  return {
    store, socket, apiSock, ...(port !== undefined ? { port } : {}),
    stop: () => { const e = new Promise<number | null>((r) => child.once('exit', r)); child.kill('SIGTERM'); return e; },
  };
}

test('api over the Unix socket: vms, set, get (hex, --out -), variables, secure-boot, delete', async (t) => {
  const dir = tempDir(t);
  const d = await startDaemon(t, dir);
  const s = ['--socket', d.apiSock];
  const vms = await api(...s, 'vms');
  assert.equal(vms.code, 0, vms.stderr);
  assert.match(vms.stdout, /^default {2}loaded {2}\d+ variables/m);
  const set = await api(...s, 'set', 'default', 'Host', G, 'NV|BS|RT', '--hex', 'c0ffee');
  assert.equal(set.code, 0, set.stderr);
  const get = await api(...s, 'get', 'default', 'Host', G);
  assert.deepEqual([get.code, get.stdout.trim()], [0, 'c0ffee']);
  const raw = spawnSync(process.execPath, [CLI, 'api', ...s, 'get', 'default', 'Host', G, '--out', '-']);
  assert.deepEqual([...raw.stdout], [0xc0, 0xff, 0xee]);
  const j = JSON.parse((await api(...s, 'get', 'default', 'Host', G, '--json')).stdout) as { attributes: number; attributesText: string; time: string | null };
  assert.deepEqual([j.attributes, j.attributesText, j.time], [7, 'NV|BS|RT', null]);
  assert.match((await api(...s, 'variables', 'default')).stdout, /Host +NV\|BS\|RT +3 bytes/);
  const sb = JSON.parse((await api(...s, 'secure-boot', 'default')).stdout) as { mode: string };
  assert.equal(sb.mode, 'setup');
  // A well-known name needs no GUID: SetupMode is there at every machine start.
  assert.equal((await api(...s, 'get', 'default', 'SetupMode')).stdout.trim(), '01');
  assert.equal((await api(...s, 'delete', 'default', 'Host', G)).code, 0);
  const gone = await api(...s, 'get', 'default', 'Host', G);
  assert.equal(gone.code, 2, 'a 404 is exit 2');
  assert.match(gone.stderr, /^uefi-vars api: 404 not-found: no such variable$/m);
  assert.equal(await d.stop(), 0);
  // The host write was durable in the daemon's store (and then deleted).
  assert.ok(!decodeQemuJson(readFileSync(d.store)).some((v) => nameKey(v.name) === 'Host'));
});

test('api over TCP needs the token: with --token-file it works, without it the 401 is exit 1', async (t) => {
  const dir = tempDir(t);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'a-long-enough-test-token\n');
  const d = await startDaemon(t, dir, ['--api-port', '0', '--api-token-file', tokenFile]);
  assert.ok(d.port && d.port > 0);
  const url = `http://127.0.0.1:${d.port}`;
  const ok = await api('--url', url, '--token-file', tokenFile, 'vms', '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(Array.isArray((JSON.parse(ok.stdout) as { vms: unknown[] }).vms));
  const no = await api('--url', url, 'vms');
  assert.equal(no.code, 1);
  assert.match(no.stderr, /401 unauthorized/);
  await d.stop();
});

test('api usage errors and an unreachable socket are one line, exit 1', async (t) => {
  const dir = tempDir(t);
  for (const args of [
    ['--socket', join(dir, 'none.sock'), 'vms'],
    ['--socket', join(dir, 'none.sock'), 'frob'],
    ['--socket', join(dir, 'none.sock'), 'get', 'vm1'],
    ['--socket', 'a', '--url', 'http://127.0.0.1:1', 'vms'],
    ['--socket', join(dir, 'none.sock'), 'set', 'vm1', 'X', G, '7'],
  ]) {
    const r = await api(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
