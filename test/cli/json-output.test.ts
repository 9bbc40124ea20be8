import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, CLI, SHARED } from '../helpers/cli.js';
import { JSON_SCHEMAS, validateJson } from '../../src/cli/json-schemas.js';
import { decodeEdk2Fd } from '../../src/persist/edk2-fd.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { toHex } from '../../src/wire/hex.js';
import { formatAttributes } from '../../src/wire/attributes.js';
import { decodeTime } from '../../src/wire/time.js';

const G = '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f';
const OVMF_MS = join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd');

function conforms(command: string, text: string): Record<string, unknown> {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `${command} --json prints one line`);
  const value = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual(validateJson(JSON_SCHEMAS[command]!, value), [], `${command}: ${lines[0]}`);
  return value;
}

function storeWith(dir: string, vars: object[] = []): string {
  const p = join(dir, 'vm.json');
  writeFileSync(p, JSON.stringify({ version: 2, variables: vars }));
  return p;
}

test('the schema validator rejects what breaks a schema (so a passing validation means something)', () => {
  const s = JSON_SCHEMAS['convert']!;
  const good = { input: 'a', output: 'b', from: 'json', to: 'edk2', variables: 1, layout: 'ovmf-4m' };
  assert.deepEqual(validateJson(s, good), []);
  for (const bad of [{ ...good, variables: 1.5 }, { ...good, to: 'xml' }, { ...good, extra: 1 }, { ...good, layout: undefined }, { input: 'a' }]) {
    assert.notDeepEqual(validateJson(s, JSON.parse(JSON.stringify(bad))), [], JSON.stringify(bad));
  }
});

test('get --json: attributes as number and names, ISO 8601 time of an authenticated variable, data as hex', () => {
  const r = cli('get', OVMF_MS, 'PK', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = conforms('get', r.stdout);
  const pk = decodeEdk2Fd(new Uint8Array(readFileSync(OVMF_MS))).variables.find((v) => nameKey(v.name) === 'PK')!;
  const t = decodeTime(pk.time);
  assert.equal(j['attributes'], pk.attributes);
  assert.equal(j['attributesText'], formatAttributes(pk.attributes));
  assert.equal(j['dataHex'], toHex(pk.data));
  assert.equal(j['guid'], '8be4df61-93ca-11d2-aa0d-00e098032b8c', 'PK found without a GUID');
  const iso = j['time'] as string | null;
  if (t.year === 0) assert.equal(iso, null);
  else {
    assert.match(iso!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(new Date(iso!).getUTCFullYear(), t.year);
    assert.equal(new Date(iso!).getUTCSeconds(), t.second);
  }
});

test('get: a zero time is null, never 0000-00-00; a missing variable is exit 2 with found:false', (t) => {
  const store = storeWith(tempDir(t), [{ name: 'Plain', guid: G, attr: 7, data: 'ab' }]);
  const j = conforms('get', cli('get', store, 'Plain', G, '--json').stdout);
  assert.equal(j['time'], null);
  const miss = cli('get', store, 'Nope', G, '--json');
  assert.equal(miss.code, 2);
  assert.equal(conforms('get', miss.stdout)['found'], false);
});

test('get finds well-known variables without a GUID and agrees with the GUID form', (t) => {
  const dir = tempDir(t);
  const store = storeWith(dir, [
    { name: 'Boot0001', guid: '8be4df61-93ca-11d2-aa0d-00e098032b8c', attr: 7, data: '0102' },
    { name: 'db', guid: 'd719b2cb-3d3a-4596-a3bc-dad00e67656f', attr: 0x27, data: '03' },
    { name: 'SecureBootEnable', guid: 'f0a30bc7-af08-4556-99c4-001009c93a44', attr: 3, data: '01' },
  ]);
  for (const [name, guid] of [['Boot0001', 'global'], ['db', 'security'], ['SecureBootEnable', 'f0a30bc7-af08-4556-99c4-001009c93a44']]) {
    const bare = cli('get', store, name!);
    assert.equal(bare.code, 0, `${name}: ${bare.stderr}`);
    assert.deepEqual(bare.lines, cli('get', store, name!, guid!).lines);
  }
  const r = cli('get', store, 'MyVar');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /MyVar: not a well-known variable; give its GUID/);
  assert.equal(cli('get', store, 'boot0001').code, 1, 'names are case-sensitive; boot0001 is not Boot0001');
});

test('get --out - writes the raw bytes to stdout', (t) => {
  const store = storeWith(tempDir(t), [{ name: 'Raw', guid: G, attr: 7, data: '00ff0a0d80' }]);
  const r = spawnSync(process.execPath, [CLI, 'get', store, 'Raw', G, '--out', '-']);
  assert.equal(r.status, 0);
  assert.deepEqual([...r.stdout], [0x00, 0xff, 0x0a, 0x0d, 0x80]);
  const j = spawnSync(process.execPath, [CLI, 'get', store, 'Raw', G, '--out', '-', '--json'], { encoding: 'buffer' });
  assert.deepEqual([...j.stdout], [0x00, 0xff, 0x0a, 0x0d, 0x80], 'stdout stays the bytes');
  assert.equal(conforms('get', j.stderr.toString())['out'], '-');
});

test('set and delete --json conform to their schemas; a refusal reports its reason and writes nothing', (t) => {
  const dir = tempDir(t);
  const store = storeWith(dir, [{ name: 'Keep', guid: G, attr: 7, data: '01' }]);
  const s = conforms('set', cli('set', store, 'New', G, 'NV|BS', '--hex', '0a0b', '--json').stdout);
  assert.deepEqual([s['status'], s['written'], s['existed'], s['attributes'], s['attributesText'], s['size'], s['reason']], ['EFI_SUCCESS', true, false, 3, 'NV|BS', 2, null]);
  const before = readFileSync(store);
  const refused = cli('set', store, 'Keep', G, '3', '--hex', '02', '--json');
  assert.equal(refused.code, 2);
  const f = conforms('set', refused.stdout);
  assert.equal(f['status'], 'EFI_INVALID_PARAMETER');
  assert.equal(f['written'], false);
  assert.equal(f['existed'], true);
  assert.deepEqual(readFileSync(store), before);
  const d = conforms('delete', cli('delete', store, 'New', G, '--json').stdout);
  assert.deepEqual([d['status'], d['existed'], d['written']], ['EFI_SUCCESS', true, true]);
});

test('delete of a variable that does not exist prints EFI_SUCCESS (as QEMU) and says (no such variable) on stderr', (t) => {
  const store = storeWith(tempDir(t));
  const r = cli('delete', store, 'Ghost', G);
  assert.equal(r.code, 0);
  assert.deepEqual(r.lines, ['EFI_SUCCESS']);
  assert.match(r.stderr, /Ghost 5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f: \(no such variable\)/);
  const existing = cli('delete', storeWith(tempDir(t), [{ name: 'There', guid: G, attr: 7, data: '01' }]), 'There', G);
  assert.equal(existing.stderr, '', 'no note when it existed');
});

test('delete --custom-mode of PK builds the empty authenticated payload itself; without it the delete is refused', (t) => {
  const dir = tempDir(t);
  const fd = join(dir, 'vars.fd');
  copyFileSync(OVMF_MS, fd);
  const before = readFileSync(fd);
  const plain = cli('delete', fd, 'db');
  assert.equal(plain.code, 2, 'an unauthenticated delete of an AT variable is refused (spec §3.3)');
  assert.deepEqual(readFileSync(fd), before);
  const r = cli('delete', fd, 'db', '--custom-mode', '--json');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const j = conforms('delete', r.stdout);
  assert.equal(j['status'], 'EFI_SUCCESS');
  assert.equal((j['attributes'] as number) & 0x20, 0x20, 'the stored attributes, AT included');
  assert.equal(j['size'], 40, 'EFI_TIME + WIN_CERTIFICATE_UEFI_GUID with an empty PKCS#7, no payload');
  const names = decodeEdk2Fd(new Uint8Array(readFileSync(fd))).variables.map((v) => nameKey(v.name));
  assert.ok(!names.includes('db'), 'db is gone');
  assert.ok(names.includes('PK') && names.includes('KEK'), 'the rest stays');
});

test('convert --json conforms, with the layout an edk2 OUT got', (t) => {
  const dir = tempDir(t);
  const json = join(dir, 'a.json');
  const a = conforms('convert', cli('convert', OVMF_MS, json, '--json').stdout);
  assert.deepEqual([a['from'], a['to'], a['layout']], ['edk2', 'json', null]);
  const b = conforms('convert', cli('convert', json, join(dir, 'b.fd'), '--json').stdout);
  assert.deepEqual([b['from'], b['to'], b['layout']], ['json', 'edk2', 'ovmf-4m']);
  const c = conforms('convert', cli('convert', OVMF_MS, join(dir, 'c.fd'), '--json').stdout);
  assert.equal(c['layout'], 'input');
  const d = conforms('convert', cli('convert', json, join(dir, 'd.fd'), '--template', OVMF_MS, '--json').stdout);
  assert.equal(d['layout'], 'template');
  assert.equal(d['variables'], a['variables']);
});

test('replay --json conforms and agrees with the text summary', () => {
  const trace = join(SHARED, 'traces/x64-cold-boot.pcap');
  const text = cli('replay', trace);
  const r = cli('replay', trace, '--json');
  assert.equal(r.code, text.code);
  const j = conforms('replay', r.stdout);
  assert.equal(text.lines.at(-1)!.startsWith(`${String(j['requests'])} requests, ${String(j['mismatches'])} mismatches`), true, text.lines.at(-1));
  assert.ok((j['requests'] as number) > 100);
});

test('serve --json prints one conforming line once the socket listens', async (t) => {
  const dir = tempDir(t);
  const socket = join(dir, 'd.sock');
  const api = join(dir, 'a.sock');
  const child = spawn(process.execPath, [CLI, 'serve', '--store', join(dir, 's.json'), '--socket', socket, '--api', api, '--json', '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { child.kill('SIGKILL'); });
  const line = await new Promise<string>((res) => { let b = ''; child.stdout.on('data', (c: Buffer) => { b += c.toString(); if (b.includes('\n')) res(b); }); });
  assert.equal(existsSync(socket), true, 'listening when it says so');
  const j = conforms('serve', line);
  assert.deepEqual([j['socket'], j['api'], j['pid'], j['layout']], [socket, api, child.pid, 'single']);
  const exited = new Promise((res) => child.once('exit', res));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a closed pipe ends print quietly (no EPIPE trace), exit 0', (t) => {
  const dir = tempDir(t);
  const vars = Array.from({ length: 400 }, (_, i) => ({ name: `V${i}`, guid: G, attr: 7, data: 'ab'.repeat(200) }));
  const store = storeWith(dir, vars);
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" print "${store}" --verbose | head -c 10 >/dev/null; echo "node=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.doesNotMatch(r.stderr, /EPIPE|Error|at /);
  assert.match(r.stdout, /node=0/);
});
