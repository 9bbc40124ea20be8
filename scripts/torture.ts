/**
 * `npm run torture`: SIGKILL real `uefi-vars serve` daemons at random moments
 * during mixed guest write streams and check, after every kill, that the store
 * loads, holds every acknowledged write and nothing the acknowledged writes
 * contradict (docs/durability.md). Outside `npm test` (CI runs 50 kills in
 * test/persist/torture-ci.test.ts).
 *
 *   npm run torture -- [--kills N] [--backend json|fd|postgres|all] [--seed S] [--lanes L] [--minutes M] [--no-auth]
 *
 * --kills is per backend (default 1000). --minutes, or Ctrl-C once, stops
 * starting rounds; the summary then counts the kills made. postgres needs UEFI_VARS_TEST_PG (a
 * role that may create databases); `all` skips it, saying so, when unset.
 * Exit 0 when every kill checked out, 1 on any failure, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { runTorture, BACKENDS, type Backend } from './torture/run.js';

function usage(msg: string): never {
  process.stderr.write(`torture: ${msg}\nusage: npm run torture -- [--kills N] [--backend json|fd|postgres|all] [--seed S] [--lanes L] [--minutes M] [--no-auth]\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      kills: { type: 'string', default: '1000' }, backend: { type: 'string', default: 'all' },
      seed: { type: 'string' }, lanes: { type: 'string', default: '2' }, minutes: { type: 'string' }, 'no-auth': { type: 'boolean', default: false },
    },
  }).values;
} catch (e) { usage((e as Error).message); }
const kills = Number(args.kills);
const lanes = Number(args.lanes);
const seed = args.seed === undefined ? (Date.now() >>> 0) : Number(args.seed);
if (!Number.isInteger(kills) || kills < 1) usage('--kills must be a positive integer');
if (!Number.isInteger(lanes) || lanes < 1 || lanes > 16) usage('--lanes must be 1..16');
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) usage('--seed must be 0..4294967295');
const minutes = args.minutes === undefined ? Infinity : Number(args.minutes);
if (!(minutes > 0)) usage('--minutes must be a positive number');
const pgAdminUrl = process.env.UEFI_VARS_TEST_PG;
let backends: Backend[];
if (args.backend === 'all') {
  backends = BACKENDS.filter((b) => b !== 'postgres' || pgAdminUrl);
  if (!pgAdminUrl) process.stderr.write('torture: UEFI_VARS_TEST_PG is not set: postgres skipped\n');
} else if ((BACKENDS as readonly string[]).includes(args.backend!)) {
  backends = [args.backend as Backend];
  if (args.backend === 'postgres' && !pgAdminUrl) usage('--backend postgres needs UEFI_VARS_TEST_PG');
} else usage(`--backend must be json, fd, postgres or all, not ${JSON.stringify(args.backend)}`);

process.stdout.write(`torture: ${kills} kills per backend on ${backends.join(', ')}, ${lanes} lanes each, seed ${seed}\n`);
const done = new Map<Backend, number>();
let lastPrint = 0;
const t0 = performance.now();
let interrupted = false;
process.once('SIGINT', () => { interrupted = true; process.stdout.write('torture: stopping after the rounds under way\n'); });
const results = await runTorture({
  kills: Object.fromEntries(backends.map((b) => [b, kills])), seed, lanes, authenticated: !args['no-auth'],
  ...(pgAdminUrl ? { pgAdminUrl } : {}),
  stop: () => interrupted || performance.now() - t0 > minutes * 60_000,
  onKill: (b) => {
    done.set(b, (done.get(b) ?? 0) + 1);
    if (performance.now() - lastPrint > 10_000) {
      lastPrint = performance.now();
      process.stdout.write(`  ${[...done].map(([k, n]) => `${k} ${n}/${kills}`).join(', ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
  },
});
let failed = 0;
for (const r of results) {
  failed += r.failures.length;
  process.stdout.write(`${r.backend.padEnd(8)} kills ${String(r.kills).padStart(5)}  ${(r.ms / 1000).toFixed(1).padStart(6)} s  `
    + `acked ops ${r.acked}, in flight at the kill: durable ${r.inFlightApplied}, lost ${r.inFlightLost}; no op pending ${r.idle}; `
    + `before the first answer ${r.early}; temp files left at most ${r.maxTempFiles}; failures ${r.failures.length}\n`);
  for (const f of r.failures) process.stdout.write(`  FAIL ${f}\n`);
}
process.stdout.write(`torture: ${results.reduce((a, r) => a + r.kills, 0)} kills in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${failed} failures (seed ${seed})\n`);
process.exit(failed ? 1 : 0);
