import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, SHARED } from '../helpers/cli.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { nameKey } from '../../src/wire/ucs2.js';

const G = '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f';

function storeWith(dir: string, vars: object[] = []): string {
  const p = join(dir, 'vm.json');
  writeFileSync(p, JSON.stringify({ version: 2, variables: vars }));
  return p;
}

test('set prints EFI_SUCCESS first, exits 0, and get reads the value back as hex', (t) => {
  const store = storeWith(tempDir(t));
  const s = cli('set', store, 'Hello', G, 'NV|BS|RT', '--hex', '0a0b0c');
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.lines[0], 'EFI_SUCCESS');
  const g = cli('get', store, 'Hello', G);
  assert.equal(g.code, 0);
  assert.equal(g.lines[0], '0a0b0c');
  const v = decodeQemuJson(readFileSync(store)).find((x) => nameKey(x.name) === 'Hello');
  assert.equal(v?.attributes, 7);
});

test('get --out writes the raw bytes to the file', (t) => {
  const dir = tempDir(t);
  const store = storeWith(dir, [{ name: 'Raw', guid: G, attr: 7, data: '00ff10' }]);
  const out = join(dir, 'raw.bin');
  assert.equal(cli('get', store, 'Raw', G, '--out', out).code, 0);
  assert.deepEqual([...readFileSync(out)], [0x00, 0xff, 0x10]);
});

test('a refused set prints the EFI status, exits 2 and leaves the store byte-identical', (t) => {
  const dir = tempDir(t);
  const store = storeWith(dir, [{ name: 'Keep', guid: G, attr: 7, data: '01' }]);
  const before = readFileSync(store);
  // Rewriting with other attributes is EFI_INVALID_PARAMETER (spec §2.5.3 step 8.3).
  const r = cli('set', store, 'Keep', G, '3', '--hex', '02');
  assert.equal(r.code, 2);
  assert.equal(r.lines[0], 'EFI_INVALID_PARAMETER');
  assert.deepEqual(readFileSync(store), before);
  assert.deepEqual(readdirSync(dir), ['vm.json'], 'no temp file left behind');
});

test('set on the read-only SetupMode is EFI_WRITE_PROTECTED (deliberate difference from QEMU)', (t) => {
  const store = storeWith(tempDir(t));
  const r = cli('set', store, 'SetupMode', 'global', 'BS|RT', '--hex', '00');
  assert.equal(r.code, 2);
  assert.equal(r.lines[0], 'EFI_WRITE_PROTECTED');
});

test('--phase runtime: creating a boot-services-only variable is EFI_ACCESS_DENIED', (t) => {
  const store = storeWith(tempDir(t));
  const r = cli('set', store, 'BsOnly', G, 'NV|BS', '--hex', '01', '--phase', 'runtime');
  assert.equal(r.lines[0], 'EFI_ACCESS_DENIED');
  assert.equal(r.code, 2);
  assert.equal(cli('set', store, 'BsOnly', G, 'NV|BS', '--hex', '01', '--phase', 'boot').code, 0);
});

test('delete removes the variable through the guest path', (t) => {
  const store = storeWith(tempDir(t), [{ name: 'Gone', guid: G, attr: 7, data: '01' }]);
  const r = cli('delete', store, 'Gone', G);
  assert.equal(r.lines[0], 'EFI_SUCCESS');
  assert.equal(cli('get', store, 'Gone', G).code, 2);
});

test('--data-file feeds the file and --empty deletes', (t) => {
  const dir = tempDir(t);
  const store = storeWith(dir);
  const f = join(dir, 'data.bin');
  writeFileSync(f, Uint8Array.of(1, 2, 3, 4));
  assert.equal(cli('set', store, 'FromFile', G, '0x7', '--data-file', f).code, 0);
  assert.equal(cli('get', store, 'FromFile', G).lines[0], '01020304');
  assert.equal(cli('set', store, 'FromFile', G, '0x7', '--empty').lines[0], 'EFI_SUCCESS');
  assert.equal(cli('get', store, 'FromFile', G).code, 2);
});

test('usage errors exit 1 with a message on stderr', (t) => {
  const store = storeWith(tempDir(t));
  for (const args of [
    ['set', store, 'X', G, 'NV|XX', '--hex', '00'],
    ['set', store, 'X', 'not-a-guid', '7', '--hex', '00'],
    ['set', store, 'X', G, '7'],
    ['set', store, 'X', G, '7', '--hex', '0'],
    ['get', store],
    ['frobnicate'],
  ]) {
    const r = cli(...args);
    assert.equal(r.code, 1, `${args.join(' ')} → ${r.code}`);
    assert.ok(r.stderr.trim().length > 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

test('a store that does not parse: one line naming the file and the problem, exit 1, file untouched', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'bad.json');
  writeFileSync(store, '{"version": 2, "variables": [{"name": "A", "guid": "8be4df61-93ca-11d2-aa0d-00e098032b8c", "attr": 7, "data": "abc"}]}');
  const before = readFileSync(store);
  const r = cli('set', store, 'B', G, '7', '--hex', '00');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.json: variables\[0\]\.data: .*odd/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.deepEqual(readFileSync(store), before);
});

test('a missing store is an error for set (never silently created)', (t) => {
  const dir = tempDir(t);
  const r = cli('set', join(dir, 'missing.json'), 'A', G, '7', '--hex', '00');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.json: no such file/);
  assert.equal(existsSync(join(dir, 'missing.json')), false);
});

test('print lists variables and the Secure Boot state; --json is machine-readable', (t) => {
  const store = storeWith(tempDir(t), [{ name: 'Boot0000', guid: '8be4df61-93ca-11d2-aa0d-00e098032b8c', attr: 7, data: '0100' }]);
  const r = cli('print', store);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Boot0000/);
  assert.match(r.stdout, /mode: setup/);
  const j = JSON.parse(cli('print', store, '--json').stdout) as { variables: { name: string; size: number }[] };
  assert.deepEqual(j.variables.map((v) => [v.name, v.size]), [['Boot0000', 2]]);
});

test('--allow-unsigned-pk: a PK enrolled in Setup Mode without a signature is accepted only with the switch', (t) => {
  const dir = tempDir(t);
  const store = storeWith(dir);
  // EFI_VARIABLE_AUTHENTICATION_2 with an empty PKCS#7 (dwLength 24), then a PK list from the Debian cert.
  const der = readFileSync(join(SHARED, 'vectors/certs/distro/DebianUEFISecureBootPKKEK.der'));
  const head = Buffer.alloc(40);
  head.writeUInt16LE(2026, 0); head[2] = 1; head[3] = 1;
  head.writeUInt32LE(24, 16); head.writeUInt16LE(0x0200, 20); head.writeUInt16LE(0x0ef1, 22);
  Buffer.from('9dd2af4adf68ee498aa9347d375665a7', 'hex').copy(head, 24);
  const list = Buffer.alloc(28 + 16);
  Buffer.from('a159c0a5e494a74a87b5ab155c2bf072', 'hex').copy(list, 0);
  list.writeUInt32LE(28 + 16 + der.length, 16); list.writeUInt32LE(16 + der.length, 24);
  const f = join(dir, 'pk.bin');
  writeFileSync(f, Buffer.concat([head, list, der]));
  assert.equal(cli('set', store, 'PK', 'global', '0x27', '--data-file', f).lines[0], 'EFI_SECURITY_VIOLATION');
  assert.equal(cli('set', store, 'PK', 'global', '0x27', '--data-file', f, '--allow-unsigned-pk').lines[0], 'EFI_SUCCESS');
  const printed = cli('print', store).stdout;
  assert.match(printed, /mode: user/);
  assert.match(printed, /PK: .*Debian UEFI Secure Boot/);
});
