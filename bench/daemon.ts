import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, readFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { DaemonClient } from '../src/daemon/protocol/vmm-client.js';
import { getPayloadSizeRequest } from '../src/client/requests.js';
import { VariableService } from '../src/service/variable-service.js';
import type { Trace } from './replay.js';
import { summary, percentile, fmt, line, nowNs } from './stats.js';
import { compileTrace, closedLoop, openLoop, pacingCost, type Step, type OpenLoopResult } from './load.js';
import { buildLoadgen, writeSteps, nativeOpenLoop, hiccups, type NativeLoadResult } from './native-load.js';

const CLI = resolve(process.cwd(), 'dist/src/cli/main.js');

/**
 * The daemon as npm start and the systemd unit run it: Node with
 * --single-threaded-gc (docs/cli.md, "serve"). `gc: 'parallel'` runs it with
 * V8's default helper threads instead, for the comparison line.
 */
async function startDaemon(args: string[], dir: string, gc: 'single' | 'parallel' = 'single'): Promise<{ child: ChildProcess; socket: string }> {
  const socket = join(dir, 'data.sock');
  const child = spawn(process.execPath, [...(gc === 'single' ? ['--single-threaded-gc'] : []), CLI, 'serve', '--socket', socket, '--log-level', 'silent', '--rate', '0', '--max-connections', '2000', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The data socket listens before the API socket: wait for both, or the first scrape can miss it.
  const api = args.indexOf('--api') >= 0 ? args[args.indexOf('--api') + 1] : undefined;
  const up = (): boolean => existsSync(socket) && (api === undefined || existsSync(api));
  for (let i = 0; i < 200 && !up(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!up()) throw new Error('daemon did not start');
  return { child, socket };
}

function scrape(apiSocket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: apiSocket, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString('utf8'); });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Cumulative request-duration histogram (all functions), bucket bound → count. */
function durationBuckets(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^uefi_vars_request_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm)) {
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The in-daemon request-time line (request frame in → reply frame out), from two scrapes of its histogram. */
function inDaemonLine(label: string, before: Map<string, number>, after: Map<string, number>): void {
  const d = (le: string): number => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const all = d('+Inf');
  const p99 = ['0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1'].find((le) => d(le) >= 0.99 * all);
  line(`${label}: in-daemon time, <= 1 ms / p99 bucket`, `${fmt((100 * d('0.001')) / all, 2)}% / <= ${p99 ? Number(p99) * 1e6 : '>100000'} µs`);
}

/** CPU (user + system) of this process so far, µs. */
function selfCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** CPU seconds (user + system) the process has used so far (/proc, clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rssKiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
}

/** One connection replays its trace(s) until `budget` requests are done; latencies in µs. */
async function drive(client: DaemonClient, trace: Trace, budget: number, lat: number[]): Promise<number> {
  let n = 0;
  while (n < budget) {
    for (const rec of trace.records) {
      if (n >= budget) break;
      if (rec.type === 'reset') { await client.reset(); continue; }
      if (rec.type !== 'request') continue;
      const a = nowNs();
      await client.process(rec.bytes, 65536);
      lat.push(Number(nowNs() - a) / 1000);
      n++;
    }
  }
  return n;
}

/**
 * (issue 6, bench) Requests/s and latency through the daemon (a child process,
 * Unix socket, one VM per connection, memory-backed VMs so the figure is the
 * protocol + service and not the disk — durable-write cost is bench (b)) with 1
 * and 100 connections replaying the traces, next to in-process replay of the
 * same traffic; then resident memory per idle VM with 100 and 1000 VMs loaded
 * from --state-dir stores.
 */
export async function benchDaemon(traces: Trace[], openLoopRates: readonly number[] = [50_000]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-dbench-'));
  const usable = traces.filter((t) => t.initial.length === 0 && t.size === undefined);
  try {
    // In-process reference: the same traffic, one service per trace, no sockets.
    {
      let n = 0;
      const a = nowNs();
      for (const t of usable) {
        const svc = await VariableService.create({});
        for (const rec of t.records) {
          if (rec.type === 'reset') await svc.reset();
          else if (rec.type === 'request') { await svc.process(rec.bytes, 65536); n++; }
        }
      }
      const s = Number(nowNs() - a) / 1e9;
      line('in-process replay of the same traffic: requests/s', fmt(n / s, 0));
    }
    const api = join(dir, 'api.sock');
    const { child, socket } = await startDaemon(['--memory', '--api', api], dir);
    try {
      // Two mixes: firmware boots (the cold-boot traces: what VMs actually send), and
      // every trace (conformance corner cases with 64 KiB buffers, 32K-character names
      // and PKCS#7 verifications included).
      const boots = usable.filter((t) => /cold-boot/.test(t.name));
      for (const [mix, pool] of [['boot traces', boots], ['all traces', usable]] as const) {
        for (const conns of [1, 100]) {
          const clients = await Promise.all(Array.from({ length: conns }, (_, i) => DaemonClient.connect(socket, `bench-${mix.length}-${conns}-${i}`)));
          const lat: number[] = [];
          const budget = conns === 1 ? 10000 : 1000;
          const before = durationBuckets(await scrape(api));
          const cpu0 = cpuSeconds(child.pid!);
          const self0 = selfCpuUs();
          const a = nowNs();
          const counts = await Promise.all(clients.map((c, i) => drive(c, pool[i % pool.length]!, budget, lat)));
          const secs = Number(nowNs() - a) / 1e9;
          const self = selfCpuUs() - self0;
          await Promise.all(clients.map((c) => c.close()));
          const total = counts.reduce((x, y) => x + y, 0);
          const s = summary(lat);
          const label = `daemon, ${mix}, ${conns} conn, closed loop (DaemonClient)`;
          line(`${label}: requests/s`, fmt(total / secs, 0));
          line(`${label}: round trip µs p50 / p99`, `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)}`);
          // Inside the daemon (request frame in → reply frame out), from its own histogram:
          // with N closed-loop connections the round trip also holds the wait behind the
          // other N−1 (Little's law: mean round trip = N / throughput).
          const cpu = cpuSeconds(child.pid!) - cpu0;
          line(`${label}: daemon CPU µs per request (one core's capacity)`, `${fmt((cpu * 1e6) / total, 1)} (${fmt(total / cpu, 0)} req/s)`);
          line(`${label}: bench client CPU µs per request`, fmt(self / total, 1));
          inDaemonLine(label, before, durationBuckets(await scrape(api)));
        }
      }
    } finally {
      await stopDaemon(child);
    }
    await benchFrameDriver(usable.filter((t) => /cold-boot/.test(t.name)), dir, openLoopRates);
    await benchNativeLoad(usable.filter((t) => /cold-boot/.test(t.name)), dir);
    // Memory per idle VM, with real stores. Every reading is taken after the daemon has sat idle
    // for SETTLE_MS, long enough for V8's memory reducer to run: a reading right after loading
    // would count the garbage of loading (JSON parsing, connections) as VM memory, and the
    // baseline right after start the garbage of starting.
    {
      const sd = join(dir, 'state-idle');
      const d = await startDaemon(['--state-dir', sd], dir);
      try {
        const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SETTLE_MS));
        await settle();
        const base = rssKiB(d.child.pid!);
        let loaded = 0;
        for (const vms of [100, 1000]) {
          for (let i = loaded; i < vms; i += 50) {
            await Promise.all(Array.from({ length: Math.min(50, vms - i) }, async (_, k) => {
              const c = await DaemonClient.connect(d.socket, `vm-${i + k}`);
              await c.process(getPayloadSizeRequest(), 65536);
              await c.close();
            }));
          }
          loaded = vms;
          await settle();
          const after = rssKiB(d.child.pid!);
          const files = readdirSync(sd).filter((f) => f.endsWith('.json'));
          const storeBytes = files.reduce((x, f) => x + statSync(join(sd, f)).size, 0) / files.length;
          const perVm = ((after - base) * 1024) / vms;
          line(`idle VMs loaded: ${vms}; RSS idle before / after (MiB, each after ${SETTLE_MS / 1000} s idle)`, `${fmt(base / 1024, 1)} / ${fmt(after / 1024, 1)}`);
          line(`memory per idle VM (bytes), store file ${fmt(storeBytes, 0)} B`, `${fmt(perVm, 0)} (target <= ${fmt(2 * storeBytes + 65536, 0)})`);
        }
      } finally {
        await stopDaemon(d.child);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Idle time before each memory reading (V8's memory reducer acts after ~8 s without activity). */
const SETTLE_MS = 10_000;

/** The target for the open-loop run. */
const TARGET_RATE = 50_000;
const TARGET_P99_US = 1000;

/**
 * The daemon driven by bench/load.ts (callback-driven frames over node:net, no
 * promise per request), boot mix: closed loop with 1 and 100 connections, then
 * 100 connections open loop at each offered rate (latency from the scheduled
 * send time, wrk2 style). A fresh daemon, so the VMs loaded by the runs above
 * do not weigh on it.
 */
async function benchFrameDriver(boots: Trace[], dir: string, rates: readonly number[]): Promise<void> {
  const steps: Step[][] = boots.map((t) => compileTrace(t));
  const api = join(dir, 'api-load.sock');
  const sub = mkdtempSync(join(dir, 'load-'));
  const { child, socket } = await startDaemon(['--memory', '--api', api], sub);
  const daemonCpu = (): number => cpuSeconds(child.pid!);
  try {
    for (const conns of [1, 100]) {
      const label = `daemon, boot traces, ${conns} conn, closed loop (frame driver)`;
      const before = durationBuckets(await scrape(api));
      const r = await closedLoop({ socket, steps, conns, vmPrefix: `closed-${conns}`, warmupMs: 300, durationMs: conns === 1 ? 1500 : 2000, daemonCpu });
      line(`${label}: requests/s`, fmt(r.requests / r.seconds, 0));
      line(`${label}: round trip µs p50 / p99`, `${fmt(percentile(r.latencyUs, 50), 1)} / ${fmt(percentile(r.latencyUs, 99), 1)}`);
      line(`${label}: daemon CPU µs per request (one core's capacity)`, `${fmt((r.daemonCpuS * 1e6) / r.requests, 1)} (${fmt(r.requests / r.daemonCpuS, 0)} req/s)`);
      line(`${label}: bench client CPU µs per request`, fmt(r.clientCpuUs / r.requests, 1));
      inDaemonLine(label, before, durationBuckets(await scrape(api)));
    }
    for (const rate of rates) {
      // The pacing loop spins (setImmediate) while the next slot is under 2 ms away: what that costs with nothing to send.
      const idle = await pacingCost(rate, 500);
      line(`pacing loop alone at ${rate} slots/s: CPU (share of a core) / wake-ups/s`, `${fmt(100 * idle.cpuShare, 0)}% / ${fmt(idle.wakeupsPerSec, 0)}`);
      const label = `daemon, boot traces, 100 conn, open loop at ${rate} req/s offered`;
      // Scraped outside the run: rendering /metrics stalls the daemon's loop for a moment.
      const before = durationBuckets(await scrape(api));
      const r = await openLoop({ socket, steps, conns: 100, vmPrefix: `open-${rate}`, warmupMs: 500, durationMs: 3000, daemonCpu, rate });
      openLoopLines(label, r);
      inDaemonLine(label, before, durationBuckets(await scrape(api)));
      if (rate === TARGET_RATE) {
        const ok = r.requests / r.seconds >= 0.99 * rate && percentile(r.latencyUs, 99) <= TARGET_P99_US;
        line(`target: ${TARGET_RATE} req/s with 100 conn, p99 <= ${TARGET_P99_US} µs (open loop, frame driver)`, ok ? 'met' : 'NOT met');
      }
    }
  } finally {
    await stopDaemon(child);
  }
  // The same open loop against a daemon on V8's default (parallel) collector, for the ratio.
  const par = await startDaemon(['--memory'], mkdtempSync(join(dir, 'load-par-')), 'parallel');
  try {
    const r = await openLoop({ socket: par.socket, steps, conns: 100, vmPrefix: 'open-par', warmupMs: 500, durationMs: 3000, daemonCpu: () => cpuSeconds(par.child.pid!), rate: TARGET_RATE });
    openLoopLines(`daemon on V8's parallel GC (node without --single-threaded-gc), open loop at ${TARGET_RATE} req/s`, r, true);
  } finally {
    await stopDaemon(par.child);
  }
}

/** The figures of one open-loop run (`short`: latency and achieved rate only). */
function openLoopLines(label: string, r: OpenLoopResult, short = false): void {
  const lat = (p: number): string => fmt(percentile(r.latencyUs, p), 0);
  line(`${label}: achieved req/s`, `${fmt(r.requests / r.seconds, 0)} (${r.scheduled} scheduled in ${fmt(r.seconds, 2)} s)`);
  line(`${label}: latency µs p50 / p99 / p99.9 / max`, `${lat(50)} / ${lat(99)} / ${lat(99.9)} / ${lat(100)}`);
  if (short) return;
  line(`${label}: daemon CPU µs per request (one core's capacity)`, `${fmt((r.daemonCpuS * 1e6) / r.requests, 1)} (${fmt(r.requests / r.daemonCpuS, 0)} req/s)`);
  line(`${label}: bench client CPU µs per request (share of a core)`, `${fmt(r.clientCpuUs / r.requests, 1)} (${fmt(r.clientCpuUs / 1e4 / r.seconds, 0)}%)`);
  // Late: the previous answer on the connection took longer than its period (conns / rate s; 2 ms at 50k).
  // Pacing lag: how late the bench itself sent on-time requests (its own event loop, a lower bound on its
  // share of the latency above). The in-daemon histogram starts at the request frame: daemon stalls
  // between requests (GC, say) show in the latency but not there.
  line(`${label}: sent late behind an overdue reply`, `${r.late} (${fmt((100 * r.late) / r.scheduled, 2)}%)`);
  line(`${label}: pacing lag µs p50 / p99 / max (sends on time)`, `${fmt(percentile(r.lagUs, 50), 1)} / ${fmt(percentile(r.lagUs, 99), 1)} / ${fmt(percentile(r.lagUs, 100), 0)}`);
  line(`${label}: pacing wake-ups/s (idle share)`, `${fmt(r.wakeups / r.seconds, 0)} (${fmt((100 * r.idleWakeups) / r.wakeups, 0)}%)`);
}

/**
 * The same open loop driven by bench/loadgen.c (no JavaScript on the client
 * side): first against loadgen.c's minimal server, the floor of this machine
 * and this load generator, then against a daemon on --single-threaded-gc and
 * one on V8's parallel collector. Skipped, with the reason, where no C
 * compiler is found.
 */
async function benchNativeLoad(boots: Trace[], dir: string): Promise<void> {
  const sub = mkdtempSync(join(dir, 'native-'));
  const built = await buildLoadgen(sub);
  if ('missing' in built) { line('C load generator (bench/loadgen.c)', `not run: ${built.missing}`); return; }
  // The machine's own floor: with every core busy (as during the open loop), how often and how
  // long a thread that never blocks is kept off its CPU anyway.
  const cores = availableParallelism();
  const h = await hiccups(built.path, cores, 5);
  const sum = (k: 'over1ms' | 'over2ms' | 'over5ms'): number => h.reduce((x, y) => x + y[k], 0) / h.length;
  line(`machine: ${cores} threads spinning 5 s, gaps per thread > 1 / 2 / 5 ms`, `${fmt(sum('over1ms'), 1)} / ${fmt(sum('over2ms'), 1)} / ${fmt(sum('over5ms'), 1)}`);
  line(`machine: longest gap (µs) / share of time off the CPU`, `${fmt(Math.max(...h.map((x) => x.maxUs)), 0)} / ${fmt(100 * Math.max(...h.map((x) => x.stalledShare)), 2)}%`);
  const stepsFile = join(sub, 'steps.bin');
  writeSteps(boots.map((t) => compileTrace(t)), stepsFile);
  const base = { stepsFile, conns: 100, rate: TARGET_RATE };
  /** A warm-up run (its VMs stay loaded), then the measured one; `warm` is called in between. */
  const measure = async (socket: string, vmPrefix: string, warm = (): void => undefined): Promise<NativeLoadResult> => {
    await nativeOpenLoop(built.path, { ...base, socket, rate: TARGET_RATE / 2, warmupMs: 1000, durationMs: 1000, vmPrefix });
    warm();
    return nativeOpenLoop(built.path, { ...base, socket, warmupMs: 500, durationMs: 3000, vmPrefix });
  };
  const latencies = (r: NativeLoadResult): string => `${fmt(r.p50, 0)} / ${fmt(r.p90, 0)} / ${fmt(r.p99, 0)} / ${fmt(r.p999, 0)} / ${fmt(r.max, 0)}`;
  // The floor: the same load against loadgen.c's own minimal server (no collector, no work).
  const floorSocket = join(sub, 'floor.sock');
  const floorServer = spawn(built.path, ['--serve', floorSocket], { stdio: ['ignore', 'ignore', 'inherit'] });
  let floor: NativeLoadResult;
  try {
    for (let i = 0; i < 200 && !existsSync(floorSocket); i++) await new Promise((r) => setTimeout(r, 25));
    floor = await measure(floorSocket, 'floor');
  } finally {
    floorServer.kill('SIGKILL');
  }
  const floorLabel = `floor: minimal C server (loadgen.c --serve), 100 conn, open loop at ${TARGET_RATE} req/s, C load generator`;
  line(`${floorLabel}: latency µs p50 / p90 / p99 / p99.9 / max`, latencies(floor));
  line(`${floorLabel}: sent late`, `${floor.late} (${fmt((100 * floor.late) / floor.scheduled, 2)}%)`);
  for (const gc of ['single', 'parallel'] as const) {
    const d = await startDaemon(['--memory'], mkdtempSync(join(sub, `${gc}-`)), gc);
    try {
      let cpu0 = 0;
      const r = await measure(d.socket, 'native', () => { cpu0 = cpuSeconds(d.child.pid!); });
      const cpu = cpuSeconds(d.child.pid!) - cpu0;
      const label = `daemon (${gc === 'single' ? '--single-threaded-gc' : "V8's parallel GC"}), boot traces, 100 conn, open loop at ${TARGET_RATE} req/s, C load generator`;
      line(`${label}: answered / scheduled`, `${r.answered} / ${r.scheduled} in ${fmt(r.seconds, 2)} s`);
      line(`${label}: latency µs p50 / p90 / p99 / p99.9 / max`, latencies(r));
      line(`${label}: p99 / floor's p99`, `${fmt(r.p99 / floor.p99, 2)}x`);
      // The measured run's warm-up phase included (3.5 s at the rate); its VMs were loaded by the warm-up run.
      line(`${label}: daemon CPU µs per request`, fmt((cpu * 1e6) / (TARGET_RATE * 3.5), 1));
      line(`${label}: sent late / pacing lag µs p99 / max`, `${r.late} (${fmt((100 * r.late) / r.scheduled, 2)}%) / ${fmt(r.lagP99, 1)} / ${fmt(r.lagMax, 0)}`);
      if (gc === 'single') {
        const ok = r.answered === r.scheduled && r.p99 <= TARGET_P99_US;
        line(`target: ${TARGET_RATE} req/s with 100 conn, p99 <= ${TARGET_P99_US} µs (C load generator)`, `${ok ? 'met' : 'NOT met'} (the floor server's p99 on this machine: ${fmt(floor.p99, 0)} µs)`);
      }
    } finally {
      await stopDaemon(d.child);
    }
  }
}
