import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { MmHandler, MmResult } from '../../service/mm-handler.js';
import type { AccessSize } from '../../device/registers.js';
import {
  FrameDecoder, FrameError, FrameType, ErrorCode, PROTOCOL_VERSION, MAX_MM_BUFFER, frameTypeName,
  decodeHello, decodeMmRequest, decodeMmioRead, decodeMmioWrite, expectEmpty,
  encodeHelloOk, encodeMmReply, encodeMmioReadOk, encodeFrame, encodeMemRead, encodeMemWrite, encodeError,
  type Frame, type ErrorCodeValue,
} from '../protocol/frames.js';
import type { VmRegistry, VmEntry } from './registry.js';
import { mmCommandOf, type RawDevices, type RemoteGuestMemory } from './raw-device.js';
import type { DaemonMetrics } from '../metrics/metrics.js';
import { delay, DEFAULT_MAX_IN_FLIGHT, type WorkTracker } from './limits.js';

export interface ConnectionLimits {
  /** MM operations admitted per VM at once; one more is answered ERROR BUSY. */
  maxInFlightPerVm: number;
  /** A connection that has not said HELLO by then is closed. */
  helloTimeoutMs: number;
  /** How long the VMM may take to answer MEM_READ / MEM_WRITE. */
  memoryTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxInFlightPerVm: DEFAULT_MAX_IN_FLIGHT, helloTimeoutMs: 10_000, memoryTimeoutMs: 5_000,
});

const replyFrame = (r: MmResult): Uint8Array => encodeMmReply(r.deviceStatus, r.reply, r.reason);

/** What every connection shares with the daemon. */
export interface ConnectionEnv {
  registry: VmRegistry;
  raw: RawDevices;
  metrics: DaemonMetrics;
  logger: Logger;
  work: WorkTracker;
  limits: ConnectionLimits;
  /** The VM's service as the MM_REQUEST path calls it (observed for metrics). */
  handlerFor(vm: VmEntry): MmHandler;
  isStopping(): boolean;
}

/**
 * 'hello': nothing but HELLO is accepted. 'binding': the VM's store is being
 * loaded. 'ready': one request may start. 'busy': a request is running; the
 * only frames the peer may send are answers to our MEM_READ / MEM_WRITE.
 * 'closing': we are done reading.
 */
type State = 'hello' | 'binding' | 'ready' | 'busy' | 'closing';

type PendingMemory =
  | { kind: 'read'; length: number; resolve: (b: Uint8Array) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  | { kind: 'write'; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

class ConnectionGone extends Error {
  override readonly name = 'ConnectionGone';
}

/**
 * One VMM connection. Strict request/response: at most one request in flight,
 * so a peer can make us hold at most one frame, and a peer that breaks the
 * protocol loses its own connection and nothing else.
 */
export class Connection {
  private state: State = 'hello';
  private vm: VmEntry | undefined;
  private handler: MmHandler | undefined;
  private readonly decoder = new FrameDecoder();
  private pending: PendingMemory | undefined;
  private reason: string | undefined;
  private closeAfterRequest = false;
  private helloTimer: NodeJS.Timeout | undefined;
  private readonly opened = performance.now();
  private requests = 0;
  private log: Logger;

  constructor(readonly id: number, private readonly socket: Socket, private readonly env: ConnectionEnv) {
    this.log = env.logger.child({ conn: id });
    this.helloTimer = setTimeout(() => this.fail(ErrorCode.TIMEOUT, 'hello-timeout', 'no HELLO in time'), env.limits.helloTimeoutMs);
    socket.on('error', (e: NodeJS.ErrnoException) => { this.reason ??= 'socket-error'; this.log.debug({ code: e.code }, 'socket error'); });
    socket.on('close', () => this.onClose());
  }

  private get closing(): boolean { return this.state === 'closing'; }

  /** The id of the VM this connection is bound to, once bound. */
  get vmId(): string | undefined { return this.vm?.id; }

  /** Daemon stopping: close now if idle, else right after the request in hand is answered. */
  shutdown(): void {
    if (this.state === 'busy' || this.state === 'binding') this.closeAfterRequest = true;
    else if (this.state !== 'closing') this.fail(ErrorCode.SHUTTING_DOWN, 'shutdown', 'daemon stopping', 'info');
  }

  /** Bytes from the peer; `chunk` is valid only during this call (the read buffer is shared). */
  onData(chunk: Uint8Array): void {
    if (this.state === 'closing') return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      const fault = e instanceof FrameError ? e.fault : 'malformed-frame';
      this.fail(fault === 'frame-too-large' ? ErrorCode.FRAME_TOO_LARGE : ErrorCode.MALFORMED_FRAME, fault, (e as Error).message);
      return;
    }
    for (const f of frames) {
      if (this.closing) return; // an earlier frame in this chunk ended the connection
      try {
        this.dispatch(f);
      } catch (e) {
        if (e instanceof FrameError) { this.fail(ErrorCode.MALFORMED_FRAME, e.fault, e.message); continue; }
        // A bug must cost this connection only, never the daemon and its other VMs.
        this.log.error({ err: (e as Error).message, stack: (e as Error).stack }, 'frame handling failed');
        this.fail(ErrorCode.INTERNAL, 'internal-error', 'internal error');
      }
    }
  }

  private dispatch(f: Frame): void {
    switch (this.state) {
      case 'hello':
        if (f.type !== FrameType.HELLO) { this.fail(ErrorCode.HELLO_REQUIRED, 'hello-required', `${frameTypeName(f.type)} before HELLO`); return; }
        this.onHello(f.payload);
        return;
      case 'binding':
        this.unexpected(f, 'before HELLO_OK');
        return;
      case 'ready':
        switch (f.type) {
          case FrameType.MM_REQUEST: this.onMmRequest(f.payload); return;
          case FrameType.RESET: expectEmpty(f); this.onReset(); return;
          case FrameType.MMIO_READ: this.onMmioRead(f.payload); return;
          case FrameType.MMIO_WRITE: this.onMmioWrite(f.payload); return;
          default: this.unexpected(f, 'with no request in flight'); return;
        }
      case 'busy':
        this.onMemoryAnswer(f);
        return;
      case 'closing':
        return;
    }
  }

  private onHello(payload: Uint8Array): void {
    clearTimeout(this.helloTimer);
    const h = decodeHello(payload);
    if (h.version !== PROTOCOL_VERSION) { this.fail(ErrorCode.UNSUPPORTED_VERSION, 'unsupported-version', `protocol version ${h.version}; this daemon speaks ${PROTOCOL_VERSION}`); return; }
    if (h.flags !== 0) { this.fail(ErrorCode.MALFORMED_FRAME, 'malformed-frame', `HELLO flags 0x${h.flags.toString(16)} (reserved, must be 0)`); return; }
    if (this.env.registry.resolveId(h.vmId) === undefined) { this.fail(ErrorCode.BAD_VM_ID, 'bad-vm-id', `VM id ${JSON.stringify(h.vmId)} is not acceptable`); return; }
    if (this.env.isStopping()) { this.fail(ErrorCode.SHUTTING_DOWN, 'shutdown', 'daemon stopping', 'info'); return; }
    this.state = 'binding';
    this.env.registry.forgetIdle(h.vmId);
    const bind = this.env.registry.get(h.vmId, true).then((vm) => {
      if (this.state === 'closing') return;
      this.vm = vm;
      this.handler = this.env.handlerFor(vm);
      vm.connections++;
      this.log = this.log.child({ vm: vm.id });
      this.log.info({ requestedId: h.vmId, version: h.version }, 'hello');
      this.state = 'ready';
      this.send(encodeHelloOk());
      if (this.closeAfterRequest) this.fail(ErrorCode.SHUTTING_DOWN, 'shutdown', 'daemon stopping', 'info');
    }, (e: Error) => {
      this.log.error({ vm: h.vmId, err: e.message }, 'cannot load the VM store');
      this.fail(ErrorCode.STORE_UNAVAILABLE, 'store-unavailable', e.message);
    });
    void this.env.work.track(bind);
  }

  private onMmRequest(payload: Uint8Array): void {
    const { bufferSize, request } = decodeMmRequest(payload);
    // The BUFFER_SIZE register cannot exceed 64 KiB (QEMU clamps it, spec §1.5); a bigger claim means the same.
    const size = Math.min(bufferSize, MAX_MM_BUFFER);
    const handler = this.handler!;
    this.run(true, () => {
      const r = handler.processNow ? handler.processNow(request, size) : handler.process(request, size);
      return r instanceof Promise ? r.then(replyFrame) : replyFrame(r);
    });
  }

  private onReset(): void {
    const vm = this.vm!;
    this.run(true, async () => {
      await this.env.raw.reset(vm);
      this.env.metrics.resets.inc();
      this.log.info('device reset');
      return encodeFrame(FrameType.RESET_OK);
    });
  }

  private onMmioRead(payload: Uint8Array): void {
    const { offset, size } = decodeMmioRead(payload);
    const vm = this.vm!;
    this.run(false, async () => encodeMmioReadOk(await this.env.raw.mmioRead(vm, offset, size as AccessSize)));
  }

  private onMmioWrite(payload: Uint8Array): void {
    const { offset, size, value } = decodeMmioWrite(payload);
    const vm = this.vm!;
    // Only the commands that run a request count against the VM's limits; the PIO
    // transfer that precedes one is thousands of cheap register writes.
    this.run(mmCommandOf(offset, size, value) !== undefined, async () => {
      await this.env.raw.mmioWrite(vm, this.memory, offset, size as AccessSize, value);
      return encodeFrame(FrameType.MMIO_WRITE_OK);
    });
  }

  /**
   * Run one request; answer with its frame unless the peer went away meanwhile.
   * A request that finishes synchronously (most do) is answered without a
   * single promise; one that waits (rate limit, durable write, crypto, guest
   * memory over the socket) is tracked so that shutdown waits for it.
   */
  private run(admit: boolean, op: () => Uint8Array | Promise<Uint8Array>): void {
    const vm = this.vm!;
    if (admit && vm.inFlight >= this.env.limits.maxInFlightPerVm) {
      this.env.metrics.busy.inc();
      this.log.warn({ inFlight: vm.inFlight }, 'request refused: VM in-flight limit');
      this.send(encodeError(ErrorCode.BUSY, false, `VM ${vm.id} has ${vm.inFlight} requests in flight; retry`));
      return;
    }
    this.state = 'busy';
    this.requests++;
    if (admit) vm.inFlight++;
    const wait = admit ? vm.bucket.reserve() : 0;
    let result: Uint8Array | Promise<Uint8Array>;
    if (wait > 0) {
      this.env.metrics.throttled.inc();
      result = delay(wait).then(op);
    } else {
      try { result = op(); } catch (e) { result = Promise.reject(e); }
    }
    if (admit) {
      const release = (): void => { vm.inFlight--; };
      if (result instanceof Promise) result.then(release, release); else release();
    }
    if (!(result instanceof Promise)) { this.answer(result); return; }
    void this.env.work.track(result.then((frame) => this.answer(frame), (e: Error) => {
      if (e instanceof ConnectionGone || this.state === 'closing') { this.log.debug({ err: e.message }, 'request abandoned: connection closed'); return; }
      this.log.error({ err: e.message, stack: e.stack }, 'request failed');
      this.fail(ErrorCode.INTERNAL, 'internal-error', 'internal error');
    }));
  }

  private answer(frame: Uint8Array): void {
    if (this.state === 'closing') return;
    this.state = 'ready';
    this.send(frame);
    if (this.closeAfterRequest) this.fail(ErrorCode.SHUTTING_DOWN, 'shutdown', 'daemon stopping', 'info');
  }

  /**
   * Write a frame; if the peer is not reading, stop reading its requests until
   * it has drained what we sent. Each request has one answer, so this bounds
   * what a peer that never reads can make us buffer.
   */
  private send(frame: Uint8Array): void {
    if (!this.socket.write(frame) && !this.socket.isPaused()) {
      this.socket.pause();
      this.socket.once('drain', () => { if (!this.closing) this.socket.resume(); });
    }
  }

  // --- guest memory over the socket (raw register mode) ---

  private readonly memory: RemoteGuestMemory = {
    read: (addr, length) => new Promise<Uint8Array>((resolve, reject) => {
      if (!this.expectMemoryAnswer(reject)) return;
      this.pending = { kind: 'read', length, resolve, reject, timer: this.memoryTimer() };
      this.send(encodeMemRead(addr, length));
    }),
    write: (addr, bytes) => new Promise<void>((resolve, reject) => {
      if (!this.expectMemoryAnswer(reject)) return;
      this.pending = { kind: 'write', resolve, reject, timer: this.memoryTimer() };
      this.send(encodeMemWrite(addr, bytes));
    }),
  };

  private expectMemoryAnswer(reject: (e: Error) => void): boolean {
    if (this.state === 'closing') { reject(new ConnectionGone('connection closed')); return false; }
    return true;
  }

  private memoryTimer(): NodeJS.Timeout {
    return setTimeout(() => this.fail(ErrorCode.TIMEOUT, 'memory-timeout', 'no answer to a guest memory access in time'), this.env.limits.memoryTimeoutMs);
  }

  private onMemoryAnswer(f: Frame): void {
    const p = this.pending;
    const ok = p !== undefined && (
      (p.kind === 'read' && (f.type === FrameType.MEM_DATA || f.type === FrameType.MEM_ERROR)) ||
      (p.kind === 'write' && (f.type === FrameType.MEM_WRITE_OK || f.type === FrameType.MEM_ERROR)));
    if (!ok) { this.unexpected(f, 'while a request is in flight'); return; }
    if (f.type === FrameType.MEM_DATA && p.kind === 'read' && f.payload.length !== p.length) {
      this.fail(ErrorCode.MALFORMED_FRAME, 'malformed-frame', `MEM_DATA of ${f.payload.length} bytes for a ${p.length}-byte MEM_READ`);
      return;
    }
    if (f.type !== FrameType.MEM_DATA) expectEmpty(f);
    clearTimeout(p.timer);
    this.pending = undefined;
    // MEM_ERROR: QEMU ignores DMA errors (spec §1.5 step 4): the read sees zeros, the write is lost.
    if (p.kind === 'read') p.resolve(f.type === FrameType.MEM_DATA ? f.payload.slice() : new Uint8Array(p.length));
    else p.resolve();
  }

  // --- ending ---

  private unexpected(f: Frame, when: string): void {
    this.fail(ErrorCode.UNEXPECTED_FRAME, 'unexpected-frame', `${frameTypeName(f.type)} ${when}`);
  }

  /** Say why in an ERROR frame, stop reading, and close. Only the first reason counts. */
  private fail(code: ErrorCodeValue, reason: string, detail: string, level: 'warn' | 'info' = 'warn'): void {
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.reason = reason;
    clearTimeout(this.helloTimer);
    this.log[level]({ reason, detail }, 'closing connection');
    this.socket.end(encodeError(code, true, detail));
    // A peer that neither reads nor closes does not get to keep the socket.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.abandonMemory();
  }

  private abandonMemory(): void {
    const p = this.pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.reject(new ConnectionGone('connection closed'));
  }

  private onClose(): void {
    if (this.state !== 'closing') { this.state = 'closing'; this.reason ??= 'peer-closed'; }
    clearTimeout(this.helloTimer);
    this.abandonMemory();
    if (this.vm) this.vm.connections--;
    const reason = this.reason ?? 'peer-closed';
    this.env.metrics.connections.dec();
    this.env.metrics.connectionsClosed.inc({ reason });
    this.log.info({ reason, requests: this.requests, ms: Math.round(performance.now() - this.opened) }, 'connection closed');
  }
}
