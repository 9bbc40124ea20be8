/**
 * runConformance: every case on a fresh target, one after the other. A case
 * that makes the target die or stop answering is reported as a target crash
 * or hang, with the last request sent, and the suite goes on with the next
 * case on a new target.
 */
import { GuestClient } from '../client/guest-client.js';
import { TargetCrashed, TargetHung, type MmExchange, type Target, type Transport } from '../client/transport.js';
import { CaseContext, CaseFailure, CaseSkipped, type ConformanceCase } from './case.js';
import { describeRequest } from './describe.js';
import { makeKeys, type Keys } from './keys.js';
import { ALL_CASES } from './cases/index.js';

export type Outcome = 'pass' | 'fail' | 'known-difference' | 'skipped' | 'target-crash' | 'target-hang' | 'error';

export interface CaseResult {
  id: string;
  item: string;
  title: string;
  marker?: 'BUG' | 'DIFF';
  outcome: Outcome;
  /** Why it failed / was skipped, the known differences, or the last request before a crash. */
  detail: string;
  ms: number;
}

export interface ConformanceReport {
  target: string;
  results: CaseResult[];
  counts: Record<Outcome, number>;
  ms: number;
  /** True when no case failed, crashed, hung or errored. */
  ok: boolean;
}

export interface RunOptions {
  /** Only cases whose id or item contains one of these substrings (comma-separated in the CLI). */
  only?: readonly string[];
  /** Per-case time limit before the target counts as hung (default 10 s). */
  caseTimeoutMs?: number;
  /** Cases to run instead of the built-in ones. */
  cases?: readonly ConformanceCase[];
  /** Cases run at once, each on its own fresh target (default 1). Results keep case order. */
  jobs?: number;
  /** Called after each case (progress output). */
  onResult?: (r: CaseResult) => void;
}

let sharedKeys: Promise<Keys> | undefined;

export async function runConformance(target: Target, opts: RunOptions = {}): Promise<ConformanceReport> {
  const started = performance.now();
  const cases = selectCases(opts.cases ?? ALL_CASES, opts.only);
  const results: CaseResult[] = new Array<CaseResult>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      const r = await runCase(target, cases[i]!, opts.caseTimeoutMs ?? 10_000);
      results[i] = r;
      opts.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs ?? 1, cases.length)) }, worker));
  const counts: Record<Outcome, number> = { pass: 0, fail: 0, 'known-difference': 0, skipped: 0, 'target-crash': 0, 'target-hang': 0, error: 0 };
  for (const r of results) counts[r.outcome]++;
  const ok = counts.fail + counts['target-crash'] + counts['target-hang'] + counts.error === 0;
  return { target: target.description, results, counts, ms: performance.now() - started, ok };
}

export function selectCases(cases: readonly ConformanceCase[], only?: readonly string[]): ConformanceCase[] {
  if (!only || only.length === 0) return [...cases];
  return cases.filter((c) => only.some((p) => c.id.includes(p) || c.item === p || c.item === `§8.${p}`));
}

/** Records the last request so a crash report can name it. */
class Recording implements Transport {
  last = '(none)';
  constructor(private readonly inner: Transport) {}
  get description(): string { return this.inner.description; }
  get registers(): Transport['registers'] { return this.inner.registers; }
  send(request: Uint8Array): Promise<MmExchange> {
    this.last = describeRequest(request);
    return this.inner.send(request);
  }
  hardReset(): Promise<void> { this.last = 'device hard reset'; return this.inner.hardReset(); }
  close(): Promise<void> { return this.inner.close(); }
}

async function runCase(target: Target, c: ConformanceCase, timeoutMs: number): Promise<CaseResult> {
  const t0 = performance.now();
  const base = { id: c.id, item: c.item, title: c.title, ...(c.marker ? { marker: c.marker } : {}) };
  const done = (outcome: Outcome, detail: string): CaseResult => ({ ...base, outcome, detail, ms: performance.now() - t0 });
  const config = c.config ?? {};
  if (!target.supports(config)) return done('skipped', `target cannot set device properties ${JSON.stringify(config)}`);
  let transport: Recording | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    transport = new Recording(await target.open(config));
    const ctx = new CaseContext(new GuestClient(transport), transport, () => (sharedKeys ??= makeKeys()));
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TargetHung(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([c.run(ctx), hang]);
    if (ctx.differences.length) return done('known-difference', ctx.differences.join('; '));
    return done('pass', ctx.notes.join('; '));
  } catch (e) {
    const last = transport ? ` (last request: ${transport.last})` : ' (while starting the target)';
    if (e instanceof CaseFailure) return done('fail', e.message);
    if (e instanceof CaseSkipped) return done('skipped', e.message);
    if (e instanceof TargetCrashed) return done('target-crash', e.message + last);
    if (e instanceof TargetHung) return done('target-hang', e.message + last);
    return done('error', `${(e as Error).name}: ${(e as Error).message}${last}`);
  } finally {
    if (timer) clearTimeout(timer);
    // A hung or crashed target must not stall the suite: close without waiting forever.
    if (transport) {
      let giveUp: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([transport.close().catch(() => undefined), new Promise((r) => { giveUp = setTimeout(r, 2000); })]);
      clearTimeout(giveUp); // a pending timer would keep the process alive 2 s after the last case
    }
  }
}
