import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { cli, tempDir, SHARED } from '../helpers/cli.js';
import { encodeQemuJson } from '../../src/persist/json-qemu.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { parseSignatureLists, SignatureTypes } from '../../src/wire/siglist.js';
import { encodeTime } from '../../src/wire/time.js';
import { buildEsl } from '../../src/auth/esl.js';
import { certificateSubject } from '../../src/auth/x509.js';
import { parseAuth2 } from '../../src/auth/descriptor.js';

const V = join(SHARED, 'vectors');
const G = '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f';
const SECURITY = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';
const OWNER = '77fa9abd-0359-4d32-bd60-28f4e78f784b';
const cert = (f: string): Uint8Array => new Uint8Array(readFileSync(join(V, 'certs/microsoft', f)));
const C1 = cert('MicWinProPCA2011_2011-10-19.der'), C2 = cert('MicCorUEFCA2011_2011-06-27.der'), C3 = cert('WindowsUEFICA2023.der');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const noEfitools = spawnSync('sh', ['-c', 'command -v cert-to-efi-sig-list']).status === 0 ? false : 'efitools not installed (apt-get install efitools)';

const t0 = encodeTime({ year: 2020, month: 1, day: 2, hour: 3, minute: 4, second: 5, pad1: 0, nanosecond: 0, timeZone: 0, daylight: 0, pad2: 0 });
const t1 = encodeTime({ year: 2021, month: 1, day: 2, hour: 3, minute: 4, second: 5, pad1: 0, nanosecond: 0, timeZone: 0, daylight: 0, pad2: 0 });
const v = (name: string, guid: string, attributes: number, data: Uint8Array, time?: Uint8Array): ReturnType<typeof makeVariable> =>
  makeVariable({ guid, name: encodeName(name), attributes, data, ...(time ? { time } : {}) });

interface Entry { type: string; owner: string; subject?: string; hash: string }
interface Diff {
  same: boolean;
  added: { name: string }[];
  removed: { name: string }[];
  changed: { name: string; attributes?: { a: number; b: number }; size?: { a: number; b: number }; time?: { a: string; b: string }; data?: unknown; entries?: { added: Entry[]; removed: Entry[] } }[];
}

test('diff lists added, removed and changed variables, and db entries added and removed by type, subject and hash', (t) => {
  const dir = tempDir(t);
  const hash = new Uint8Array(32).fill(7);
  const a = [v('Keep', G, 7, Uint8Array.of(1)), v('Gone', G, 7, Uint8Array.of(2)), v('Attr', G, 7, Uint8Array.of(3)),
    v('db', SECURITY, 0x27, buildEsl([C1, C2], [hash], OWNER), t0), v('Same', G, 3, Uint8Array.of(9))];
  const b = [v('Keep', G, 7, Uint8Array.of(1, 1)), v('Attr', G, 3, Uint8Array.of(3)),
    v('db', SECURITY, 0x27, buildEsl([C2, C3], [hash], OWNER), t1), v('Same', G, 3, Uint8Array.of(9)), v('New', G, 7, Uint8Array.of(4))];
  writeFileSync(join(dir, 'a.json'), encodeQemuJson(a));
  writeFileSync(join(dir, 'b.json'), encodeQemuJson(b));
  const r = cli('diff', join(dir, 'a.json'), join(dir, 'b.json'), '--json');
  assert.equal(r.code, 2, r.stderr);
  const d = JSON.parse(r.stdout) as Diff;
  assert.equal(d.same, false);
  assert.deepEqual(d.added.map((x) => x.name), ['New']);
  assert.deepEqual(d.removed.map((x) => x.name), ['Gone']);
  assert.deepEqual(d.changed.map((x) => x.name), ['Keep', 'Attr', 'db']);
  const [keep, attr, db] = d.changed;
  assert.deepEqual(keep!.size, { a: 1, b: 2 });
  assert.equal(keep!.attributes, undefined);
  assert.deepEqual(attr!.attributes, { a: 7, b: 3 });
  assert.equal(attr!.data, undefined);
  assert.deepEqual(db!.time, { a: '2020-01-02T03:04:05', b: '2021-01-02T03:04:05' });
  assert.deepEqual(db!.entries!.added.map((e) => [e.type, e.owner, e.subject, e.hash]), [['EFI_CERT_X509', OWNER, certificateSubject(C3), sha(C3)]]);
  assert.deepEqual(db!.entries!.removed.map((e) => [e.type, e.subject, e.hash]), [['EFI_CERT_X509', certificateSubject(C1), sha(C1)]]);

  const plain = cli('diff', join(dir, 'a.json'), join(dir, 'b.json'));
  assert.match(plain.stdout, /^- .* Gone /m);
  assert.match(plain.stdout, /^\+ .* New /m);
  assert.match(plain.stdout, /^ {6}\+ EFI_CERT_X509 .*Windows UEFI CA 2023/m);
  assert.match(plain.stdout, /1 removed, 1 added, 3 changed/);
  const same = cli('diff', join(dir, 'a.json'), join(dir, 'a.json'));
  assert.equal(same.code, 0);
  assert.match(same.stdout, /hold the same variables/);
});

test('diff across formats: an .fd store and its updated copy differ in dbx by exactly the update\'s hashes', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vm.fd');
  copyFileSync(join(V, 'varstores/ovmf/OVMF_VARS_4M.ms.fd'), store);
  chmodSync(store, 0o600);
  const update = join(V, 'signed/dbx/DBXUpdate_arm64.bin');
  assert.equal(cli('apply', update, store).code, 0);
  const r = cli('diff', join(V, 'varstores/ovmf/OVMF_VARS_4M.ms.fd'), store, '--json');
  assert.equal(r.code, 2);
  const dbx = (JSON.parse(r.stdout) as Diff).changed.find((c) => c.name === 'dbx')!;
  const p = parseAuth2(new Uint8Array(readFileSync(update)));
  assert.ok(typeof p !== 'string');
  const want = parseSignatureLists(p.payload)!.flatMap((l) => l.entries.map((e) => Buffer.from(e.data).toString('hex'))).sort();
  assert.deepEqual(dbx.entries!.added.map((e) => e.hash).sort(), want);
  assert.deepEqual(dbx.entries!.removed, []);
  assert.ok(dbx.entries!.added.every((e) => e.type === 'EFI_CERT_SHA256'));
});

test('esl build makes one X509 list per certificate and one SHA256 list; esl list reads it back and from a signed update', (t) => {
  const dir = tempDir(t);
  const pem = join(dir, 'c3.pem');
  writeFileSync(pem, `-----BEGIN CERTIFICATE-----\n${Buffer.from(C3).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
  writeFileSync(join(dir, 'c1.der'), C1);
  const out = join(dir, 'x.esl');
  const h = 'cd'.repeat(32);
  const r = cli('esl', 'build', out, join(dir, 'c1.der'), pem, '--sha256', h, '--owner', OWNER);
  assert.equal(r.code, 0, r.stderr);
  const lists = parseSignatureLists(new Uint8Array(readFileSync(out)))!;
  assert.deepEqual(lists.map((l) => [l.type, l.entries.length]), [[SignatureTypes.x509, 1], [SignatureTypes.x509, 1], [SignatureTypes.sha256, 1]]);
  assert.deepEqual([...lists[1]!.entries[0]!.data], [...C3]);
  assert.ok(lists.every((l) => l.entries[0]!.owner === OWNER));
  const listed = JSON.parse(cli('esl', 'list', out, '--json').stdout) as { entries: Entry[] };
  assert.deepEqual(listed.entries.map((e) => e.hash), [sha(C1), sha(C3), h]);
  assert.equal(listed.entries[1]!.subject, certificateSubject(C3));
  const fromAuth = JSON.parse(cli('esl', 'list', join(V, 'signed/db/DBUpdate2024.bin'), '--json').stdout) as { entries: Entry[] };
  assert.equal(fromAuth.entries.length, 1);
  assert.match(fromAuth.entries[0]!.subject!, /Windows UEFI CA 2023/);
  const bad = cli('esl', 'list', pem);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /neither EFI_SIGNATURE_LISTs/);
});

test('esl build of a certificate is byte-identical to efitools cert-to-efi-sig-list', { skip: noEfitools }, (t) => {
  const dir = tempDir(t);
  const pem = join(dir, 'c.pem');
  writeFileSync(pem, `-----BEGIN CERTIFICATE-----\n${Buffer.from(C2).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
  for (const owner of [undefined, OWNER]) {
    const ours = join(dir, `ours-${owner ?? 'zero'}.esl`), theirs = join(dir, `efitools-${owner ?? 'zero'}.esl`);
    assert.equal(cli('esl', 'build', ours, pem, ...(owner ? ['--owner', owner] : [])).code, 0);
    const e = spawnSync('cert-to-efi-sig-list', [...(owner ? ['-g', owner] : []), pem, theirs], { encoding: 'utf8' });
    assert.equal(e.status, 0, e.stderr);
    assert.deepEqual(readFileSync(ours), readFileSync(theirs));
  }
});
