/**
 * `uefi-vars enroll` against virt-fw-vars 24.4: the two reference stores it
 * generated (../shared/vectors/reference/virt-fw-vars, commands in
 * vectors/README.md), byte for byte, and constructed combinations whose
 * expected content follows from virt-firmware's source (efivar.py, vars.py),
 * checked with a small ESL / load-option reader of this file's own and the
 * certificate files themselves, never with the code under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers/cli.js';
import {
  DBX, EMPTY_FD, MS_DB_2024, MS_OWNER, OVMF_OWNER, REDHAT, REF, assertCertLists, bundled, byName, msDer, newest, readJson, run,
} from '../helpers/enroll.js';
import { CERT_DER_BASE64 } from '../../src/cli/enroll-certs-data.js';

// ---- the reference stores ----------------------------------------------------------------

for (const [ref, args] of [
  ['OVMF_VARS_4M.sb-redhat-msall-dbx', ['--enroll-redhat', '--secure-boot', '--set-dbx', DBX]],
  ['OVMF_VARS_4M.sb-redhat-mskek2011', ['--enroll-redhat', '--microsoft-kek', '2011', '--secure-boot']],
] as const) {
  test(`${ref}.json: every variable (name, guid, attr, data, time) and their order, byte for byte`, (t) => {
    const { vars } = run(t, [...args]);
    const want = readJson(join(REF, `${ref}.json`));
    assert.deepEqual(vars.map((v) => v.name), want.map((v) => v.name));
    for (const w of want) {
      const g = byName(vars, w.name)!;
      assert.deepEqual({ name: g.name, guid: g.guid, attr: g.attr, data: g.data, time: g.time }, { name: w.name, guid: w.guid, attr: w.attr, data: w.data, time: w.time }, w.name);
    }
  });

  test(`${ref}.fd: the edk2 image comes out byte for byte (same flash order as virt-fw-vars)`, (t) => {
    const dir = tempDir(t);
    const out = join(dir, 'out.fd');
    const r = cli('enroll', EMPTY_FD, ...args, '--output', out);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(join(REF, `${ref}.fd`))));
  });
}

test('reference content follows from the certificate files: PK, KEK, db owners, ESL layout and newest-notBefore times', (t) => {
  const { vars } = run(t, ['--enroll-redhat', '--secure-boot', '--set-dbx', DBX]);
  const kek: Array<[string, Buffer]> = [[OVMF_OWNER, REDHAT], [MS_OWNER, msDer('MicCorKEKCA2011_2011-06-24.der')], [MS_OWNER, msDer('MicCorKEK2KCA2023.der')]];
  assertCertLists(byName(vars, 'PK')!.data, [[OVMF_OWNER, REDHAT]], 'PK');
  assertCertLists(byName(vars, 'KEK')!.data, kek, 'KEK');
  assertCertLists(byName(vars, 'db')!.data, MS_DB_2024, 'db');
  assert.equal(byName(vars, 'PK')!.time, newest([REDHAT]));
  assert.equal(byName(vars, 'KEK')!.time, newest(kek.map((k) => k[1])));
  assert.equal(byName(vars, 'db')!.time, newest(MS_DB_2024.map((k) => k[1])));
  // dbx: the update's payload after its EFI_VARIABLE_AUTHENTICATION_2 header, with its EFI_TIME
  const upd = readFileSync(DBX);
  const payload = upd.subarray(16 + upd.readUInt32LE(16));
  assert.equal(byName(vars, 'dbx')!.data, payload.toString('hex'));
  assert.equal(byName(vars, 'dbx')!.time, upd.subarray(0, 16).toString('hex'));
  for (const n of ['PK', 'KEK', 'db', 'dbx']) assert.equal(byName(vars, n)!.attr, 0x27, n);
  assert.deepEqual([byName(vars, 'SecureBootEnable')!.data, byName(vars, 'CustomMode')!.data], ['01', '00']);
});

test('bundled certificates are exactly the PEMs in ../shared (and the Option ROM CA DER)', () => {
  const files: Record<string, string> = {
    redhatPkKek: 'RedHatSecureBootPKKEKkey1.pem', msKek2011: 'MicrosoftCorporationKEKCA2011.pem', msKek2023: 'MicrosoftCorporationKEK2KCA2023.pem',
    msWin2011: 'MicrosoftWindowsProductionPCA2011.pem', msWin2023: 'WindowsUEFICA2023.pem', ms3rd2011: 'MicrosoftCorporationUEFICA2011.pem',
    ms3rd2023: 'MicrosoftUEFICA2023.pem', rhCa3: 'RedHatSecureBootCA3.pem', rhCa5: 'RedHatSecureBootCA5.pem', rhCa8: 'RedHatSecureBootCA8.pem',
    rhUefi2024: 'RedHatUEFICA2024.pem', fedora2020: 'fedoraca-20200709.pem', centosKey1: 'CentOSSecureBootCAkey1.pem', centosCa2: 'CentOSSecureBootCA2.pem',
  };
  for (const [k, b64] of Object.entries(CERT_DER_BASE64)) {
    const want = k === 'msRom2023' ? msDer('MicrosoftOptionROMUEFICA2023.der') : bundled(files[k]!);
    assert.ok(Buffer.from(b64, 'base64').equals(want), k);
  }
});
