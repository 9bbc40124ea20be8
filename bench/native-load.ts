import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Step } from './load.js';

/**
 * bench/loadgen.c, the open-loop load generator in C: built here with the
 * system C compiler (cc) when there is one. Its latencies hold no pause of a
 * JavaScript client (collector, event loop), so next to bench/load.ts it shows
 * which share of a tail is the daemon's.
 */
export interface NativeLoadResult {
  scheduled: number; answered: number; seconds: number;
  p50: number; p90: number; p99: number; p999: number; max: number;
  late: number; lagP99: number; lagMax: number;
}

const SOURCE = resolve(process.cwd(), 'bench/loadgen.c');

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (e, stdout, stderr) => {
      if (e) rej(new Error(`${file}: ${stderr.trim() || e.message}`)); else res(stdout);
    });
  });
}

/** Compile into `dir`; the binary's path, or why there is none. */
export async function buildLoadgen(dir: string): Promise<{ path: string } | { missing: string }> {
  const out = join(dir, 'loadgen');
  try {
    await run('cc', ['-O2', '-o', out, SOURCE], 60_000);
    return { path: out };
  } catch (e) {
    return { missing: (e as Error).message.split('\n')[0]! };
  }
}

/** The steps file loadgen.c reads (format in its header comment). */
export function writeSteps(traces: readonly (readonly Step[])[], file: string): void {
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  parts.push(u32(traces.length));
  for (const steps of traces) {
    parts.push(u32(steps.length));
    for (const s of steps) parts.push(Buffer.from([s.expect, s.isRequest ? 1 : 0]), u32(s.frame.length), Buffer.from(s.frame));
  }
  writeFileSync(file, Buffer.concat(parts));
}

export async function nativeOpenLoop(bin: string, o: { socket: string; stepsFile: string; conns: number; rate: number; warmupMs: number; durationMs: number; vmPrefix: string }): Promise<NativeLoadResult> {
  const out = await run(bin, [o.socket, o.stepsFile, String(o.conns), String(o.rate), String(o.warmupMs), String(o.durationMs), o.vmPrefix], o.warmupMs + o.durationMs + 60_000);
  return JSON.parse(out) as NativeLoadResult;
}

export interface Hiccups { over500us: number; over1ms: number; over2ms: number; over5ms: number; maxUs: number; stalledShare: number }

/** One spinning clock reader per core at once, for `seconds`: when and how long this machine takes the CPU away. */
export async function hiccups(bin: string, cores: number, seconds: number): Promise<Hiccups[]> {
  const outs = await Promise.all(Array.from({ length: cores }, () => run(bin, ['--hiccup', String(seconds)], seconds * 1000 + 30_000)));
  return outs.map((o) => JSON.parse(o) as Hiccups);
}
