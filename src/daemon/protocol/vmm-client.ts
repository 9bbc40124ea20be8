import { createConnection, type Socket } from 'node:net';
import { isMmReason, reasonDeviation, type MmReason } from '../../service/reasons.js';
import type { MmResult } from '../../service/mm-handler.js';
import type { ReplayTarget } from '../../replay/replay.js';
import type { GuestMemory } from '../../device/guest-memory.js';
import {
  FrameDecoder, FrameType, frameTypeName, errorCodeName,
  encodeHello, encodeMmRequest, encodeFrame, encodeMmioRead, encodeMmioWrite,
  decodeHelloOk, decodeMmReply, decodeMmioReadOk, decodeMemRead, decodeMemWrite, decodeError, expectEmpty,
  type Frame,
} from './frames.js';
import { sharedRead } from './read-buffer.js';

/** The daemon answered ERROR, or the connection failed. `code` is an ErrorCode, or 0 for transport failures. */
export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  constructor(readonly code: number, readonly fatal: boolean, message: string) {
    super(message);
  }
}

export interface DaemonClientOptions {
  /**
   * Guest RAM for the register mode: the daemon's DMA reads and writes land
   * here. Without it, MEM_READ / MEM_WRITE are answered MEM_ERROR.
   */
  memory?: GuestMemory;
  /** Give up on any single answer after this long (default 30 s). */
  timeoutMs?: number;
}

interface Waiter {
  expect: number;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  deadline: number;
}

/**
 * A VMM's side of the daemon protocol (docs/protocol.md): one connection, one
 * VM. Calls may be made concurrently; they go out one at a time, as the
 * protocol requires. Implements ReplayTarget, so `replayTrace` can drive a
 * running daemon.
 */
export class DaemonClient implements ReplayTarget {
  private readonly decoder = new FrameDecoder();
  private waiter: Waiter | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private readonly closed: Promise<void>;
  /** Calls queued behind the one in flight (0 = the next call goes out at once). */
  private queued = 0;
  /** One re-armed timer per connection rather than one per call (a call costs ~1 µs less). */
  private readonly watchdog: NodeJS.Timeout;

  private constructor(private readonly socket: Socket, private readonly opts: DaemonClientOptions) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.watchdog = setTimeout(() => this.onWatchdog(), this.timeoutMs);
    this.watchdog.unref();
    socket.once('close', () => clearTimeout(this.watchdog));
    socket.on('error', (e) => this.fail(new DaemonError(0, true, `socket: ${e.message}`)));
    socket.on('close', () => this.fail(new DaemonError(0, true, 'connection closed by the daemon')));
  }

  /** Connect and say HELLO; resolves once the daemon has bound the connection to the VM. */
  static async connect(socketPath: string, vmId: string, opts: DaemonClientOptions = {}): Promise<DaemonClient> {
    const reader: { client?: DaemonClient } = {}; // no byte arrives before HELLO, sent once it is set
    const socket = await new Promise<Socket>((resolve, reject) => {
      // Answers are read into the shared buffer (read-buffer.ts): each is consumed, and what a
      // caller keeps copied, before the read callback returns.
      const s = createConnection({ path: socketPath, onread: sharedRead((c) => reader.client!.onData(c)) });
      s.once('connect', () => { s.off('error', reject); resolve(s); });
      s.once('error', reject);
    });
    const c = new DaemonClient(socket, opts);
    reader.client = c;
    try {
      const ok = decodeHelloOk((await c.call(encodeHello(vmId), FrameType.HELLO_OK)).payload);
      if (ok.version !== 1) throw new DaemonError(0, true, `daemon speaks protocol ${ok.version}`);
    } catch (e) {
      socket.destroy();
      throw e;
    }
    return c;
  }

  /** One MM request (MM_REQUEST → MM_REPLY). */
  async process(request: Uint8Array, bufferSize: number): Promise<MmResult> {
    const f = await this.call(encodeMmRequest(request, bufferSize), FrameType.MM_REPLY);
    const r = decodeMmReply(f.payload);
    // MM_REPLY carries the reason, not the decision: only deviations a reason always stands for come back.
    // A reason this build does not name (a newer daemon) is dropped rather than passed on untyped.
    const reason: MmReason | undefined = r.reason !== undefined && isMmReason(r.reason) ? r.reason : undefined;
    const deviation = reasonDeviation(reason);
    return { deviceStatus: r.deviceStatus, reply: r.reply?.slice(), reason, ...(deviation ? { deviation } : {}) };
  }

  /** Device hard reset (RESET → RESET_OK). */
  async reset(): Promise<void> {
    expectEmpty(await this.call(encodeFrame(FrameType.RESET), FrameType.RESET_OK));
  }

  /** A guest register read in the raw register mode. */
  async mmioRead(offset: number, size: 1 | 2 | 4 | 8): Promise<bigint> {
    return decodeMmioReadOk((await this.call(encodeMmioRead(offset, size), FrameType.MMIO_READ_OK)).payload);
  }

  /** A guest register write; for DMA_MM resolves after the daemon has read the buffer and written the reply back. */
  async mmioWrite(offset: number, size: 1 | 2 | 4 | 8, value: number | bigint): Promise<void> {
    expectEmpty(await this.call(encodeMmioWrite(offset, size, BigInt(value)), FrameType.MMIO_WRITE_OK));
  }

  async close(): Promise<void> {
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 1000);
    await this.closed;
    clearTimeout(t);
  }

  /** Send one frame and wait for its answer, after any call already queued. */
  private call(frame: Uint8Array, expect: number): Promise<Frame> {
    const send = (): Promise<Frame> => new Promise<Frame>((resolve, reject) => {
      if (this.failure) { reject(this.failure); return; }
      this.waiter = { expect, resolve, reject, deadline: performance.now() + this.timeoutMs };
      this.watchdog.refresh();
      this.socket.write(frame);
    });
    // Nothing in flight or queued: go now; otherwise wait for the calls ahead.
    const run = this.waiter === undefined && this.queued === 0 ? send() : (this.queued++, this.queue.then(() => { this.queued--; return send(); }));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private onWatchdog(): void {
    const w = this.waiter;
    if (w && performance.now() >= w.deadline) {
      this.fail(new DaemonError(0, true, `no ${frameTypeName(w.expect)} within ${this.timeoutMs} ms`));
    } else if (w) {
      this.watchdog.refresh();
    }
  }

  private get timeoutMs(): number { return this.opts.timeoutMs ?? 30_000; }

  private onData(chunk: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.fail(new DaemonError(0, true, (e as Error).message));
      this.socket.destroy();
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: Frame): void {
    try {
      if (f.type === FrameType.MEM_READ) { this.serveRead(f.payload); return; }
      if (f.type === FrameType.MEM_WRITE) { this.serveWrite(f.payload); return; }
      const w = this.waiter;
      if (f.type === FrameType.ERROR) {
        const e = decodeError(f.payload);
        const err = new DaemonError(e.code, e.fatal, `${errorCodeName(e.code)}: ${e.message}`);
        // After a fatal error the daemon closes: later calls fail with the reason, not "closed".
        if (e.fatal) this.failure ??= err;
        if (w) this.settle(() => w.reject(err)); else this.fail(err);
        return;
      }
      if (!w || f.type !== w.expect) throw new DaemonError(0, true, `unexpected ${frameTypeName(f.type)} from the daemon`);
      this.settle(() => w.resolve(f));
    } catch (e) {
      this.fail(e instanceof DaemonError ? e : new DaemonError(0, true, (e as Error).message));
      this.socket.destroy();
    }
  }

  private serveRead(payload: Uint8Array): void {
    const { addr, length } = decodeMemRead(payload);
    const m = this.opts.memory;
    if (!m) { this.socket.write(encodeFrame(FrameType.MEM_ERROR)); return; }
    const got = m.read(addr, length);
    const out = new Uint8Array(length);
    out.set(got.length > length ? got.subarray(0, length) : got);
    this.socket.write(encodeFrame(FrameType.MEM_DATA, out));
  }

  private serveWrite(payload: Uint8Array): void {
    const { addr, bytes } = decodeMemWrite(payload);
    const m = this.opts.memory;
    if (!m) { this.socket.write(encodeFrame(FrameType.MEM_ERROR)); return; }
    m.write(addr, bytes.slice());
    this.socket.write(encodeFrame(FrameType.MEM_WRITE_OK));
  }

  private settle(fn: () => void): void {
    this.waiter = undefined;
    fn();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiter;
    if (w) this.settle(() => w.reject(this.failure!));
  }
}

/** A ReplayTarget over a running daemon, for `uefi-vars replay --connect SOCKET TRACE`. */
export function connectReplayTarget(socket: string, vmId: string): Promise<ReplayTarget & { close(): Promise<void> }> {
  return DaemonClient.connect(socket, vmId);
}
