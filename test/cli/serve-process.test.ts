import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, tempDir } from '../helpers/cli.js';

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const exitOf = (c: ChildProcess): Promise<number | null> => new Promise((res) => {
  if (c.exitCode !== null) res(c.exitCode); else c.once('exit', (code) => res(code));
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`npm start signalled with ${signal}: the daemon stops with it and nothing is left running`, async (t) => {
    const dir = tempDir(t);
    const pidFile = join(dir, 'daemon.pid');
    // --ignore-scripts skips prestart (the build, done already); later options win over the script's.
    const npm = spawn('npm', ['start', '--ignore-scripts', '--silent', '--', '--store', join(dir, 's.json'), '--socket', join(dir, 'd.sock'),
      '--api', join(dir, 'a.sock'), '--pid-file', pidFile, '--log-level', 'warn'], { stdio: 'ignore' });
    let daemon = 0;
    t.after(() => { npm.kill('SIGKILL'); if (daemon && alive(daemon)) process.kill(daemon, 'SIGKILL'); });
    await until('the pid file', () => existsSync(pidFile));
    daemon = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(daemon > 0 && daemon !== npm.pid);
    assert.ok(alive(daemon));
    npm.kill(signal);
    await exitOf(npm);
    await until('the daemon to exit', () => !alive(daemon), 10_000);
    assert.equal(existsSync(pidFile), false, 'a clean stop removes the pid file');
    assert.equal(existsSync(join(dir, 'd.sock')), false, 'and its socket');
  });
}

const hasPython = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX']).status === 0;
const hasNotify = spawnSync('sh', ['-c', 'command -v systemd-notify']).status === 0;

/** A datagram listener on NOTIFY_SOCKET (Node has none): each message as JSON with whether the data socket existed on arrival. */
const LISTENER = String.raw`
import socket, sys, os, json, array
path, watch = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print(json.dumps({"bound": True}), flush=True)
s.settimeout(30)
while True:
    try:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    except socket.timeout:
        break
    for level, kind, d in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i"); fds.frombytes(d[:len(d) - len(d) % 4])
            for fd in fds: os.close(fd)  # BARRIER=1: closing the fd answers it
    print(json.dumps({"msg": data.decode(), "socketExists": os.path.exists(watch)}), flush=True)
`;

test('with $NOTIFY_SOCKET, serve sends READY=1 (and MAINPID) only once its data socket exists', async (t) => {
  if (!hasPython) { t.skip('python3 is needed for a unix datagram listener (Node has none)'); return; }
  if (!hasNotify) { t.skip('systemd-notify is not installed: serve cannot notify (it logs a warning)'); return; }
  const dir = tempDir(t);
  const notify = join(dir, 'notify');
  const socket = join(dir, 'd.sock');
  writeFileSync(join(dir, 'l.py'), LISTENER);
  const py = spawn('python3', [join(dir, 'l.py'), notify, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { py.kill('SIGKILL'); });
  const messages: Array<{ msg?: string; socketExists?: boolean; bound?: boolean }> = [];
  let buf = '';
  py.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) { messages.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1); }
  });
  await until('the listener', () => messages.some((m) => m.bound));
  const serve = spawn(process.execPath, [CLI, 'serve', '--store', join(dir, 's.json'), '--socket', socket, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: notify },
  });
  t.after(() => { serve.kill('SIGKILL'); });
  let stderr = '';
  serve.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  await until('READY=1', () => messages.some((m) => m.msg?.includes('READY=1')));
  const ready = messages.find((m) => m.msg?.includes('READY=1'))!;
  assert.equal(ready.socketExists, true, 'READY=1 before the data socket existed');
  assert.match(ready.msg!, new RegExp(`MAINPID=${serve.pid}`));
  assert.equal(messages.filter((m) => m.msg?.includes('READY=1')).length, 1);
  serve.kill('SIGTERM');
  assert.equal(await exitOf(serve), 0);
  await until('STOPPING=1', () => messages.some((m) => m.msg?.includes('STOPPING=1')), 5_000).catch(() => t.diagnostic('no STOPPING=1 seen (best effort)'));
  assert.doesNotMatch(stderr, /cannot tell systemd/);
});

test('without $NOTIFY_SOCKET nothing is sent and serve does not run systemd-notify', async (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 'd.sock');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
  delete env['NOTIFY_SOCKET'];
  const serve = spawn(process.execPath, [CLI, 'serve', '--store', join(dir, 's.json'), '--socket', socket, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  t.after(() => { serve.kill('SIGKILL'); });
  let stderr = '';
  serve.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  await until('the socket', () => existsSync(socket));
  await new Promise((r) => setTimeout(r, 200));
  serve.kill('SIGTERM');
  assert.equal(await exitOf(serve), 0);
  assert.equal(stderr, '', 'no warning: systemd-notify was never looked for');
});

test('serve settings from UEFI_VARS_* and --config FILE (TOML and JSON); the command line wins, then the environment', async (t) => {
  const dir = tempDir(t);
  const cfg = join(dir, 'serve.toml');
  writeFileSync(cfg, `store = "${join(dir, 'from-config.json')}"\nsocket = "${join(dir, 'config.sock')}"\nlog-level = "info"\n"log-file" = "${join(dir, 'log.jsonl')}"\nrate = 100\n`);
  const env = { ...process.env, UEFI_VARS_SOCKET: join(dir, 'env.sock'), UEFI_VARS_PID_FILE: join(dir, 'pid'), UEFI_VARS_JSON: '1' };
  const run = spawn(process.execPath, [CLI, 'serve', '--config', cfg, '--store', join(dir, 'from-cli.json')], { stdio: ['ignore', 'pipe', 'ignore'], env });
  t.after(() => { run.kill('SIGKILL'); });
  const line = await new Promise<string>((res) => { let b = ''; run.stdout.on('data', (c: Buffer) => { b += c.toString(); if (b.includes('\n')) res(b); }); });
  const j = JSON.parse(line) as { socket: string };
  assert.equal(j.socket, join(dir, 'env.sock'), 'environment over config file');
  assert.ok(existsSync(join(dir, 'env.sock')) && !existsSync(join(dir, 'config.sock')));
  assert.equal(readFileSync(join(dir, 'pid'), 'utf8').trim(), String(run.pid));
  run.kill('SIGTERM');
  assert.equal(await exitOf(run), 0);
  assert.ok(existsSync(join(dir, 'from-cli.json')) && !existsSync(join(dir, 'from-config.json')), 'command line over config file');
  const log = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string });
  assert.ok(log.some((l) => l.msg === 'listening') && log.some((l) => l.msg === 'stopped'), 'the log file has the JSON lines');

  const jcfg = join(dir, 'serve.json');
  writeFileSync(jcfg, JSON.stringify({ memory: true, socket: join(dir, 'j.sock'), 'log-level': 'silent', json: true }));
  const run2 = spawn(process.execPath, [CLI, 'serve', '--config', jcfg], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => { run2.kill('SIGKILL'); });
  const l2 = await new Promise<string>((res) => { let b = ''; run2.stdout.on('data', (c: Buffer) => { b += c.toString(); if (b.includes('\n')) res(b); }); });
  assert.equal((JSON.parse(l2) as { layout: string }).layout, 'memory');
  run2.kill('SIGTERM');
  assert.equal(await exitOf(run2), 0);
});

test('bad settings are one line naming their source, exit 1', async (t) => {
  const dir = tempDir(t);
  const cfg = join(dir, 'bad.toml');
  writeFileSync(cfg, 'stroe = "x.json"\n');
  const runs: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [['--config', cfg], {}, /bad\.toml: unknown setting "stroe" \(did you mean store\?\)/],
    [['--config', join(dir, 'missing.toml')], {}, /missing\.toml: cannot read the config file/],
    [[], { UEFI_VARS_MEMORY: 'maybe' }, /environment: UEFI_VARS_MEMORY="maybe": say 1 or 0/],
    [[], { UEFI_VARS_LOG_LEVEL: 'loud' }, /--log-level must be one of/],
  ];
  writeFileSync(join(dir, 'syntax.toml'), 'store = \n');
  runs.push([['--config', join(dir, 'syntax.toml')], {}, /syntax\.toml: not valid TOML/]);
  for (const [args, env, why] of runs) {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--socket', join(dir, 's.sock'), '--memory', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
    assert.equal(r.status, 1, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, why);
  }
});

test('/metrics has the process metrics under Prometheus\' standard process_* names, not prefixed', async (t) => {
  const dir = tempDir(t);
  const apiSock = join(dir, 'a.sock');
  const serve = spawn(process.execPath, [CLI, 'serve', '--memory', '--socket', join(dir, 'd.sock'), '--api', apiSock, '--log-level', 'silent'], { stdio: 'ignore' });
  t.after(() => { serve.kill('SIGKILL'); });
  await until('the API socket', () => existsSync(apiSock));
  const { request } = await import('node:http');
  const text = await new Promise<string>((res, rej) => {
    request({ socketPath: apiSock, path: '/metrics' }, (r) => { let b = ''; r.on('data', (c: Buffer) => { b += c.toString(); }); r.on('end', () => res(b)); }).on('error', rej).end();
  });
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds']) {
    assert.match(text, new RegExp(`^${name} \\d`, 'm'), name);
  }
  assert.doesNotMatch(text, /uefi_vars_process_|uefi_vars_nodejs_/);
  assert.match(text, /^uefi_vars_vms_loaded /m, 'the service metrics keep their prefix');
  serve.kill('SIGTERM');
  assert.equal(await exitOf(serve), 0);
});
