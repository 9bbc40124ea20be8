import { createConnection, type Socket } from 'node:net';
import {
  FrameDecoder, FrameType, frameTypeName, errorCodeName,
  encodeHello, encodeMmRequest, encodeFrame, decodeHelloOk, decodeMmReply, decodeError, expectEmpty,
  type Frame,
} from '../src/daemon/protocol/frames.js';
import { sharedRead } from '../src/daemon/protocol/read-buffer.js';
import type { Trace } from './replay.js';

/**
 * A lean load generator for the daemon bench: one socket per VM connection,
 * driven by callbacks (no promise per request), speaking the real protocol
 * through the project's own frame codec. Every answer's frame type is checked;
 * anything but the expected MM_REPLY / RESET_OK (an ERROR above all) aborts the
 * run with a LoadError naming the connection, the trace step and the frame.
 *
 * Two drivers share it:
 *  - closedLoop: each connection sends its next request as soon as the previous
 *    answer arrives (throughput at saturation; the round trip then holds the
 *    wait behind the other connections, Little's law).
 *  - openLoop: requests go out on a fixed schedule (wrk2 style), total offered
 *    rate R spread over the connections with evenly staggered phases. Latency is
 *    counted from each request's SCHEDULED send time, so a late answer delays
 *    the requests queued behind it and that delay is charged to them
 *    (coordinated omission corrected).
 *
 * A trace's RESET records are sent in the slot of the MM request that follows
 * them: that request goes out as soon as RESET_OK arrives and its latency holds
 * the reset's round trip too. Rates and counts are MM requests.
 */

export class LoadError extends Error {
  override readonly name = 'LoadError';
}

/** One record of a trace as it goes on the wire, and the answer it must get. */
export interface Step { frame: Uint8Array; expect: number; isRequest: boolean }

/** Encode a trace once (requests and resets, in order); every connection replaying it shares the frames. */
export function compileTrace(trace: Trace, bufferSize = 65536): Step[] {
  const steps: Step[] = [];
  for (const rec of trace.records) {
    if (rec.type === 'reset') steps.push({ frame: encodeFrame(FrameType.RESET), expect: FrameType.RESET_OK, isRequest: false });
    else if (rec.type === 'request') steps.push({ frame: encodeMmRequest(rec.bytes, bufferSize), expect: FrameType.MM_REPLY, isRequest: true });
  }
  if (!steps.some((s) => s.isRequest)) throw new LoadError(`trace ${trace.name} has no MM request`);
  return steps;
}

interface RunHooks {
  /** An MM request's answer arrived (and was checked) at `now` (performance.now() ms). */
  done(d: Driver, now: number): void;
  fail(e: Error): void;
}

/** One VM connection replaying its trace in order, looping. */
class Driver {
  private readonly decoder = new FrameDecoder();
  private pos: number;
  /** The frame type the step in flight must be answered with; 0 when idle. */
  private expect = 0;
  private closing = false;
  /** Latency origin of the MM request in flight (ms, performance.now() clock). */
  origin = 0;
  /** Scheduled times of requests due while this one was in flight (open loop), FIFO. */
  readonly backlog: number[] = [];
  backlogHead = 0;

  /** `start`: the trace step this connection begins at (connections sharing a trace start spread over it). */
  constructor(readonly vmId: string, conn: Conn, private readonly steps: readonly Step[], start: number, private readonly hooks: RunHooks) {
    const socket = conn.socket;
    this.socket = socket;
    this.pos = start;
    conn.onChunk = (c) => this.onData(c);
    socket.on('error', (e) => this.abort(`socket error: ${e.message}`));
    socket.on('close', () => this.abort('connection closed by the daemon'));
  }

  private readonly socket: Socket;

  get busy(): boolean { return this.expect !== 0; }

  /** Send the trace's next MM request (after any RESET in front of it); its latency counts from `origin`. */
  begin(origin: number): void {
    this.origin = origin;
    this.send();
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private send(): void {
    const s = this.steps[this.pos]!;
    this.expect = s.expect;
    this.socket.write(s.frame);
  }

  private abort(what: string): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.destroy();
    this.hooks.fail(new LoadError(`${this.vmId}, trace step ${this.pos}: ${what}`));
  }

  private onData(chunk: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.abort((e as Error).message);
      return;
    }
    for (const f of frames) if (!this.onFrame(f)) return;
  }

  private onFrame(f: Frame): boolean {
    if (this.closing) return false;
    if (f.type !== this.expect) {
      let what = `${frameTypeName(f.type)} where ${this.expect === 0 ? 'no answer' : frameTypeName(this.expect)} was expected`;
      if (f.type === FrameType.ERROR) {
        try {
          const e = decodeError(f.payload);
          what = `daemon answered ERROR ${errorCodeName(e.code)}${e.fatal ? ' (fatal)' : ''}: ${e.message} (expected ${frameTypeName(this.expect)})`;
        } catch { /* keep the generic text */ }
      }
      this.abort(what);
      return false;
    }
    const step = this.steps[this.pos]!;
    try {
      if (step.isRequest) decodeMmReply(f.payload); else expectEmpty(f);
    } catch (e) {
      this.abort((e as Error).message);
      return false;
    }
    this.pos = this.pos + 1 === this.steps.length ? 0 : this.pos + 1;
    if (!step.isRequest) { this.send(); return true; }
    this.expect = 0;
    this.hooks.done(this, performance.now());
    return true;
  }
}

/** A connected socket and where its bytes go (the HELLO check first, then its Driver). */
interface Conn { socket: Socket; onChunk: (chunk: Uint8Array) => void }

/** Connect and say HELLO (promises here are setup only, not per request). */
function connectOne(path: string, vmId: string): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const conn: Conn = {
      // Reads land in one shared buffer, as in the daemon: no ArrayBuffer per read for the bench's
      // own collector to sweep, which would show as latency.
      socket: createConnection({ path, onread: sharedRead((c) => conn.onChunk(c)) }),
      onChunk: (c) => onData(c),
    };
    const s = conn.socket;
    const dec = new FrameDecoder();
    const fail = (e: Error): void => { s.destroy(); reject(new LoadError(`${vmId}: ${e.message}`)); };
    const onData = (c: Uint8Array): void => {
      try {
        const frames = dec.push(c);
        if (frames.length === 0) return;
        const f = frames[0]!;
        if (frames.length > 1 || dec.pendingBytes > 0) throw new Error('more than HELLO_OK after HELLO');
        if (f.type === FrameType.ERROR) { const e = decodeError(f.payload); throw new Error(`HELLO answered ERROR ${errorCodeName(e.code)}: ${e.message}`); }
        if (f.type !== FrameType.HELLO_OK) throw new Error(`HELLO answered ${frameTypeName(f.type)}`);
        const ok = decodeHelloOk(f.payload);
        if (ok.version !== 1) throw new Error(`daemon speaks protocol ${ok.version}`);
        conn.onChunk = () => undefined;
        s.off('error', fail); s.off('close', onClose);
        resolve(conn);
      } catch (e) {
        fail(e as Error);
      }
    };
    const onClose = (): void => fail(new Error('closed before HELLO_OK'));
    s.once('error', fail);
    s.once('close', onClose);
    s.once('connect', () => s.write(encodeHello(vmId)));
  });
}

/** Latency samples (µs), grown as needed. */
class Samples {
  private a = new Float64Array(1 << 16);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Float64Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  sorted(): Float64Array { return this.a.slice(0, this.n).sort(); }
}

/** CPU (user + system) this process has used, µs. */
function selfCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

interface Common {
  socket: string;
  /** One compiled trace per connection (connection i replays steps[i % steps.length]). */
  steps: readonly (readonly Step[])[];
  conns: number;
  vmPrefix: string;
  warmupMs: number;
  durationMs: number;
  /** CPU seconds the daemon has used so far (sampled at the window's edges). */
  daemonCpu: () => number;
}

interface Window { requests: number; seconds: number; clientCpuUs: number; daemonCpuS: number }

/** The measurement window's edges: wall time, this process's CPU, the daemon's CPU. */
class Meter {
  private t = 0; private cpu = 0; private dcpu = 0;
  requests = 0;
  on = false;
  result: Window | undefined;
  constructor(private readonly daemonCpu: () => number) {}
  start(now: number): void { this.on = true; this.t = now; this.cpu = selfCpuUs(); this.dcpu = this.daemonCpu(); }
  stop(now: number): void {
    this.on = false;
    this.result = { requests: this.requests, seconds: (now - this.t) / 1000, clientCpuUs: selfCpuUs() - this.cpu, daemonCpuS: this.daemonCpu() - this.dcpu };
  }
}

/** Connect every driver, run `body` until it calls finish(), tear down; any failure rejects. */
async function withDrivers(o: Common, hooks: Omit<RunHooks, 'fail'>, body: (drivers: Driver[], finish: () => void, fail: (e: Error) => void) => void): Promise<void> {
  const sockets: Conn[] = [];
  try {
    for (let i = 0; i < o.conns; i += 50) {
      sockets.push(...await Promise.all(Array.from({ length: Math.min(50, o.conns - i) }, (_, k) => connectOne(o.socket, `${o.vmPrefix}-${i + k}`))));
    }
  } catch (e) {
    for (const c of sockets) c.socket.destroy();
    throw e;
  }
  const drivers: Driver[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let over = false;
      const fail = (e: Error): void => { if (!over) { over = true; reject(e); } };
      const finish = (): void => { if (!over) { over = true; resolve(); } };
      const h: RunHooks = { done: (d, now) => { if (!over) hooks.done(d, now); }, fail };
      // Connection i replays trace i mod T. Those sharing a trace start evenly spread over it: VMs
      // do not boot in lockstep, and 100 of them hitting the same expensive step at once would be
      // a burst no fleet sends.
      const traces = o.steps.length;
      sockets.forEach((c, i) => {
        const steps = o.steps[i % traces]!;
        const peers = Math.ceil((o.conns - (i % traces)) / traces);
        drivers.push(new Driver(`${o.vmPrefix}-${i}`, c, steps, Math.floor((steps.length * Math.floor(i / traces)) / peers), h));
      });
      body(drivers, finish, fail);
    });
  } finally {
    for (const d of drivers) d.close();
  }
}

export interface ClosedLoopResult extends Window {
  /** Round trips (µs) of the MM requests answered inside the window, sorted. */
  latencyUs: Float64Array;
}

/** Every connection keeps one request in flight; the window opens after `warmupMs`. */
export async function closedLoop(o: Common): Promise<ClosedLoopResult> {
  const m = new Meter(o.daemonCpu);
  const lat = new Samples();
  let stopping = false;
  let inFlight = 0;
  let finishRun = (): void => undefined;
  await withDrivers(o, {
    done(d, now) {
      if (m.on) { lat.push((now - d.origin) * 1000); m.requests++; }
      if (!stopping) { d.begin(now); return; }
      if (--inFlight === 0) finishRun();
    },
  }, (drivers, finish, fail) => {
    finishRun = finish;
    const t0 = performance.now();
    for (const d of drivers) d.begin(t0);
    inFlight = drivers.length;
    setTimeout(() => {
      m.start(performance.now());
      setTimeout(() => { m.stop(performance.now()); stopping = true; }, o.durationMs);
    }, o.warmupMs);
    setTimeout(() => fail(new LoadError('closed loop: no end 30 s after the window')), o.warmupMs + o.durationMs + 30_000).unref();
  });
  return { ...m.result!, latencyUs: lat.sorted() };
}

export interface OpenLoopResult extends Window {
  /** Offered rate, MM requests/s over all connections. */
  rate: number;
  /** MM requests scheduled inside the window (their latencies are below, all answered). */
  scheduled: number;
  /** Latency (µs) from scheduled send time to answer, requests scheduled inside the window, sorted. */
  latencyUs: Float64Array;
  /** Requests of the window that went out late because the previous answer on their connection had not arrived. */
  late: number;
  /** Pacing lag (µs): actual − scheduled send time, for requests whose connection was free, sorted. */
  lagUs: Float64Array;
  /** Scheduler wake-ups during the window, and those that found nothing due. */
  wakeups: number;
  idleWakeups: number;
}

/**
 * The pacing loop: setImmediate while the next slot is near (Node timers are
 * ~1 ms), a timer otherwise. Returns `poll`, which sends whatever is due
 * without waiting for the loop's next turn: called after each answer, so a
 * burst of answers handled in one I/O phase does not hold the schedule back.
 */
function pace(t0: number, rate: number, slots: number, onSlot: (j: number, t: number, now: number) => void, onTick: (now: number, sent: boolean) => void, onEnd: () => void): () => void {
  const step = 1000 / rate;
  let j = 0;
  const dispatch = (now: number): boolean => {
    const j0 = j;
    for (let t = t0 + j * step; j < slots && t <= now; t = t0 + ++j * step) onSlot(j, t, now);
    return j !== j0;
  };
  const tick = (): void => {
    const now = performance.now();
    onTick(now, dispatch(now));
    if (j >= slots) { onEnd(); return; }
    const wait = t0 + j * step - now;
    if (wait > 2) setTimeout(tick, wait - 1.5); else setImmediate(tick);
  };
  tick();
  return () => { if (j < slots) dispatch(performance.now()); };
}

/**
 * The pacing loop alone, with nothing to send, for `ms`: the CPU it burns
 * (fraction of one core) and its wake-ups per second.
 */
export function pacingCost(rate: number, ms: number): Promise<{ cpuShare: number; wakeupsPerSec: number }> {
  return new Promise((resolve) => {
    let wakeups = 0;
    const c0 = selfCpuUs();
    const t0 = performance.now();
    pace(t0, rate, Math.ceil((rate * ms) / 1000), () => undefined, () => { wakeups++; }, () => {
      const s = (performance.now() - t0) / 1000;
      resolve({ cpuShare: (selfCpuUs() - c0) / 1e6 / s, wakeupsPerSec: wakeups / s });
    });
  });
}

/**
 * Open loop at `rate` MM requests/s in total: connection i owns slots
 * t0 + (i + k·conns)/rate, so each runs at rate/conns with phases evenly
 * staggered. The window holds the slots scheduled after the warm-up; the run
 * ends when every scheduled request has been answered.
 */
export async function openLoop(o: Common & { rate: number }): Promise<OpenLoopResult> {
  const m = new Meter(o.daemonCpu);
  const lat = new Samples();
  const lag = new Samples();
  const slots = Math.round((o.rate * (o.warmupMs + o.durationMs)) / 1000);
  let ws = 0, we = 0;
  let scheduled = 0, answered = 0, late = 0, windowScheduled = 0, wakeups = 0, idleWakeups = 0;
  let schedDone = false;
  let finishRun = (): void => undefined;
  let poll = (): void => undefined;
  const inWindow = (t: number): boolean => t >= ws && t < we;
  await withDrivers(o, {
    done(d, now) {
      answered++;
      if (m.on) m.requests++;
      if (inWindow(d.origin)) lat.push((now - d.origin) * 1000);
      if (d.backlogHead < d.backlog.length) {
        const t = d.backlog[d.backlogHead++]!;
        if (d.backlogHead === d.backlog.length) { d.backlog.length = 0; d.backlogHead = 0; }
        d.begin(t);
      } else if (schedDone && answered === scheduled) {
        finishRun();
        return;
      }
      poll();
    },
  }, (drivers, finish, fail) => {
    finishRun = finish;
    const t0 = performance.now() + 5;
    ws = t0 + o.warmupMs;
    we = ws + o.durationMs;
    const n = drivers.length;
    poll = pace(t0, o.rate, slots, (j, t, now) => {
      const d = drivers[j % n]!;
      scheduled++;
      const w = inWindow(t);
      if (w) windowScheduled++;
      if (d.busy) { d.backlog.push(t); if (w) late++; return; }
      if (w) lag.push((now - t) * 1000);
      d.begin(t);
    }, (now, sent) => {
      if (!m.on && now >= ws && !m.result) m.start(now);
      else if (m.on && now >= we) m.stop(now);
      if (m.on) { wakeups++; if (!sent) idleWakeups++; }
    }, () => {
      schedDone = true;
      if (m.on) m.stop(performance.now());
      if (answered === scheduled) finish();
    });
    setTimeout(() => fail(new LoadError(`open loop: ${scheduled - answered} requests unanswered 30 s after the schedule`)), o.warmupMs + o.durationMs + 30_000).unref();
  });
  return { ...m.result!, rate: o.rate, scheduled: windowScheduled, latencyUs: lat.sorted(), late, lagUs: lag.sorted(), wakeups, idleWakeups };
}
