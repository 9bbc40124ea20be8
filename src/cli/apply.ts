import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { identifyUpdate, keyDatabaseGuid, KEY_DB_ATTRIBUTES, type UpdateTarget } from '../auth/auth2-build.js';
import { Attr } from '../wire/attributes.js';
import { formatTime } from '../wire/time.js';
import { parseAuth2 } from '../auth/descriptor.js';
import { deviceOptions } from './args.js';
import { type CommandSpec, type OptionSpec, parseCommand, intValue, UsageError } from './command.js';
import { prepareUpdate, type Outcome, type StoreVerdict } from './apply-store.js';
import { expandTargets, FileTarget, Semaphore, type ApplyTarget } from './apply-targets.js';
import type { WorkerInit, WorkerResult } from './apply-worker.js';
import { Progress } from './progress.js';
import { Exit, out } from './io.js';

export const DEVICE_OPTION_SPECS: readonly OptionSpec[] = [
  { name: 'size', type: 'string', value: 'N', help: 'max variable storage (default 262144), as the device', group: 'device options' },
  { name: 'buffer-size', type: 'string', value: 'N', help: "the guest's buffer (default 65536)", group: 'device options' },
  { name: 'force-secure-boot', type: 'boolean', help: 'QEMU force-secure-boot', group: 'device options' },
  { name: 'disable-custom-mode', type: 'boolean', help: 'QEMU disable-custom-mode', group: 'device options' },
  { name: 'allow-unsigned-pk', type: 'boolean', help: 'PK in Setup Mode needs no self-signature (edk2)', group: 'device options' },
  { name: 'allow-pk-signed-db', type: 'boolean', help: 'db/dbx/dbt/dbr may be signed by PK', group: 'device options' },
  { name: 'allow-kek-signed-kek-append', type: 'boolean', help: 'a KEK append may be signed by a KEK entry', group: 'device options' },
  { name: 'edk2-varcheck', type: 'boolean', help: 'SMM functions 7, 9, 10 as edk2', group: 'device options' },
];

export const applySpec: CommandSpec = {
  name: 'apply',
  summary: 'apply a signed Secure Boot update (dbx, db, KEK) to many stores through the guest path',
  usage: ['apply UPDATE STORE... [--state-dir DIR] [--var NAME] [--dry-run] [--jobs N] [--json] [device options]'],
  options: [
    { name: 'state-dir', type: 'string', multiple: true, value: 'DIR', help: "every DIR/<vm>.json of a daemon's state directory" },
    { name: 'var', type: 'string', value: 'NAME', help: 'the variable (dbx, db, KEK, PK, dbt, dbr); default: the one the signature covers' },
    { name: 'dry-run', type: 'boolean', help: 'report what would happen; write nothing' },
    { name: 'jobs', short: 'j', type: 'string', value: 'N', help: 'worker threads checking stores (default 2); up to 4N written meanwhile' },
    { name: 'json', type: 'boolean', help: 'one JSON report on stdout (docs/cli.md)' },
    ...DEVICE_OPTION_SPECS,
  ],
  details: `STORE: a store file (any format), or postgresql://HOST/DB#VM (#* for every VM).
Per store: applied, already-present (an append whose every entry is there: nothing written),
refused (EFI status and reason), would-not-fit (QueryVariableInfo: needed > remaining),
error (unreadable, in use by a daemon, cannot write). Each store is written atomically.
exit codes: 0 every store applied or already present; 2 some store refused or would not fit;
1 usage error, unreadable update, or some store could not be read or written.`,
};

export interface StoreReport extends Omit<StoreVerdict, 'variables'> { store: string }

/** Run `work` over `items` with at most `jobs` in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], jobs: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return results;
}

async function resolveTarget(data: Uint8Array, file: string, varName: string | undefined): Promise<UpdateTarget> {
  if (varName !== undefined) {
    const guid = keyDatabaseGuid(varName);
    if (!guid) throw new UsageError(`--var: not a key database (PK, KEK, db, dbx, dbt, dbr): ${JSON.stringify(varName)}`);
    const found = await identifyUpdate(data);
    // The name is given; still take APPEND_WRITE from what was signed, if we can tell.
    const attributes = found && found.name === varName ? found.attributes : KEY_DB_ATTRIBUTES | Attr.AP;
    return { name: varName, guid, attributes };
  }
  const t = await identifyUpdate(data);
  if (!t) throw new UsageError(`${file}: its signature covers none of dbx, db, KEK, PK, dbt, dbr (with or without APPEND_WRITE); name the variable with --var`);
  return t;
}

/** Finished stores whose durable write may be in flight, per job, while the job checks the next store. */
const WRITES_PER_JOB = 4;
/** Threads beyond the cores only cost memory (each loads the whole service). */
const MAX_WORKERS = 16;

const ORDER: readonly Outcome[] = ['applied', 'already-present', 'refused', 'would-not-fit', 'error'];

/** uefi-vars apply UPDATE STORE... [--state-dir DIR] [--dry-run] [--jobs N] [--json] */
export async function runApply(argv: string[]): Promise<number> {
  const p = parseCommand(applySpec, argv);
  const [updateFile, ...stores] = p.positional;
  const stateDirs = p.lists.get('state-dir') ?? [];
  if (!updateFile || (stores.length === 0 && stateDirs.length === 0)) throw new UsageError('usage: uefi-vars apply UPDATE STORE... [--state-dir DIR] [--dry-run] [--jobs N] [--json]');
  const jobs = intValue(p, 'jobs') ?? 2;
  if (jobs < 1 || jobs > 256) throw new UsageError('--jobs is 1..256');
  const dev = deviceOptions(p);
  let data: Uint8Array;
  try { data = new Uint8Array(await readFile(updateFile)); } catch (e) { throw new UsageError(`${updateFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  const d = parseAuth2(data);
  if (typeof d === 'string') throw new UsageError(`${updateFile}: not an EFI_VARIABLE_AUTHENTICATION_2 payload (${d})`);
  const target = await resolveTarget(data, updateFile, p.values.get('var'));
  const update = prepareUpdate(target, data);
  const dryRun = p.flags.has('dry-run');
  const json = p.flags.has('json');

  const { targets, close } = await expandTargets(stores, stateDirs, jobs);
  const progress = new Progress(targets.length, process.stderr, !json);
  const reports = new Array<StoreReport>(targets.length);
  const record = (i: number, v: StoreVerdict): void => {
    const r: StoreReport = { store: targets[i]!.shown, ...v };
    reports[i] = r;
    progress.done(r.outcome, json ? undefined : line(r));
  };
  const writes = new Semaphore(WRITES_PER_JOB * jobs);
  const finishing: Promise<void>[] = [];
  try {
    if (jobs > 1 && targets.length > jobs && targets.every((t) => t instanceof FileTarget)) {
      // Store files: one worker thread per job, so the checks (decoding, PKCS#7, the
      // duplicate filter, encoding: CPU work) use every core.
      await inWorkers(targets.map((t) => t.shown), Math.min(jobs, MAX_WORKERS), { data, target, dev, dryRun, writes: WRITES_PER_JOB }, record);
    } else await pool(targets, jobs, async (t: ApplyTarget, i) => {
      const { done } = await t.start(update, dev, dryRun, writes);
      finishing.push(done.then((v) => record(i, v)));
    });
    await Promise.all(finishing);
    // Stores no worker got to (every worker died): reported, never silently dropped.
    for (let i = 0; i < targets.length; i++) if (!reports[i]) record(i, { outcome: 'error', reason: 'not checked (no worker left)' });
  } finally {
    progress.finish();
    await close();
  }
  const counts = Object.fromEntries(ORDER.map((o) => [o, reports.filter((r) => r.outcome === o).length])) as Record<Outcome, number>;
  if (json) {
    out(JSON.stringify({
      update: { file: updateFile, variable: target.name, guid: target.guid, attributes: target.attributes, time: formatTime(d.time), valueSize: update.payload.length },
      dryRun, stores: reports, summary: counts,
    }, null, 2));
  } else {
    out('');
    out(`${dryRun ? 'dry run: ' : ''}${updateFile} → ${target.name} (attributes 0x${target.attributes.toString(16)}), ${reports.length} stores`);
    for (const o of ORDER) out(`  ${o.padEnd(16)} ${String(counts[o]).padStart(6)}`);
  }
  if (counts.error > 0) return Exit.FAILURE;
  if (counts.refused > 0 || counts['would-not-fit'] > 0) return Exit.EFI_ERROR;
  return Exit.OK;
}

/**
 * Store files over `jobs` worker threads, each handed a few stores ahead and one
 * more per result (so a slow store holds up no one). A worker that dies fails the
 * stores it held, and only those.
 */
async function inWorkers(paths: readonly string[], jobs: number, init: WorkerInit, record: (i: number, v: StoreVerdict) => void): Promise<void> {
  let next = 0;
  const AHEAD = 4;
  await Promise.all(Array.from({ length: jobs }, () => new Promise<void>((resolve) => {
    const w = new Worker(new URL('./apply-worker.js', import.meta.url), { workerData: init });
    const held = new Set<number>();
    let ended = false;
    const feed = (): void => {
      if (next < paths.length) {
        held.add(next);
        w.postMessage({ i: next, path: paths[next] });
        next++;
      } else if (!ended) {
        ended = true;
        w.postMessage('end');
      }
    };
    w.on('online', () => { for (let k = 0; k < AHEAD; k++) feed(); });
    let failure = 'worker exited';
    w.on('message', (m: WorkerResult) => {
      if (m === 'finished') { void w.terminate(); return; }
      held.delete(m.i);
      record(m.i, m.verdict);
      feed();
    });
    w.on('error', (e) => { failure = `worker failed: ${e.message}`; });
    w.on('exit', () => {
      for (const i of held) record(i, { outcome: 'error', reason: failure });
      held.clear();
      resolve();
    });
  })));
}

function line(r: StoreReport): string {
  const status = r.status && r.outcome !== 'applied' && r.outcome !== 'already-present' ? ` ${r.status}` : '';
  return `${r.outcome.padEnd(15)} ${r.store}${status}${r.reason ? ` (${r.reason})` : ''}`;
}
