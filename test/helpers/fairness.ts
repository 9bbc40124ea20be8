/**
 * The two-VM fairness scenario of issue 18 (test/daemon/fairness.test.ts, bench
 * fairness): VM A sends expensive authenticated writes back to back while VM B
 * reads a variable every PERIOD_MS; B's latencies (from when each read was due) and the longest event-loop stall
 * (a 1 ms interval's largest gap, in this process) are what is measured.
 */
import assert from 'node:assert/strict';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { getVariableRequest, setVariableRequest, replyStatus, replyData } from '../../src/client/requests.js';

const TEST_GUID = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
/** How often the quiet VM means to read. */
export const PERIOD_MS = 2;

function p(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** The largest gap between ticks of a 1 ms interval: how long the event loop was held at once. */
export function stallMonitor(): { stop(): number } {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  return { stop: () => { clearInterval(timer); return worst; } };
}

export interface FairnessFigures { p50: number; p99: number; max: number; reads: number; stall: number; writeMs: number[] }

export interface HostileRequest { bytes: Uint8Array; expect: bigint; label: string }

/**
 * Run the scenario on a daemon at `socket`. With no requests, B reads alone for
 * `quietMs` (the machine's own noise, for comparison).
 */
export async function runFairness(socket: string, requests: readonly HostileRequest[], quietMs = 1000): Promise<FairnessFigures> {
  const a = await DaemonClient.connect(socket, 'vm-hostile');
  const b = await DaemonClient.connect(socket, 'vm-quiet');
  try {
    const set = (await b.process(setVariableRequest({ name: 'Quiet', guid: TEST_GUID, attributes: 7, data: Uint8Array.of(7, 7, 7) }), 65536)).reply!;
    assert.equal(replyStatus(set), 0n);
    const read = getVariableRequest({ name: 'Quiet', guid: TEST_GUID, dataSize: 64 });
    for (let i = 0; i < 100; i++) await b.process(read, 65536); // warm the path before measuring
    let done = false;
    const writeMs: number[] = [];
    const monitor = stallMonitor();
    const hostile = (async () => {
      try {
        if (requests.length === 0) await new Promise((r) => setTimeout(r, quietMs));
        for (const q of requests) {
          const t0 = performance.now();
          const reply = (await a.process(q.bytes, 65536)).reply!;
          writeMs.push(performance.now() - t0);
          assert.equal(replyStatus(reply), q.expect, q.label);
        }
      } finally { done = true; }
    })();
    // Open loop: B means to read every PERIOD_MS and its latency counts from when it meant to
    // (a stall delays every read it holds up, not just the one in flight: no coordinated omission).
    const lat: number[] = [];
    const start = performance.now();
    for (let i = 0; !done; i++) {
      const intended = start + i * PERIOD_MS;
      const wait = intended - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const reply = (await b.process(read, 65536)).reply!;
      lat.push(performance.now() - intended);
      assert.equal(replyStatus(reply), 0n);
      assert.deepEqual(replyData(reply).data, Uint8Array.of(7, 7, 7));
    }
    await hostile;
    const stall = monitor.stop();
    lat.sort((x, y) => x - y);
    return { p50: p(lat, 0.5), p99: p(lat, 0.99), max: lat[lat.length - 1]!, reads: lat.length, stall, writeMs };
  } finally {
    await a.close();
    await b.close();
  }
}

export function describeFigures(f: FairnessFigures): string {
  return `${f.reads} reads, p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms, max ${f.max.toFixed(2)} ms; event-loop stall max ${f.stall.toFixed(2)} ms`;
}
