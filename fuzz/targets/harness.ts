/**
 * What every fuzz target shares (docs/fuzzing.md). A target module exports
 * `fuzz(data)` — the function Jazzer.js calls and test/fuzz/ replays the corpus
 * through — and `seeds()`, the starting inputs the runner writes before a run.
 * A target throws (FuzzFinding) when an invariant of the issue breaks: an
 * exception escaping the code under test is a finding too, and so is a single
 * input costing more than the time bound.
 */
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding';
}

export function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new FuzzFinding(what);
}

/**
 * CPU time bound per input (issue 16: <= 50 ms). CPU, not wall time, so other
 * processes on a shared machine do not fake a finding; the first calls of a
 * process (JIT warm-up, lazy module state) are not counted.
 */
export const MAX_CPU_MS = Number(process.env.FUZZ_MAX_MS ?? 50);
const WARMUP_CALLS = 200;
let calls = 0;

export function timed<T>(run: () => T, limitMs = MAX_CPU_MS, attempt = 1): T {
  const start = process.cpuUsage();
  const r = run();
  if (r instanceof Promise) {
    return r.then((v: unknown) => (over(start, limitMs) ? retry(run, limitMs, attempt, v) : v)) as T;
  }
  return over(start, limitMs) ? retry(run, limitMs, attempt, r) : r;
}

/**
 * process.cpuUsage() is the whole process's CPU, so a major GC of garbage earlier
 * inputs left (V8 marks on helper threads) lands on whichever input is running:
 * one slow run is not yet the input's cost. An input is a finding only when each of
 * TIME_ATTEMPTS runs (every target's body starts from the same state) is over the
 * bound; a really slow input is slow every time.
 */
const TIME_ATTEMPTS = 3;

function retry<T>(run: () => T, limitMs: number, attempt: number, result: T): T {
  if (attempt >= TIME_ATTEMPTS) {
    check(false, `input took ${lastMs.toFixed(1)} ms of CPU (bound ${limitMs} ms) in each of ${TIME_ATTEMPTS} runs`);
  }
  const again = timed(run, limitMs, attempt + 1);
  return again instanceof Promise ? (again.then(() => result) as T) : result;
}

/**
 * Store files come from the host's disk, not from one guest request, and may be
 * large: their bound scales with size (the request bound per 64 KiB, a guest
 * request's maximum).
 */
export function fileBound(bytes: number): number {
  return MAX_CPU_MS * Math.max(1, Math.ceil(bytes / 65536));
}

let lastMs = 0;

/**
 * Memory bound (issue 16): the process stays under MAX_RSS_MB whatever it was fed,
 * checked every RSS_EVERY inputs here (so the replay test sees it too) and by
 * libFuzzer's -rss_limit_mb (scripts/fuzz.mjs, which also catches one input that
 * balloons past it). A length field believed before it is checked shows up as an
 * allocation this size or as a RangeError escaping.
 */
export const MAX_RSS_MB = Number(process.env.FUZZ_MAX_RSS_MB ?? 1024);
const RSS_EVERY = 64;

/** True when this run of an input (after the warm-up calls) cost more CPU than the bound. */
function over(start: NodeJS.CpuUsage, limitMs: number): boolean {
  if (++calls % RSS_EVERY === 0) {
    const mb = process.memoryUsage.rss() / 2 ** 20;
    check(mb <= MAX_RSS_MB, `process RSS ${mb.toFixed(0)} MiB over the ${MAX_RSS_MB} MiB bound`);
  }
  if (calls <= WARMUP_CALLS) return false;
  const d = process.cpuUsage(start);
  lastMs = (d.user + d.system) / 1000;
  return lastMs > limitMs;
}

/** The shared test material (../shared from the repo root, as test/helpers/ reads it). */
export const SHARED = resolve(process.cwd(), '../shared');

export function sharedFiles(sub: string, filter: (name: string) => boolean = () => true): string[] {
  const root = join(SHARED, sub);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p); else if (filter(e)) out.push(p);
    }
  };
  walk(root);
  return out;
}

export function readShared(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** Every request of every recorded trace (jsonl `request` hex), deduplicated, in file order. */
export function traceRequests(): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const f of sharedFiles('traces', (n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as { request?: string };
      if (typeof rec.request !== 'string' || seen.has(rec.request)) continue;
      seen.add(rec.request);
      out.push(Uint8Array.from(Buffer.from(rec.request, 'hex')));
    }
  }
  return out;
}

/**
 * Reads an input as a stream of fuzzer choices: small integers and
 * length-prefixed byte runs. Running out of input yields zeros / empty runs, so
 * every byte string is a valid input.
 */
export class Cursor {
  private off = 0;
  constructor(readonly data: Uint8Array) {}
  get left(): number { return this.data.length - this.off; }
  u8(): number { return this.off < this.data.length ? this.data[this.off++]! : 0; }
  u16(): number { return this.u8() | (this.u8() << 8); }
  u32(): number { return (this.u16() | (this.u16() << 16)) >>> 0; }
  bytes(n: number): Uint8Array {
    const k = Math.min(n, this.left);
    const out = this.data.slice(this.off, this.off + k);
    this.off += k;
    return out;
  }
  /** A u16-length-prefixed run. */
  chunk(): Uint8Array { return this.bytes(this.u16()); }
  rest(): Uint8Array { return this.bytes(this.left); }
}

/** Build inputs in Cursor's encoding. */
export function u16le(n: number): Uint8Array { return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff); }
export function chunk(b: Uint8Array): Uint8Array { return concat([u16le(b.length), b]); }
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A fuzz target module's shape. */
export interface FuzzTarget {
  fuzz(data: Uint8Array): void | Promise<void>;
  seeds(): Uint8Array[];
}
