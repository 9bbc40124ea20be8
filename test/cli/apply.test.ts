import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cli, tempDir, SHARED, CLI } from '../helpers/cli.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { encodeQemuJson } from '../../src/persist/json-qemu.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { parseSignatureLists } from '../../src/wire/siglist.js';
import { parseAuth2 } from '../../src/auth/descriptor.js';
import { identifyUpdate } from '../../src/auth/auth2-build.js';
import { applyToVariables, prepareUpdate } from '../../src/cli/apply-store.js';
import { readdirSync } from 'node:fs';

const V = join(SHARED, 'vectors');
const UPDATE = join(V, 'signed/dbx/DBXUpdate_amd64.bin');
const MS = join(V, 'varstores/ovmf/OVMF_VARS_4M.ms.fd');
const SETUP = join(V, 'varstores/ovmf/OVMF_VARS_4M.fd');
const SNAKEOIL = join(V, 'varstores/ovmf/OVMF_VARS_4M.snakeoil.fd');
const UPDATED = join(V, 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-msall-dbx.fd');
const SECURITY = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';

interface Report { store: string; outcome: string; status?: string; reason?: string }

/** The hashes an update adds, read straight from its EFI_SIGNATURE_LISTs. */
function updateHashes(): Set<string> {
  const d = parseAuth2(new Uint8Array(readFileSync(UPDATE)));
  assert.ok(typeof d !== 'string');
  return new Set(parseSignatureLists(d.payload)!.flatMap((l) => l.entries.map((e) => Buffer.from(e.data).toString('hex'))));
}

async function dbxHashes(path: string): Promise<Set<string>> {
  const v = (await loadStoreFile(path)).variables.find((x) => x.guid === SECURITY && nameKey(x.name) === 'dbx');
  return new Set((v ? parseSignatureLists(v.data)! : []).flatMap((l) => l.entries.map((e) => Buffer.from(e.data).toString('hex'))));
}

/** 100 stores: what each must report follows from vectors/README.md's trust table, not from the code. */
async function fleet(dir: string): Promise<{ path: string; expect: string; status?: string }[]> {
  const out: { path: string; expect: string; status?: string }[] = [];
  const copy = (src: string, name: string, expect: string, status?: string): void => {
    const p = join(dir, name);
    copyFileSync(src, p);
    chmodSync(p, 0o600);
    out.push({ path: p, expect, ...(status ? { status } : {}) });
  };
  for (let i = 0; i < 100; i++) {
    if (i < 58) copy(MS, `ms-${i}.fd`, 'applied');                        // KEK holds MS KEK CA 2011
    else if (i < 78) copy(UPDATED, `updated-${i}.fd`, 'already-present'); // every entry is there already
    else if (i < 93) copy(SNAKEOIL, `snakeoil-${i}.fd`, 'refused', 'EFI_SECURITY_VIOLATION'); // KEK lacks the signer's CA
    else if (i < 98) copy(SETUP, `setup-${i}.fd`, 'applied');              // Setup Mode: no signature check (spec §4.4)
    else if (i === 98) {
      // Too full: the Microsoft store plus a 240,000-byte variable, under the default 262,144-byte size.
      const vars = (await loadStoreFile(MS)).variables.concat(makeVariable({
        guid: '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', name: encodeName('Filler'), attributes: 7, data: new Uint8Array(240_000),
      }));
      const p = join(dir, 'full.json');
      writeFileSync(p, encodeQemuJson(vars));
      out.push({ path: p, expect: 'would-not-fit', status: 'EFI_OUT_OF_RESOURCES' });
    } else {
      const p = join(dir, 'corrupt.fd');
      writeFileSync(p, readFileSync(MS).subarray(0, 4096));
      out.push({ path: p, expect: 'error' });
    }
  }
  return out;
}

test('identifyUpdate names the variable every vendor update in the vectors was signed for, with APPEND_WRITE', async () => {
  for (const [dir, name] of [['dbx', 'dbx'], ['db', 'db'], ['kek', 'KEK']] as const) {
    for (const f of readdirSync(join(V, 'signed', dir)).filter((n) => n.endsWith('.bin'))) {
      const t = await identifyUpdate(new Uint8Array(readFileSync(join(V, 'signed', dir, f))));
      assert.equal(t?.name, name, f);
      assert.equal(t?.attributes, 0x67, f); // vectors/README.md: all signed with 0x67
    }
  }
});

test('apply over 100 mixed stores reports each correctly, changes only the applied ones, leaves the corrupt one untouched', async (t) => {
  const dir = tempDir(t);
  const stores = await fleet(dir);
  const before = new Map(stores.map((s) => [s.path, readFileSync(s.path)]));
  const check = (reports: Report[]): void => {
    assert.equal(reports.length, 100);
    reports.forEach((r, i) => {
      assert.equal(r.store, stores[i]!.path);
      assert.equal(r.outcome, stores[i]!.expect, `${r.store}: ${r.reason ?? ''}`);
      if (stores[i]!.status) assert.equal(r.status, stores[i]!.status, r.store);
    });
  };

  const dry = cli('apply', UPDATE, ...stores.map((s) => s.path), '--dry-run', '--json', '--jobs', '3');
  assert.equal(dry.code, 1, 'a store that cannot be read makes the exit code 1');
  check((JSON.parse(dry.stdout) as { stores: Report[] }).stores);
  for (const s of stores) assert.deepEqual(readFileSync(s.path), before.get(s.path), `--dry-run wrote ${s.path}`);

  const run = cli('apply', UPDATE, ...stores.map((s) => s.path), '--json');
  assert.equal(run.code, 1);
  const report = JSON.parse(run.stdout) as { stores: Report[]; summary: Record<string, number>; update: { variable: string } };
  check(report.stores);
  assert.equal(report.update.variable, 'dbx');
  assert.deepEqual(report.summary, { applied: 63, 'already-present': 20, refused: 15, 'would-not-fit': 1, error: 1 });
  const want = updateHashes();
  for (const s of stores) {
    if (s.expect === 'applied') {
      const have = await dbxHashes(s.path);
      for (const h of want) assert.ok(have.has(h), `${s.path} lacks ${h}`);
    } else {
      assert.deepEqual(readFileSync(s.path), before.get(s.path), `${s.path} (${s.expect}) was written`);
    }
  }
  // Applied once, present after: a second run writes nothing and exits 2 (refusals remain).
  const again = cli('apply', UPDATE, ...stores.filter((s) => s.expect !== 'error').map((s) => s.path), '--json');
  assert.equal(again.code, 2);
  const second = (JSON.parse(again.stdout) as { stores: Report[] }).stores;
  for (const r of second) {
    const s = stores.find((x) => x.path === r.store)!;
    assert.equal(r.outcome, s.expect === 'applied' ? 'already-present' : s.expect, r.store);
  }
});

test('apply --state-dir takes every VM store of the directory; plain output ends with a summary table', async (t) => {
  const dir = tempDir(t);
  for (const [n, src] of [['vm-a', MS], ['vm-b', SNAKEOIL]] as const) {
    const l = await loadStoreFile(src);
    writeFileSync(join(dir, `${n}.json`), encodeQemuJson(l.variables));
  }
  writeFileSync(join(dir, 'notes.txt'), 'not a store');
  const r = cli('apply', UPDATE, '--state-dir', dir);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.lines.some((l) => /^applied\s+.*vm-a\.json$/.test(l)), r.stdout);
  assert.ok(r.lines.some((l) => /^refused\s+.*vm-b\.json EFI_SECURITY_VIOLATION/.test(l)), r.stdout);
  assert.match(r.stdout, /applied\s+1\n\s+already-present\s+0\n\s+refused\s+1\n/);
  // A store named twice is applied once.
  const twice = cli('apply', UPDATE, join(dir, 'vm-a.json'), '--state-dir', dir, '--dry-run', '--json');
  assert.deepEqual((JSON.parse(twice.stdout) as { stores: Report[] }).stores.map((x) => [x.store, x.outcome]),
    [[join(dir, 'vm-a.json'), 'already-present'], [join(dir, 'vm-b.json'), 'refused']]);
});

test('apply SIGKILLed mid-run leaves every store either as it was or fully updated, never torn', async (t) => {
  const dir = tempDir(t);
  // The fully-applied bytes, from a run that finishes (every copy starts identical, so ends identical).
  const ref = join(dir, 'ref.fd');
  copyFileSync(MS, ref);
  chmodSync(ref, 0o600);
  assert.equal(cli('apply', UPDATE, ref).code, 0);
  const original = readFileSync(MS);
  const applied = readFileSync(ref);
  assert.notDeepEqual(applied, original);
  const paths: string[] = [];
  for (let i = 0; i < 300; i++) {
    const p = join(dir, `vm-${i}.fd`);
    copyFileSync(MS, p);
    chmodSync(p, 0o600);
    paths.push(p);
  }
  const child = spawn(process.execPath, [CLI, 'apply', UPDATE, ...paths, '--jobs', '4'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let lines = 0;
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (b: Buffer) => {
      lines += b.toString().split('\n').length - 1;
      if (lines >= 40 && !child.killed) { child.kill('SIGKILL'); }
    });
    child.on('exit', () => resolve());
  });
  let old = 0, updated = 0;
  for (const p of paths) {
    const b = readFileSync(p);
    if (b.equals(original)) old++;
    else if (b.equals(applied)) updated++;
    else assert.fail(`${p} is neither the original nor the updated store`);
    await loadStoreFile(p); // and it parses
  }
  t.diagnostic(`${updated} updated, ${old} untouched at the kill`);
  assert.ok(updated >= 40, `at least the reported stores were updated (${updated})`);
  assert.ok(old > 0, 'the kill came before the end');
});

test('apply of an OEM KEK update: applied where PK is its signer, refused elsewhere; a store a daemon holds is not touched', async (t) => {
  const dir = tempDir(t);
  const kek = join(V, 'signed/kek/KEKUpdate_RedHat_PK1.bin'); // signed by Red Hat's PK, with signed attributes
  const redhat = join(dir, 'redhat.fd'), debian = join(dir, 'debian.fd'), held = join(dir, 'held.fd');
  for (const [p, src] of [[redhat, join(V, 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-mskek2011.fd')], [debian, MS], [held, MS]] as const) {
    copyFileSync(src, p);
    chmodSync(p, 0o600);
  }
  writeFileSync(`${held}.lock`, `${process.pid}\n`); // as a live daemon's claim looks
  const before = readFileSync(held);
  const r = cli('apply', kek, redhat, debian, held, '--json');
  assert.equal(r.code, 1, r.stderr);
  const rep = JSON.parse(r.stdout) as { update: { variable: string; attributes: number }; stores: Report[] };
  assert.deepEqual([rep.update.variable, rep.update.attributes], ['KEK', 0x67]);
  assert.deepEqual(rep.stores.map((s) => [s.outcome, s.status]), [['applied', 'EFI_SUCCESS'], ['refused', 'EFI_SECURITY_VIOLATION'], ['error', undefined]]);
  assert.match(rep.stores[2]!.reason!, /in use/);
  assert.deepEqual(readFileSync(held), before);
  const keks = (await loadStoreFile(redhat)).variables.find((v) => nameKey(v.name) === 'KEK')!;
  const lists = parseSignatureLists(keks.data)!;
  assert.equal(lists.length, 3, 'Red Hat, MS KEK CA 2011, and the appended KEK 2K CA 2023');
});

test('the QueryVariableInfo pre-check counts only what the duplicate filter keeps: a full store already holding the update is present, not too full', async () => {
  const data = new Uint8Array(readFileSync(UPDATE));
  const u = prepareUpdate((await identifyUpdate(data))!, data);
  const filler = (n: number): ReturnType<typeof makeVariable> => makeVariable({ guid: '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', name: encodeName('Filler'), attributes: 7, data: new Uint8Array(n) });
  const dev = { bufferSize: 65536, service: {} };
  const updated = (await loadStoreFile(UPDATED)).variables;
  const used = updated.reduce((s, v) => s + 96 + v.name.length + v.data.length, 0);
  // A filler leaving about half the update's value of room (volatile variables the machine start adds take ~1 KiB).
  const full = await applyToVariables([...updated, filler(262144 - used - 96 - 14 - 2000 - Math.floor(u.payload.length / 2))], u, dev);
  assert.ok(full.remaining! > 0 && full.remaining! < u.payload.length, `room ${full.remaining} is less than the ${u.payload.length}-byte value`);
  assert.equal(full.outcome, 'already-present', full.reason);
  const ms = await applyToVariables([...(await loadStoreFile(MS)).variables, filler(230_000)], u, dev);
  assert.equal(ms.outcome, 'would-not-fit');
  assert.ok(ms.needed! > ms.remaining!, `${ms.needed} > ${ms.remaining}`);
});
