import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, statSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers/cli.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { nameKey, encodeName } from '../../src/wire/ucs2.js';
import { guidBytes } from '../../src/wire/guid.js';
import { parseSignatureLists, SignatureTypes } from '../../src/wire/siglist.js';
import { parseCertificate, certificateCommonName } from '../../src/auth/x509.js';

const GLOBAL = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
const SECURITY = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';
const T = '2024-05-06 07:08:09';

const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const noOpenssl = has('openssl') ? false : 'openssl not installed (apt-get install openssl)';
const noEfitools = has('sign-efi-sig-list') && has('cert-to-efi-sig-list') ? false : 'efitools not installed (apt-get install efitools)';

interface Fixture { dir: string; keys: string; store: string }

let shared: { keys: string; store: string } | undefined;
after(() => { if (shared) rmSync(join(shared.keys, '..'), { recursive: true, force: true }); });

/** Keys from `keys generate`, and a store in User Mode enrolled with them through `sign` + `set` (made once, copied per test). */
function userModeStore(t: { after(fn: () => void): void }): Fixture {
  shared ??= enrol();
  const dir = tempDir(t);
  const store = join(dir, 'vm.json');
  copyFileSync(shared.store, store);
  return { dir, keys: shared.keys, store };
}

function enrol(): { keys: string; store: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-sign-'));
  const keys = join(dir, 'keys');
  const g = cli('keys', 'generate', keys, '--cn', 'Sign Test', '--json');
  assert.equal(g.code, 0, g.stderr);
  const store = join(dir, 'vm.json');
  writeFileSync(store, JSON.stringify({ version: 2, variables: [] }));
  for (const [name, guid, signer] of [['PK', 'global', 'PK'], ['KEK', 'global', 'PK']] as const) {
    const auth = join(dir, `${name}.auth`);
    const s = cli('sign', '--key', join(keys, `${signer}.key`), '--cert', join(keys, `${signer}.crt`), name, guid, join(keys, `${name}.crt`), '--time', T, '--output', auth);
    assert.equal(s.code, 0, s.stderr);
    const r = cli('set', store, name, guid, 'NV|BS|RT|AT', '--data-file', auth);
    assert.equal(r.lines[0], 'EFI_SUCCESS', `${name}: ${r.stderr}`);
  }
  return { keys, store };
}

function varData(store: string, name: string): Uint8Array | undefined {
  return decodeQemuJson(readFileSync(store)).find((v) => nameKey(v.name) === name)?.data;
}

test('keys generate writes PK, KEK and db keys and self-signed certificates, each mode 0600', (t) => {
  const dir = join(tempDir(t), 'k');
  const r = cli('keys', 'generate', dir, '--cn', 'Fleet', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { keys: { role: string; key: string; crt: string; cer: string; esl: string }[]; owner: string };
  assert.deepEqual(report.keys.map((k) => k.role), ['PK', 'KEK', 'db']);
  for (const k of report.keys) {
    for (const f of [k.key, k.crt, k.cer, k.esl]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    const der = new Uint8Array(readFileSync(k.cer));
    assert.ok(parseCertificate(der), `${k.cer} parses`);
    assert.equal(certificateCommonName(der), `Fleet ${k.role}`);
    assert.match(readFileSync(k.key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const lists = parseSignatureLists(new Uint8Array(readFileSync(k.esl)));
    assert.equal(lists?.length, 1);
    assert.equal(lists![0]!.type, SignatureTypes.x509);
    assert.equal(lists![0]!.entries[0]!.owner, report.owner);
    assert.deepEqual([...lists![0]!.entries[0]!.data], [...der]);
  }
  assert.equal(cli('keys', 'generate', dir, '--cn', 'Again').code, 1, 'existing keys are not replaced without --force');
});

/** DER length octets. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const b: number[] = [];
  for (let x = n; x > 0; x >>= 8) b.unshift(x & 0xff);
  return [0x80 | b.length, ...b];
}

test('a db update made by sign verifies with openssl cms, is accepted by set in User Mode, and every mutation is refused', { skip: noOpenssl }, (t) => {
  const f = userModeStore(t);
  const auth = join(f.dir, 'db.auth');
  const s = cli('sign', '--key', join(f.keys, 'KEK.key'), '--cert', join(f.keys, 'KEK.crt'), 'db', 'security', join(f.keys, 'db.esl'), '--time', T, '--output', auth);
  assert.equal(s.code, 0, s.stderr);
  const data = new Uint8Array(readFileSync(auth));
  const dwLength = new DataView(data.buffer).getUint32(16, true);
  const certData = data.subarray(40, 16 + dwLength);
  const payload = data.subarray(16 + dwLength);
  assert.deepEqual([...payload], [...readFileSync(join(f.keys, 'db.esl'))]);
  assert.equal(certData[0], 0x30);

  // openssl: the bare SignedData wrapped in ContentInfo { signedData, [0] SignedData }, content rebuilt from the spec (§4.2).
  const oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
  const inner = [0xa0, ...derLength(certData.length), ...certData];
  const ci = Uint8Array.from([0x30, ...derLength(oid.length + inner.length), ...oid, ...inner]);
  const attr = new Uint8Array(4);
  new DataView(attr.buffer).setUint32(0, 0x27, true);
  const name = encodeName('db');
  const content = Buffer.concat([name.subarray(0, name.length - 2), guidBytes(SECURITY), attr, data.subarray(0, 16), payload]);
  writeFileSync(join(f.dir, 'sd.der'), ci);
  writeFileSync(join(f.dir, 'content.bin'), content);
  const o = spawnSync('openssl', ['cms', '-verify', '-binary', '-noverify', '-inform', 'DER', '-in', join(f.dir, 'sd.der'), '-content', join(f.dir, 'content.bin'), '-out', '/dev/null'], { encoding: 'utf8' });
  assert.equal(o.status, 0, o.stderr);
  assert.match(o.stderr, /Verification successful/);

  // Mutations first (each on a fresh copy of the User Mode store), then the real write.
  const flip = (at: number): Uint8Array => { const m = data.slice(); m[at]! ^= 0x01; return m; };
  const cases: [string, Uint8Array, string, string, string][] = [
    ['signature', flip(16 + dwLength - 1), 'db', 'security', 'NV|BS|RT|AT'],
    ['payload', flip(16 + dwLength + 28 + 16 + 200), 'db', 'security', 'NV|BS|RT|AT'],
    ['time', flip(6), 'db', 'security', 'NV|BS|RT|AT'],
    ['name', data, 'dbx', 'security', 'NV|BS|RT|AT'],
    ['GUID', data, 'db', GLOBAL, 'NV|BS|RT|AT'],
    ['attributes', data, 'db', 'security', 'NV|BS|RT|AT|AP'],
  ];
  for (const [what, bytes, n, g, a] of cases) {
    const copy = join(f.dir, `m-${what}.json`);
    copyFileSync(f.store, copy);
    const before = readFileSync(copy);
    const file = join(f.dir, `m-${what}.auth`);
    writeFileSync(file, bytes);
    const r = cli('set', copy, n, g, a, '--data-file', file);
    assert.equal(r.code, 2, `${what}: refused (${r.stdout})`);
    assert.notEqual(r.lines[0], 'EFI_SUCCESS', what);
    assert.deepEqual(readFileSync(copy), before, `${what}: store untouched`);
  }
  const ok = cli('set', f.store, 'db', 'security', 'NV|BS|RT|AT', '--data-file', auth);
  assert.equal(ok.lines[0], 'EFI_SUCCESS', ok.stderr);
  assert.deepEqual([...varData(f.store, 'db')!], [...payload]);
});

test('sign and efitools sign-efi-sig-list make the same bytes for the same key, data and time, and set accepts both alike', { skip: noEfitools }, (t) => {
  const f = userModeStore(t);
  for (const append of [false, true]) {
    const ours = join(f.dir, `ours-${append}.auth`), theirs = join(f.dir, `efitools-${append}.auth`);
    const s = cli('sign', '--key', join(f.keys, 'KEK.key'), '--cert', join(f.keys, 'KEK.crt'), 'db', 'security', join(f.keys, 'db.esl'),
      '--time', T, '--output', ours, ...(append ? ['--append'] : []));
    assert.equal(s.code, 0, s.stderr);
    const e = spawnSync('sign-efi-sig-list', [...(append ? ['-a'] : []), '-t', T, '-k', join(f.keys, 'KEK.key'), '-c', join(f.keys, 'KEK.crt'), 'db', join(f.keys, 'db.esl'), theirs], { encoding: 'utf8' });
    assert.equal(e.status, 0, e.stderr);
    const attrs = append ? 'NV|BS|RT|AT|AP' : 'NV|BS|RT|AT';
    const stores = [ours, theirs].map((auth, i) => {
      const copy = join(f.dir, `s-${append}-${i}.json`);
      copyFileSync(f.store, copy);
      const r = cli('set', copy, 'db', 'security', attrs, '--data-file', auth);
      assert.equal(r.lines[0], 'EFI_SUCCESS', `${auth}: ${r.stderr}`);
      return readFileSync(copy);
    });
    assert.deepEqual(stores[0], stores[1], 'the two updates leave identical stores');
    assert.deepEqual(readFileSync(ours), readFileSync(theirs), 'RSA PKCS#1 v1.5 is deterministic: same SignedData bytes');
  }
});

test('sign builds the value from certificates and --sha256 hashes; a stale timestamp is refused by set', (t) => {
  const f = userModeStore(t);
  const auth = join(f.dir, 'dbx.auth');
  const h = 'ab'.repeat(32);
  const s = cli('sign', '--key', join(f.keys, 'KEK.key'), '--cert', join(f.keys, 'KEK.crt'), 'dbx', 'security', '--sha256', h, '--owner', GLOBAL, '--time', T, '-o', auth, '--json');
  assert.equal(s.code, 0, s.stderr);
  assert.equal((JSON.parse(s.stdout) as { attributes: number }).attributes, 0x27);
  assert.equal(cli('set', f.store, 'dbx', 'security', 'NV|BS|RT|AT', '--data-file', auth).lines[0], 'EFI_SUCCESS');
  const lists = parseSignatureLists(varData(f.store, 'dbx')!);
  assert.equal(lists?.[0]?.type, SignatureTypes.sha256);
  assert.equal(lists?.[0]?.entries[0]?.owner, GLOBAL);
  assert.equal(Buffer.from(lists![0]!.entries[0]!.data).toString('hex'), h);
  // The same timestamp again, without APPEND_WRITE: not strictly later (UEFI 2.10 §8.2.2).
  const again = cli('set', f.store, 'dbx', 'security', 'NV|BS|RT|AT', '--data-file', auth);
  assert.equal(again.lines[0], 'EFI_SECURITY_VIOLATION');
});

test('sign refuses bad input with one line naming the problem', (t) => {
  const f = userModeStore(t);
  const junk = join(f.dir, 'junk');
  writeFileSync(junk, 'not a list');
  const base = ['sign', '--key', join(f.keys, 'KEK.key'), '--cert', join(f.keys, 'KEK.crt'), 'db', 'security'];
  for (const [args, re] of [
    [[junk, '-o', join(f.dir, 'x')], /junk: neither an X\.509 certificate/],
    [['--time', '2024-13-01 00:00:00', '-o', join(f.dir, 'x')], /--time/],
    [['--sha256', 'abcd', '-o', join(f.dir, 'x')], /32 bytes/],
    [[join(f.keys, 'db.esl')], /usage/],
  ] as const) {
    const r = cli(...base, ...args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
