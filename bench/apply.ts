import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { webcrypto } from 'node:crypto';
import { writeFileAtomic } from '../src/persist/atomic-file.js';
import { fmt, line, nowNs } from './stats.js';

/**
 * (issue 12, bench) `uefi-vars apply` of DBXUpdate_amd64.bin to `count` copies
 * of OVMF_VARS_4M.ms.fd with --jobs 2, end to end (the CLI in a child process),
 * next to its floor measured in the same run: `count` × (one RSA-2048 verify of
 * the update's size + one durable write of the store's size), one after another.
 */
export async function benchApply(count = 1000, jobs = 2): Promise<{ storesPerSec: number; floorPerSec: number; ratio: number }> {
  const shared = resolve(process.cwd(), '../shared/vectors');
  const cli = resolve(process.cwd(), 'dist/src/cli/main.js');
  const update = join(shared, 'signed/dbx/DBXUpdate_amd64.bin');
  const src = readFileSync(join(shared, 'varstores/ovmf/OVMF_VARS_4M.ms.fd'));
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-apply-'));
  try {
    const paths = Array.from({ length: count }, (_, i) => join(dir, `vm-${i}.fd`));
    for (const p of paths) writeFileSync(p, src, { mode: 0o600 });
    // The floor, first, on the same disk.
    const payload = new Uint8Array(readFileSync(update));
    const subtle = webcrypto.subtle;
    const key = await subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    const sig = await subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, payload);
    const bytes = new Uint8Array(src);
    const f0 = nowNs();
    for (let i = 0; i < count; i++) {
      if (!(await subtle.verify('RSASSA-PKCS1-v1_5', key.publicKey, sig, payload))) throw new Error('verify');
      await writeFileAtomic(join(dir, `floor-${i % 16}.fd`), bytes);
    }
    const floorS = Number(nowNs() - f0) / 1e9;
    const a0 = nowNs();
    const r = spawnSync(process.execPath, [cli, 'apply', update, ...paths, '--jobs', String(jobs), '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const applyS = Number(nowNs() - a0) / 1e9;
    if (r.status !== 0) throw new Error(`apply failed (exit ${r.status}): ${r.stderr}`);
    const summary = (JSON.parse(r.stdout) as { summary: Record<string, number> }).summary;
    if (summary['applied'] !== count) throw new Error(`apply: ${JSON.stringify(summary)}`);
    const storesPerSec = count / applyS, floorPerSec = count / floorS;
    line(`apply DBXUpdate_amd64 to ${count} x OVMF_VARS_4M.ms.fd --jobs ${jobs}: stores/s`, fmt(storesPerSec, 0));
    line(`floor ${count} x (RSA-2048 verify + durable 528 KiB write): stores/s`, fmt(floorPerSec, 0));
    line('apply time / floor time', `${fmt(applyS / floorS, 2)}x`);
    if (existsSync(resolve(process.cwd(), 'dist/src/cli/enroll.js'))) await benchEnroll(cli, dir);
    else line('enroll --enroll-redhat --sb: ms per store', 'skipped (no enroll command in this tree)');
    return { storesPerSec, floorPerSec, ratio: applyS / floorS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `enroll STORE --enroll-redhat --sb --output OUT` over fresh OVMF_VARS_4M.fd copies, per store. */
async function benchEnroll(cli: string, dir: string, rounds = 10): Promise<void> {
  const blank = resolve(process.cwd(), '../shared/vectors/varstores/ovmf/OVMF_VARS_4M.fd');
  const t0 = nowNs();
  for (let i = 0; i < rounds; i++) {
    const r = spawnSync(process.execPath, [cli, 'enroll', blank, '--enroll-redhat', '--sb', '--output', join(dir, `enrolled-${i}.fd`)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`enroll failed: ${r.stderr}`);
  }
  line('enroll --enroll-redhat --sb (CLI, incl. start): ms per store', fmt(Number(nowNs() - t0) / 1e6 / rounds, 1));
}
