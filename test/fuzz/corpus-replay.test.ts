/**
 * Regression replay of the fuzz corpora (fuzz/corpus/TARGET/, kept in git): every
 * input — the minimised corpus and every crash, timeout or OOM a run found — goes
 * through the same target function Jazzer.js ran, without Jazzer. A target throws
 * when an invariant breaks (fuzz/targets/harness.ts), so a regression fails here.
 * CI budget: a few seconds in total; the CPU-per-input bound is relaxed here because
 * replay runs cold (no JIT warm-up) beside other test files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

process.env.FUZZ_MAX_MS ??= '1000';
const CORPUS = resolve(process.cwd(), 'fuzz', 'corpus');
const TARGETS = ['handle', 'device', 'frames', 'codec-json', 'codec-fd', 'codec-aws', 'codec-efivarfs', 'pkcs7', 'x509', 'siglist'];

for (const target of TARGETS) {
  test(`fuzz corpus replays clean: ${target}`, async () => {
    const dir = join(CORPUS, target);
    assert.ok(existsSync(dir), `${dir} is missing: run npm run fuzz -- ${target}`);
    const files = readdirSync(dir).sort();
    assert.ok(files.length > 0, `${dir} is empty`);
    const mod = (await import(`../../fuzz/targets/${target}.js`)) as { fuzz(d: Uint8Array): void | Promise<void> };
    for (const f of files) {
      try {
        await mod.fuzz(new Uint8Array(readFileSync(join(dir, f))));
      } catch (e) {
        assert.fail(`${target}/${f}: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  });
}
