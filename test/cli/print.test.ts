import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, SHARED } from '../helpers/cli.js';

const MS_FD = join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd');
const MSALL = join(SHARED, 'vectors/reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-msall-dbx.fd');
const sha = (f: string): string => createHash('sha256').update(readFileSync(join(SHARED, 'vectors/certs/microsoft', f))).digest('hex');

test('print --verbose shows certificates with validity and SHA-256, the 2023 verdict, boot entries and storage', () => {
  const r = cli('print', MS_FD, '--verbose', '--as-of', '2026-07-01');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.lines.includes(`      valid 2011-06-24 .. 2026-06-24 EXPIRED (as of 2026-07-01), RSA-2048, sha256 ${sha('MicCorKEKCA2011_2011-06-24.der')}`), r.stdout);
  assert.match(r.stdout, /2023 readiness: not 2023-ready \(missing Microsoft Corporation KEK 2K CA 2023 \(KEK\), Windows UEFI CA 2023 \(db\), Microsoft UEFI CA 2023 \(db\)\)/);
  assert.match(r.stdout, /Boot0001: title="UEFI QEMU HARDDISK QM00001 " devpath=PciRoot\(\)\/PCI\(dev=1f:2\)\/SATA\(port=0\)/);
  assert.match(r.stdout, /^Storage: \d+ of 262144 bytes used/m);
  // Earlier than the expiry date, the same certificate is not marked.
  const early = cli('print', MS_FD, '--verbose', '--as-of', '2026-06-01');
  assert.doesNotMatch(early.stdout, /2026-06-24 EXPIRED/);
});

test('print --json carries the summary: 2023-ready with a full dbx, its revision and the PK subject', () => {
  const r = cli('print', MSALL, '--json', '--size', '540672');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { summary: { readiness: { verdict: string }; dbx: { facts: { revision: string; arch: string } }; pk: { subjects: string[] }; storage: { maxStorage: number } } };
  assert.equal(j.summary.readiness.verdict, '2023-ready');
  assert.equal(j.summary.dbx.facts.arch, 'x64');
  const info = JSON.parse(readFileSync(join(SHARED, 'vectors/reference/microsoft/dbx_info_msft_latest.json'), 'utf8')) as { images: { x64: Array<{ dateOfAddition: string }> } };
  assert.equal(j.summary.dbx.facts.revision, info.images.x64.map((i) => i.dateOfAddition).sort().at(-1));
  assert.match(j.summary.pk.subjects[0]!, /Red Hat Secure Boot/);
  assert.equal(j.summary.storage.maxStorage, 540672);
});

test('print refuses a bad --as-of and a misspelt option with one line', () => {
  const r = cli('print', MS_FD, '--as-of', 'soon');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--as-of must be a date/);
  const m = cli('print', MS_FD, '--verbos');
  assert.equal(m.code, 1);
  assert.match(m.stderr, /did you mean --verbose/);
});
