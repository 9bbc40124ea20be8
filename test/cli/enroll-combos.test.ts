/**
 * Option combinations not in ../shared, with the expected stores derived from
 * virt-firmware 24.4's source (efivar.py / vars.py) and checked with the
 * independent readers in test/helpers/enroll.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers/cli.js';
import {
  DBX, EMPTY_FD, GLOBAL, MS_DB_2024, MS_FD, MS_OWNER, OVMF_OWNER, REDHAT, SECDB, SHA256, TIME_2010, V,
  assertCertLists, bundled, byName, msDer, newest, readEsl, readJson, run, efiTimeHex,
} from '../helpers/enroll.js';

const DEBIAN_DER = join(V, 'certs/distro/DebianUEFISecureBootPKKEK.der');
const DEBIAN = readFileSync(DEBIAN_DER);
const KEK2023 = msDer('MicCorKEK2KCA2023.der');

const ucs2z = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf16le'), Buffer.alloc(2)]);
const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
/** EFI_LOAD_OPTION (UEFI 2.10 §3.1.3) with LOAD_OPTION_ACTIVE and one device-path node + End. */
function loadOption(title: string, type: number, sub: number, node: Uint8Array, opt: Uint8Array = new Uint8Array(0)): string {
  const path = Buffer.concat([Buffer.of(type, sub), u16(4 + node.length), node, Buffer.of(0x7f, 0xff, 4, 0)]);
  return Buffer.concat([Buffer.of(1, 0, 0, 0), u16(path.length), ucs2z(title), path, opt]).toString('hex');
}

test('--enroll-cert DER --no-microsoft --microsoft-kek 2023: PK/KEK owned by OvmfEnrollDefaultKeys, KEK 2K CA 2023 only, no db, dummy dbx', (t) => {
  const { vars } = run(t, ['--enroll-cert', DEBIAN_DER, '--no-microsoft', '--microsoft-kek', '2023']);
  assert.deepEqual(vars.map((v) => v.name), ['PK', 'KEK', 'dbx']);
  assertCertLists(byName(vars, 'PK')!.data, [[OVMF_OWNER, DEBIAN]], 'PK');
  assertCertLists(byName(vars, 'KEK')!.data, [[OVMF_OWNER, DEBIAN], [MS_OWNER, KEK2023]], 'KEK');
  assert.equal(byName(vars, 'PK')!.time, newest([DEBIAN]));
  assert.equal(byName(vars, 'KEK')!.time, newest([DEBIAN, KEK2023]));
  const dbx = readEsl(byName(vars, 'dbx')!.data);
  assert.equal(dbx.length, 1);
  assert.equal(dbx[0]!.type, SHA256);
  assert.deepEqual(dbx[0]!.entries.map((e) => [e.owner, e.data.toString('hex')]), [[OVMF_OWNER, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']]);
  assert.equal(byName(vars, 'dbx')!.time, TIME_2010);
  assert.equal(byName(vars, 'dbx')!.guid, SECDB);
});

test('--microsoft-kek none, --distro-keys rhel and fedora: distro CAs owned by OvmfEnrollDefaultKeys after the Microsoft db', (t) => {
  const { vars } = run(t, ['--enroll-redhat', '--microsoft-kek', 'none', '--distro-keys', 'rhel', '--distro-keys', 'fedora']);
  assertCertLists(byName(vars, 'KEK')!.data, [[OVMF_OWNER, REDHAT]], 'KEK');
  const db: Array<[string, Buffer]> = [...MS_DB_2024, [OVMF_OWNER, bundled('RedHatSecureBootCA5.pem')], [OVMF_OWNER, bundled('RedHatSecureBootCA8.pem')], [OVMF_OWNER, bundled('fedoraca-20200709.pem')]];
  assertCertLists(byName(vars, 'db')!.data, db, 'db');
  assert.equal(byName(vars, 'db')!.time, newest(db.map((d) => d[1])));
  assert.equal(byName(vars, 'SecureBootEnable'), undefined, 'no --secure-boot: no SecureBootEnable');
});

test('--distro-keys windows after the Microsoft db adds nothing (same certificates are skipped); --microsoft-db all / 2011 choose the Microsoft CAs, the Option ROM CA last', (t) => {
  const a = run(t, ['--enroll-redhat', '--distro-keys', 'windows']).vars;
  assertCertLists(byName(a, 'db')!.data, MS_DB_2024, 'db');
  const b = run(t, ['--enroll-redhat', '--microsoft-db', 'all']).vars;
  const rom = msDer('MicrosoftOptionROMUEFICA2023.der');
  assertCertLists(byName(b, 'db')!.data, [...MS_DB_2024, [MS_OWNER, rom]], 'db');
  assert.equal(byName(b, 'db')!.time, newest([...MS_DB_2024.map((d) => d[1]), rom]));
  const c = run(t, ['--enroll-redhat', '--microsoft-db', '2011']).vars;
  assertCertLists(byName(c, 'db')!.data, [MS_DB_2024[0]!, MS_DB_2024[2]!], 'db');
});

test('--add-db-hash: one SHA-256 list appended after the certificates, duplicates dropped, db time moves to now', (t) => {
  const h1 = 'aa'.repeat(32), h2 = '0123456789abcdef'.repeat(4);
  const owner = '11111111-2222-3333-4444-555555555555';
  const before = Date.now();
  const { vars } = run(t, ['--enroll-redhat', '--add-db-hash', owner, h1, '--add-db-hash', OVMF_OWNER, h2, '--add-db-hash', OVMF_OWNER, h1.toUpperCase()]);
  const lists = readEsl(byName(vars, 'db')!.data);
  assert.equal(lists.length, 5);
  assert.equal(lists[4]!.type, SHA256);
  assert.equal(lists[4]!.sigSize, 48);
  assert.deepEqual(lists[4]!.entries.map((e) => [e.owner, e.data.toString('hex')]), [[owner, h1], [OVMF_OWNER, h2]]);
  // virt-fw-vars: update_time(datetime.now()) — later than every notBefore; the wall clock of this host
  const tm = Buffer.from(byName(vars, 'db')!.time!, 'hex');
  const local = new Date(tm.readUInt16LE(0), tm[2]! - 1, tm[3], tm[4], tm[5], tm[6]).getTime();
  assert.ok(local >= before - 2000 && local <= Date.now() + 1000, `db time ${byName(vars, 'db')!.time} is now`);
});

test('--set-true/--set-false: 1-byte values, created with virt-fw-vars\' default GUID and attributes, existing ones keep theirs', (t) => {
  const { vars } = run(t, ['--set-true', 'Foo', '--set-false', 'SecureBootEnable', '--set-true', 'CustomMode', '--set-false', 'BootThing', '--set-true', 'SHIM_VERBOSE'], MS_FD);
  const f = byName(vars, 'Foo')!;
  assert.deepEqual([f.guid, f.attr, f.data], [GLOBAL, 3, '01']);
  assert.deepEqual([byName(vars, 'BootThing')!.attr, byName(vars, 'BootThing')!.data], [7, '00']);
  assert.deepEqual([byName(vars, 'SHIM_VERBOSE')!.guid, byName(vars, 'SHIM_VERBOSE')!.attr], ['605dab50-e046-4300-abb6-3dd810dd8b23', 3]);
  const orig = readJson(join(V, 'reference/virt-fw-vars/OVMF_VARS_4M.ms.json'));
  assert.deepEqual([byName(vars, 'SecureBootEnable')!.guid, byName(vars, 'SecureBootEnable')!.attr, byName(vars, 'SecureBootEnable')!.data], [byName(orig, 'SecureBootEnable')!.guid, 3, '00']);
  assert.equal(byName(vars, 'CustomMode')!.data, '01');
  // everything else untouched, in its place
  assert.deepEqual(vars.slice(0, orig.length).map((v) => v.name), orig.map((v) => v.name));
});

test('on a store with keys: PK/KEK replaced, db keeps its certificates and gains only new ones, dbx kept, times never go back', (t) => {
  const orig = readJson(join(V, 'reference/virt-fw-vars/OVMF_VARS_4M.ms.json'));
  const { vars } = run(t, ['--enroll-redhat', '--secure-boot'], MS_FD);
  assertCertLists(byName(vars, 'PK')!.data, [[OVMF_OWNER, REDHAT]], 'PK');
  const oldDb = readEsl(byName(orig, 'db')!.data);
  const newDb = readEsl(byName(vars, 'db')!.data);
  assert.deepEqual(newDb.slice(0, oldDb.length).map((l) => l.entries[0]!.data.toString('hex')), oldDb.map((l) => l.entries[0]!.data.toString('hex')));
  const have = new Set(oldDb.flatMap((l) => l.entries.map((e) => e.data.toString('hex'))));
  assert.deepEqual(newDb.slice(oldDb.length).map((l) => l.entries[0]!.data.toString('hex')), MS_DB_2024.map((d) => d[1].toString('hex')).filter((h) => !have.has(h)));
  assert.equal(byName(vars, 'dbx')!.data, byName(orig, 'dbx')!.data);
  for (const n of ['PK', 'KEK', 'db']) assert.equal(byName(vars, n)!.time, byName(orig, n)!.time, `${n}: the store's later time stays`);
});

test('-d deletes by name (any GUID); a missing name is a warning, not an error', (t) => {
  const { vars, r } = run(t, ['-d', 'dbx', '--delete', 'Lang', '-d', 'NoSuchVar'], MS_FD);
  assert.equal(byName(vars, 'dbx'), undefined);
  assert.equal(byName(vars, 'Lang'), undefined);
  assert.ok(byName(vars, 'PlatformLang'));
  assert.match(r.stderr, /NoSuchVar not found/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('--delete then --secure-boot: a new dummy dbx (delete runs first, whatever the command-line order)', (t) => {
  const { vars } = run(t, ['--secure-boot', '-d', 'dbx'], MS_FD);
  assert.equal(readEsl(byName(vars, 'dbx')!.data)[0]!.entries.length, 1);
  assert.equal(byName(vars, 'dbx')!.time, TIME_2010);
  assert.equal(vars.at(-1)!.name, 'dbx', 'created again, at the end');
});

test('--set-boot-uri: Boot0099 "netboot NAME" with a URI() node, BootNext 0x0099', (t) => {
  const uri = 'http://example.org/boot/netboot.efi';
  const { vars } = run(t, ['--set-boot-uri', uri]);
  const b = byName(vars, 'Boot0099')!;
  assert.deepEqual([b.guid, b.attr], [GLOBAL, 7]);
  assert.equal(b.data, loadOption('netboot netboot.efi', 3, 0x18, Buffer.from(uri)));
  assert.deepEqual([byName(vars, 'BootNext')!.data, byName(vars, 'BootNext')!.attr], ['9900', 7]);
});

test('--append-boot-filepath: next free Boot####, FilePath() node with backslashes, optional data, appended to BootOrder', (t) => {
  const { vars } = run(t, ['--append-boot-filepath', '/EFI/fedora/shimx64.efi', '--append-boot-filepath', '/EFI/Linux/uki.efi quiet splash'], MS_FD);
  assert.equal(byName(vars, 'Boot0003')!.data, loadOption('file shimx64.efi', 4, 4, ucs2z('\\EFI\\fedora\\shimx64.efi')));
  // only the first word after the path is optional data (vars.py splits on ' ')
  assert.equal(byName(vars, 'Boot0004')!.data, loadOption('file uki.efi', 4, 4, ucs2z('\\EFI\\Linux\\uki.efi'), ucs2z('quiet')));
  assert.deepEqual([byName(vars, 'BootOrder')!.data, byName(vars, 'BootOrder')!.attr], ['03000400', 7]);
});

test('--external-management: PK is one EFI_CERT_EXTERNAL_MANAGEMENT entry (SignatureSize 17, data 00)', (t) => {
  const { vars } = run(t, ['--external-management', '--add-kek', MS_OWNER, join(V, 'certs/microsoft/MicCorKEKCA2011_2011-06-24.der'), '--secure-boot']);
  const pk = readEsl(byName(vars, 'PK')!.data);
  assert.equal(pk.length, 1);
  assert.deepEqual([pk[0]!.type, pk[0]!.sigSize, pk[0]!.entries.length, pk[0]!.entries[0]!.data.toString('hex')], ['452e8ced-dfff-4b8c-ae01-5118862e682c', 17, 1, '00']);
  assertCertLists(byName(vars, 'KEK')!.data, [[MS_OWNER, msDer('MicCorKEKCA2011_2011-06-24.der')]], 'KEK');
});

test('--set-pk/--add-kek/--add-db with PEM and DER files; --set-dbx with a bare ESL (its bytes, time 2010-01-01)', (t) => {
  const dir = tempDir(t);
  // a bare dbx ESL: one SHA-256 list with two hashes
  const list = Buffer.concat([Buffer.from('2616c4c14c509240aca941f936934328', 'hex'), Buffer.from([0x7c, 0, 0, 0, 0, 0, 0, 0, 0x30, 0, 0, 0]),
    Buffer.from(OVMF_OWNER.replace(/-/g, ''), 'hex'), Buffer.alloc(32, 1), Buffer.from(OVMF_OWNER.replace(/-/g, ''), 'hex'), Buffer.alloc(32, 2)]);
  writeFileSync(join(dir, 'dbx.esl'), list);
  const pem = join(V, 'certs/bundled/RedHatSecureBootPKKEKkey1.pem');
  const g = '12345678-1234-1234-1234-123456789abc';
  const { vars } = run(t, ['--set-pk', g, pem, '--add-kek', g, DEBIAN_DER, '--add-db', MS_OWNER, join(V, 'certs/bundled/MicrosoftUEFICA2023.pem'), '--set-dbx', join(dir, 'dbx.esl')]);
  assertCertLists(byName(vars, 'PK')!.data, [[g, REDHAT]], 'PK');
  assertCertLists(byName(vars, 'KEK')!.data, [[g, DEBIAN]], 'KEK');
  assertCertLists(byName(vars, 'db')!.data, [MS_DB_2024[3]!], 'db');
  assert.equal(byName(vars, 'dbx')!.data, list.toString('hex'));
  assert.equal(byName(vars, 'dbx')!.time, TIME_2010);
});

test('--enroll-generate CN --generated-key: a self-signed RSA-2048 PK/KEK certificate with that CN; the key file matches it', (t) => {
  const dir = tempDir(t);
  const keyFile = join(dir, 'pk.pem');
  const before = Math.floor(Date.now() / 1000) * 1000;
  const { vars } = run(t, ['--enroll-generate', 'Test Platform', '--generated-key', keyFile, '--microsoft-kek', '2011']);
  const pk = readEsl(byName(vars, 'PK')!.data);
  const der = pk[0]!.entries[0]!.data;
  assert.equal(pk[0]!.entries[0]!.owner, OVMF_OWNER);
  const x = new X509Certificate(der);
  assert.equal(x.subject, 'CN=Test Platform');
  assert.equal(x.issuer, 'CN=Test Platform');
  assert.ok(x.verify(x.publicKey), 'self-signed');
  assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.equal(x.ca, false, 'virt-firmware\'s pk_generate shape: basicConstraints cA=FALSE');
  assert.equal(x.keyUsage, undefined, 'and no keyUsage extension');
  const nb = new Date(x.validFrom).getTime();
  assert.ok(nb >= before - 1000 && nb <= Date.now());
  assert.equal(new Date(x.validTo).getTime() - nb, 3650 * 86_400_000);
  assert.equal(byName(vars, 'PK')!.time, efiTimeHex(new Date(nb)));
  assertCertLists(byName(vars, 'KEK')!.data, [[OVMF_OWNER, Buffer.from(der)], [MS_OWNER, msDer('MicCorKEKCA2011_2011-06-24.der')]], 'KEK');
  const pemText = readFileSync(keyFile, 'utf8');
  const pub = createPublicKey(createPrivateKey(pemText)).export({ type: 'spki', format: 'der' });
  assert.ok(pub.equals(x.publicKey.export({ type: 'spki', format: 'der' })));
  assert.ok(new X509Certificate(pemText.slice(pemText.indexOf('-----BEGIN CERTIFICATE'))).raw.equals(der));
});

test('in place (atomic, same format); --dry-run writes nothing and reports the changes as JSON', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vars.fd');
  copyFileSync(EMPTY_FD, store);
  const orig = readFileSync(store);
  const dry = cli('enroll', store, '--enroll-redhat', '--secure-boot', '--set-dbx', DBX, '--dry-run', '--json');
  assert.equal(dry.code, 0, dry.stderr);
  assert.ok(readFileSync(store).equals(orig), 'dry run: file bytes unchanged');
  const rep = JSON.parse(dry.stdout) as { dryRun: boolean; written: string[]; changes: Array<{ action: string; name: string; guid: string; attributes: number; size: number; time?: string; lists?: Array<{ type: string; entries: number }> }> };
  assert.equal(rep.dryRun, true);
  assert.deepEqual(rep.written, []);
  assert.deepEqual(rep.changes.map((c) => `${c.action} ${c.name}`), ['added PK', 'added KEK', 'added dbx', 'added db', 'added SecureBootEnable', 'added CustomMode']);
  const dbx = rep.changes.find((c) => c.name === 'dbx')!;
  assert.deepEqual([dbx.guid, dbx.attributes, dbx.time, dbx.lists], [SECDB, 0x27, '2010-03-06T19:17:21', [{ type: 'EFI_CERT_SHA256', entries: 443 }]]);
  const plain = cli('enroll', store, '--enroll-redhat', '--dry-run');
  assert.match(plain.stdout, /^added {3}PK /m);
  assert.match(plain.lines.at(-1)!, /dry run, 4 changes; nothing written/);

  const r = cli('enroll', store, '--enroll-redhat', '--secure-boot', '--set-dbx', DBX);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(store).equals(readFileSync(join(V, 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-msall-dbx.fd'))), 'in place, edk2 kept');
  // running it again changes nothing
  const again = cli('enroll', store, '--enroll-redhat', '--secure-boot', '--set-dbx', DBX, '--json');
  assert.deepEqual((JSON.parse(again.stdout) as { changes: unknown[] }).changes, []);
});

test('virt-fw-vars spellings: --input/--output-json, --inplace, --sb, -l', (t) => {
  const dir = tempDir(t);
  const j = join(dir, 'a.json');
  assert.equal(cli('enroll', '--input', EMPTY_FD, '--enroll-redhat', '--microsoft-kek', '2011', '--sb', '-l', 'warning', '--output-json', j).code, 0);
  const want = readJson(join(V, 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-mskek2011.json'));
  assert.deepEqual(readJson(j), want);
  const store = join(dir, 'b.json');
  copyFileSync(j, store);
  assert.equal(cli('enroll', '--inplace', store, '--set-false', 'SecureBootEnable').code, 0);
  assert.equal(byName(readJson(store), 'SecureBootEnable')!.data, '00');
  assert.equal(cli('enroll', '--input', EMPTY_FD, '--sb').code, 1, '--input alone writes nothing: usage error');
});

test('--distro-list prints virt-firmware\'s names', () => {
  const r = cli('enroll', '--distro-list');
  assert.equal(r.code, 0);
  assert.equal(r.lines[0], 'known distro certs:');
  assert.deepEqual(r.lines.slice(1).map((l) => l.trim().split(/\s+/)[0]), ['windows', 'ms-uefi', 'rhel-2014', 'rhel', 'rh-uefi', 'fedora', 'centos-2018', 'centos']);
});

test('bad input: one line, exit 1, store unchanged', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'vars.fd');
  copyFileSync(MS_FD, store);
  const orig = readFileSync(store);
  const bad = join(dir, 'bad.fd');
  writeFileSync(bad, orig.subarray(0, 0x200));
  const notCert = join(dir, 'x.pem');
  writeFileSync(notCert, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const cases: Array<[string[], RegExp]> = [
    [[store, '--enroll-cert', join(dir, 'missing.pem')], /missing\.pem: cannot read certificate \(no such file\)/],
    [[store, '--enroll-cert', notCert], /x\.pem: not an X\.509 certificate/],
    [[store, '--add-db', 'not-a-guid', DEBIAN_DER], /--add-db: GUID: not a GUID/],
    [[store, '--add-db-hash', OVMF_OWNER, 'abcd'], /64 hex digits/],
    [[store, '--distro-keys', 'plan9'], /unknown distro "plan9"/],
    [[store, '--microsoft-kek', '2030'], /--microsoft-kek is none, 2011, 2023, all/],
    [[store, '--set-dbx', DEBIAN_DER], /neither a signed dbx update/],
    [[store, '--set-pk', OVMF_OWNER], /--set-pk needs two values/],
    [[bad, '--enroll-redhat'], /bad\.fd: /],
  ];
  for (const [args, msg] of cases) {
    const r = cli('enroll', ...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.ok(readFileSync(store).equals(orig), 'store unchanged');
  }
  assert.equal(readFileSync(bad).length, 0x200, 'an unparsable store is never written');
});

test('a malformed db in the store is refused, not rewritten', (t) => {
  const dir = tempDir(t);
  const store = join(dir, 'v.json');
  writeFileSync(store, JSON.stringify({ version: 2, variables: [{ name: 'db', guid: SECDB, attr: 39, data: 'a159c0a5e494a74a87b5ab155c2bf072ff000000', time: '00'.repeat(16) }] }));
  const before = readFileSync(store);
  const r = cli('enroll', store, '--enroll-redhat');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /db in the store is not a well-formed EFI_SIGNATURE_LIST/);
  assert.ok(readFileSync(store).equals(before));
});
