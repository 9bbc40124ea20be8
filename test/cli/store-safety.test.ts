import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync, copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, CLI, SHARED, type CliResult } from '../helpers/cli.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { decodeEdk2Fd, defaultEdk2Geometry } from '../../src/persist/edk2-fd.js';
import { nameKey } from '../../src/wire/ucs2.js';

const G = '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f';
const OVMF_4M = join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd');
const EFIVARFS = join(SHARED, 'vectors/varstores/efivarfs/shim-test-data-efivars-1');
const OVMF_4M_SIZE = defaultEdk2Geometry('ovmf-4m').fileSize;

/** The refusal every store command must give: exit 1, one stderr line naming the path, nothing on stdout. */
function assertRefused(r: CliResult, path: string, why: RegExp): void {
  assert.equal(r.code, 1, `exit ${r.code}: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.includes(path), lines[0]);
  assert.match(lines[0]!, why);
  assert.equal(r.stdout, '');
}

const snapshot = (dir: string): string => JSON.stringify(readdirSync(dir, { recursive: true }).map(String).sort().map((f) => {
  const p = join(dir, f);
  try { return [f, readFileSync(p).toString('hex')]; } catch { return [f, 'dir']; }
}));

test('an empty store file is refused by every command that takes a store, and stays empty', (t) => {
  const dir = tempDir(t);
  const empty = join(dir, 'vm.json');
  writeFileSync(empty, '');
  for (const args of [
    ['print', empty], ['get', empty, 'PK'], ['set', empty, 'A', G, '7', '--hex', '01'], ['delete', empty, 'A', G],
    ['convert', empty, join(dir, 'out.fd')], ['replay', join(SHARED, 'traces/x64-cold-boot.pcap'), '--store', empty],
  ]) {
    assertRefused(cli(...args), empty, /empty file, not a store.*--create/);
    assert.equal(readFileSync(empty).length, 0, args[0]);
  }
  assert.deepEqual(readdirSync(dir), ['vm.json'], 'nothing else written');
});

test('a directory that is not efivarfs is refused (empty, or holding other files), and is not changed', (t) => {
  const dir = tempDir(t);
  const plain = join(dir, 'plain');
  mkdirSync(plain);
  const mixed = join(dir, 'mixed');
  cpSync(EFIVARFS, mixed, { recursive: true });
  writeFileSync(join(mixed, 'README'), 'not a variable');
  for (const d of [plain, mixed]) {
    const before = snapshot(d);
    for (const args of [['print', d], ['get', d, 'PK'], ['set', d, 'A', G, '7', '--hex', '01'], ['convert', d, join(dir, 'o.json')]]) {
      assertRefused(cli(...args), d, /a directory, not a store/);
    }
    assert.equal(snapshot(d), before);
  }
  assert.equal(existsSync(join(dir, 'o.json')), false);
});

test('an efivarfs directory is read as efivarfs (labelled so), and set refuses it', (t) => {
  const p = cli('print', EFIVARFS);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.lines[0]!, /: efivarfs store, \d+ variables$/);
  const dir = tempDir(t);
  const copy = join(dir, 'efivars');
  cpSync(EFIVARFS, copy, { recursive: true });
  const before = snapshot(copy);
  const r = cli('set', copy, 'X', G, '7', '--hex', '00');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /efivarfs directory: read-only/);
  assert.equal(snapshot(copy), before);
  const c = cli('convert', copy, join(dir, 'x.json'), '--json');
  assert.equal((JSON.parse(c.stdout) as { from: string }).from, 'efivarfs');
});

test('set --create starts an empty store in an empty or missing file, in the format its name says', (t) => {
  const dir = tempDir(t);
  const json = join(dir, 'new.json');
  writeFileSync(json, '');
  assert.equal(cli('set', json, 'A', G, 'NV|BS', '--hex', '0102', '--create').lines[0], 'EFI_SUCCESS');
  assert.deepEqual(decodeQemuJson(readFileSync(json)).filter((v) => nameKey(v.name) === 'A').map((v) => [...v.data]), [[1, 2]]);
  const fd = join(dir, 'new.fd');
  const r = cli('set', fd, 'A', G, 'NV|BS', '--hex', '03', '--create');
  assert.equal(r.lines[0], 'EFI_SUCCESS', r.stderr);
  const image = new Uint8Array(readFileSync(fd));
  assert.equal(image.length, OVMF_4M_SIZE, 'an OVMF 4 MiB image, not JSON');
  assert.deepEqual([...decodeEdk2Fd(image).variables.find((v) => nameKey(v.name) === 'A')!.data], [3]);
  // Without --create a missing file is still an error, and nothing is created.
  assertRefused(cli('set', join(dir, 'missing.fd'), 'A', G, '7', '--hex', '00'), 'missing.fd', /no such file/);
  assert.equal(existsSync(join(dir, 'missing.fd')), false);
});

test('set never writes QEMU JSON into a file named .fd: a JSON store misnamed vars.fd is refused and unchanged', (t) => {
  const dir = tempDir(t);
  const misnamed = join(dir, 'vars.fd');
  writeFileSync(misnamed, JSON.stringify({ version: 2, variables: [{ name: 'K', guid: G, attr: 7, data: '01' }] }));
  const before = readFileSync(misnamed);
  const r = cli('set', misnamed, 'A', G, '7', '--hex', '01');
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /vars\.fd: the name says edk2, will not write json into it/);
  assert.deepEqual(readFileSync(misnamed), before);
  assert.deepEqual(readdirSync(dir), ['vars.fd']);
});

test('convert refuses an OUT that holds another format or no store, and a format its name contradicts; OUT unchanged', (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src.json');
  writeFileSync(src, JSON.stringify({ version: 2, variables: [{ name: 'K', guid: G, attr: 7, data: '01' }] }));
  const fd = join(dir, 'held.bin');
  copyFileSync(OVMF_4M, fd);
  const notes = join(dir, 'notes.json');
  writeFileSync(notes, 'my notes, not a store');
  for (const [out, extra, why] of [
    [fd, ['--to', 'aws'], /the name says edk2, will not write aws/],
    [join(dir, 'x.fd'), ['--to', 'json'], /the name says edk2, will not write json/],
    [notes, [], /holds something that is not a store; will not write json/],
  ] as const) {
    const before = existsSync(out) ? readFileSync(out) : undefined;
    const r = cli('convert', src, out, ...extra);
    assert.equal(r.code, 1, `${out}: ${r.stdout}`);
    assert.match(r.stderr, why);
    assert.deepEqual(existsSync(out) ? readFileSync(out) : undefined, before);
  }
  // An existing OUT of another format, named neutrally, is not replaced either.
  const neutral = join(dir, 'store.data');
  copyFileSync(OVMF_4M, neutral);
  const r = cli('convert', src, neutral, '--to', 'json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /holds a store in edk2 format; will not write json over it/);
  assert.deepEqual(readFileSync(neutral), readFileSync(OVMF_4M));
});

test('convert json -> .fd without --template writes the OVMF 4 MiB layout and says so; with one, the template\'s', (t) => {
  const dir = tempDir(t);
  const small = join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS.fd');
  const json = join(dir, 'a.json');
  assert.equal(cli('convert', small, json).code, 0);
  const out = join(dir, 'b.fd');
  const r = cli('convert', json, out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.lines[0]!, /standard OVMF 4 MiB layout, 540672 bytes: no --template given/);
  assert.equal(readFileSync(out).length, OVMF_4M_SIZE);
  if (existsSync(small)) {
    const out2 = join(dir, 'c.fd');
    const r2 = cli('convert', json, out2, '--template', small);
    assert.equal(r2.code, 0);
    assert.doesNotMatch(r2.stdout, /standard OVMF/);
    assert.equal(readFileSync(out2).length, readFileSync(small).length);
  }
});

test('serve refuses an empty --store file before listening; the file stays empty', async (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vm.json');
  writeFileSync(store, '');
  const socket = join(dir, 'd.sock');
  const child = spawn(process.execPath, [CLI, 'serve', '--store', store, '--socket', socket, '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { child.kill('SIGKILL'); });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const code = await new Promise((res) => child.once('exit', res));
  assert.equal(code, 1);
  assert.match(stderr, /vm\.json: empty file, not a store/);
  assert.equal(readFileSync(store).length, 0);
  assert.equal(existsSync(socket), false);
});

test('serve --store on a missing .fd creates an edk2 image (OVMF 4 MiB layout), never QEMU JSON', async (t) => {
  const dir = tempDir(t);
  const fd = join(dir, 'new.fd');
  const socket = join(dir, 'd.sock');
  const child = spawn(process.execPath, [CLI, 'serve', '--store', fd, '--socket', socket, '--log-level', 'silent'], { stdio: 'ignore' });
  t.after(() => { child.kill('SIGKILL'); });
  for (let i = 0; i < 400 && !(existsSync(socket) && existsSync(fd)); i++) await new Promise((r) => setTimeout(r, 25));
  const exited = new Promise((res) => child.once('exit', res));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const image = new Uint8Array(readFileSync(fd));
  assert.equal(image.length, OVMF_4M_SIZE);
  const names = decodeEdk2Fd(image).variables.map((v) => nameKey(v.name));
  assert.ok(names.length > 0, 'the machine-start variables were saved into the image');
});
