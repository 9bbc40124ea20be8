// npm run fuzz -- TARGET [--time S] [--runs N] [--no-merge] [--merge-only]
//
// Runs Jazzer.js (libFuzzer) on dist/fuzz/targets/TARGET.js, instrumenting dist/src only.
// Seeds come from the target's seeds() (the shared traces and vectors, written to
// fuzz/.cache/seeds/TARGET); new inputs go to fuzz/.cache/work/TARGET; at the end the
// seeds, the work corpus and the kept corpus are merged (libFuzzer -merge=1: the
// smallest set with the same coverage) into fuzz/corpus/TARGET, which is in git and
// which `npm test` replays (test/fuzz/). The kept corpus is merged on edges only
// (-use_counters=0): the repo keeps one input per edge covered, not per hit-count
// bucket, which holds it under the 5 MB budget; the work corpus keeps everything for
// the next run here. --merge-only skips fuzzing (re-minimise what is kept).
// Crashes, timeouts and OOMs are written to fuzz/.cache/findings/TARGET/ (crash-*, timeout-*, oom-*): once fixed, each goes into
// fuzz/corpus/TARGET/ as regress-<what>-* so the replay keeps it fixed.
// Runs at nice 19: the machine is shared. Prints a JSON summary line at the end and
// appends it to fuzz/.cache/runs.jsonl.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, renameSync, existsSync, appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const target = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const time = Number(opt('time', '60'));
const runs = opt('runs', undefined);
const merge = !args.includes('--no-merge');
const mergeOnly = args.includes('--merge-only');
const targetsDir = join(root, 'dist', 'fuzz', 'targets');
const available = existsSync(targetsDir) ? readdirSync(targetsDir).filter((f) => f.endsWith('.js') && !['harness.js', 'codecs.js'].includes(f)).map((f) => f.slice(0, -3)) : [];
if (!target || !available.includes(target)) {
  console.error(`usage: npm run fuzz -- TARGET [--time S] [--runs N] [--no-merge]\ntargets: ${available.join(', ') || '(none: npm run build first)'}`);
  process.exit(1);
}

const shim = execFileSync(process.execPath, [join(root, 'scripts', 'jazzer-glibc.mjs')], { encoding: 'utf8' }).trim();
const env = { ...process.env, ...(shim ? { LD_PRELOAD: shim } : {}) };
const module = join(targetsDir, `${target}.js`);
const mod = await import(pathToFileURL(module).href);
const seedsDir = join(root, 'fuzz', '.cache', 'seeds', target);
const workDir = join(root, 'fuzz', '.cache', 'work', target);
const corpusDir = join(root, 'fuzz', 'corpus', target);
const findingsDir = join(root, 'fuzz', '.cache', 'findings', target);
for (const d of [seedsDir, workDir, corpusDir, findingsDir]) mkdirSync(d, { recursive: true });
rmSync(seedsDir, { recursive: true, force: true });
mkdirSync(seedsDir, { recursive: true });
const seeds = [...(mod.seeds?.() ?? []), ...(mod.seedsAsync ? await mod.seedsAsync() : [])];
for (const s of seeds) writeFileSync(join(seedsDir, createHash('sha1').update(s).digest('hex')), s);

// A sync target (returns no promise) runs in Jazzer's much faster --sync mode.
const probe = mod.fuzz(new Uint8Array(0));
const sync = !(probe instanceof Promise);
if (!sync) await probe.catch(() => undefined);

const jazzer = join(root, 'node_modules', '.bin', 'jazzer');
// libFuzzer's timeout is wall time: at nice 19 on a loaded machine a 1 ms input was
// stalled 8 s (fuzz/corpus/frames/regress-stall-*). The real bound is the harness's
// CPU time per input (50 ms); this one only catches a true hang.
const WALL_TIMEOUT_MS = 60000;
function run(extraDirs, libfuzzer) {
  const argv = ['-n', '19', jazzer, module, ...extraDirs, '-i', '/dist/src/', '--timeout', String(WALL_TIMEOUT_MS), ...(sync ? ['--sync'] : []), '--', ...libfuzzer];
  return new Promise((resolve) => {
    const p = spawn('nice', argv, { cwd: root, env, stdio: ['ignore', 'inherit', 'pipe'] });
    let tail = '';
    p.stderr.on('data', (d) => { process.stderr.write(d); tail = (tail + d.toString()).slice(-20000); });
    p.on('close', (code) => resolve({ code, tail }));
  });
}

const started = Date.now();
const fuzzArgs = [`-max_total_time=${time}`, '-rss_limit_mb=1536', `-artifact_prefix=${findingsDir}/`, '-print_final_stats=1', '-use_value_profile=1'];
if (runs) fuzzArgs.push(`-runs=${runs}`);
const r = mergeOnly ? { code: 0, tail: '' } : await run([workDir, corpusDir, seedsDir], fuzzArgs);
const counters = [...r.tail.matchAll(/^#(\d+)\s/gm)];
const execs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(r.tail)?.[1] ?? /Done (\d+) runs/.exec(r.tail)?.[1] ?? counters[counters.length - 1]?.[1] ?? 0);
const covs = [...r.tail.matchAll(/cov: (\d+) ft: (\d+) corp: (\d+)/g)];
const last = covs[covs.length - 1];
const findings = readdirSync(findingsDir).filter((f) => /^(crash|timeout|oom|slow-unit)-/.test(f));

let kept = readdirSync(corpusDir).length;
if (merge) {
  const out = join(root, 'fuzz', '.cache', 'merged', target);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await run([out, corpusDir, workDir, seedsDir], ['-merge=1', '-use_counters=0', '-rss_limit_mb=1536', `-artifact_prefix=${findingsDir}/`]);
  const merged = readdirSync(out);
  if (merged.length > 0) {
    // regress-* inputs stay under their names; their sha1-named copies from the merge are dropped.
    const regress = new Set(readdirSync(corpusDir).filter((f) => f.startsWith('regress-'))
      .map((f) => createHash('sha1').update(readFileSync(join(corpusDir, f))).digest('hex')));
    for (const f of readdirSync(corpusDir)) if (!f.startsWith('regress-')) rmSync(join(corpusDir, f));
    for (const f of merged) if (regress.has(f)) rmSync(join(out, f)); else renameSync(join(out, f), join(corpusDir, f));
    kept = readdirSync(corpusDir).length;
  }
}
const summary = {
  target, exitCode: r.code, seconds: Math.round((Date.now() - started) / 1000), executions: execs,
  cov: last ? Number(last[1]) : undefined, ft: last ? Number(last[2]) : undefined, corpus: kept, findings, seeds: seeds.length, at: new Date().toISOString(),
};
console.log(JSON.stringify(summary));
appendFileSync(join(root, 'fuzz', '.cache', 'runs.jsonl'), JSON.stringify(summary) + '\n');
process.exit(findings.length > 0 || (r.code !== 0 && r.code !== null) ? 1 : 0);
