/**
 * Daemon test helpers: real sockets in private temp directories, real stores,
 * a raw frame socket for speaking (or abusing) the protocol byte by byte, and
 * the real CLI as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Daemon, type DaemonConfig } from '../../src/daemon/server/server.js';
import { createLogger } from '../../src/daemon/server/logging.js';
import { FrameDecoder, type Frame } from '../../src/daemon/protocol/frames.js';
import { setVariableRequest, getVariableRequest, replyStatus, replyData } from '../../src/client/requests.js';
import type { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';

export const CLI = resolve(process.cwd(), 'dist/src/cli/main.js');
export const SHARED = resolve(process.cwd(), '../shared');
export const TRACES = resolve(SHARED, 'traces/qemu-conformance');
export const TEST_GUID = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
export const NV_BS_RT = 0x7;
export const EFI_SUCCESS = 0n;
export const EFI_NOT_FOUND = 0x800000000000000en;

export function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'uefi-vars-daemon-test-'));
  // After-hooks run in the order they were added, and a failing one skips the rest: a daemon a
  // test spawned after this may still be writing here, and its kill hook must still run.
  t.after(() => { try { rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }); } catch { /* a leftover temp dir */ } });
  return d;
}

/** Log lines captured from a real pino logger, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  }
  find(pred: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(pred);
  }
  /** Wait until a matching line shows up (log writes can trail the socket events a test sees). */
  async waitFor(pred: (l: Record<string, unknown>) => boolean, ms = 2000): Promise<Record<string, unknown>> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no matching log line in ${ms} ms`);
      await sleep(5);
    }
  }
}

export interface TestDaemon {
  daemon: Daemon;
  dir: string;
  socket: string;
  api: string;
  logs: LogCapture;
}

/**
 * An in-process daemon over --state-dir in a temp dir. One after-hook stops it
 * and only then removes the directory: a write still in flight must not race
 * the removal.
 */
export async function startDaemon(t: { after(fn: () => Promise<void> | void): void }, over: Partial<DaemonConfig> = {}): Promise<TestDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-daemon-test-'));
  const logs = new LogCapture();
  const socket = join(dir, 'data.sock');
  const api = join(dir, 'api.sock');
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({
      layout: { kind: 'dir', dir: join(dir, 'vms') },
      socketPath: socket, apiSocketPath: api,
      logger: createLogger('debug', logs),
      ...over,
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  t.after(async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { daemon, dir, socket, api, logs };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A socket that speaks frames by hand: for malformed, oversized and cut-off traffic. */
export class FrameSocket {
  private readonly decoder = new FrameDecoder();
  private readonly frames: Frame[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => { this.frames.push(...this.decoder.push(c)); this.wake?.(); });
    socket.on('close', () => { this.closed = true; this.wake?.(); });
    socket.on('error', () => undefined);
  }

  static connect(path: string): Promise<FrameSocket> {
    return new Promise((res, rej) => {
      const s = createConnection(path);
      s.once('connect', () => res(new FrameSocket(s)));
      s.once('error', rej);
    });
  }

  send(bytes: Uint8Array): void { this.socket.write(bytes); }

  /** The next frame, or undefined once the daemon has closed the connection. */
  async next(ms = 5000): Promise<Frame | undefined> {
    const end = Date.now() + ms;
    while (this.frames.length === 0 && !this.closed) {
      if (Date.now() > end) throw new Error(`no frame within ${ms} ms`);
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 50); });
    }
    return this.frames.shift();
  }

  /** Resolves once the daemon closed the connection. */
  async waitClosed(ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > end) throw new Error(`connection still open after ${ms} ms`);
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 50); });
    }
  }

  destroy(): void { this.socket.destroy(); }
}

/** SetVariable through a client; the EFI status the guest would see. */
export async function setVar(c: DaemonClient, name: string, data: Uint8Array, attributes = NV_BS_RT, guid = TEST_GUID): Promise<bigint> {
  const r = await c.process(setVariableRequest({ name, guid, attributes, data }), 65536);
  return replyStatus(r.reply!);
}

/** GetVariable through a client: status, and the data when found. */
export async function getVar(c: DaemonClient, name: string, guid = TEST_GUID): Promise<{ status: bigint; data?: Uint8Array }> {
  const r = await c.process(getVariableRequest({ name, guid, dataSize: 4096 }), 65536);
  const status = replyStatus(r.reply!);
  return status === EFI_SUCCESS ? { status, data: replyData(r.reply!).data } : { status };
}

export interface HttpAnswer { status: number; headers: Record<string, string | string[] | undefined>; body: string; json: unknown }

/** One HTTP request to the management API, over its Unix socket or loopback TCP. */
export function http(target: { socketPath: string } | { port: number }, method: string, path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((res, rej) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpRequest({
      ...('socketPath' in target ? { socketPath: target.socketPath } : { host: '127.0.0.1', port: target.port }),
      method, path,
      headers: { ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}), ...opts.headers },
    }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        res({ status: r.statusCode ?? 0, headers: r.headers, body: text, json });
      });
    });
    req.on('error', rej);
    req.setTimeout(10_000, () => req.destroy(new Error('http timeout')));
    if (body) req.write(body);
    req.end();
  });
}

/** The real CLI's `serve` in a child process. stderr is collected (and drained, so logging never blocks). */
export interface ServeProcess {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnServe(args: string[], opts: { env?: NodeJS.ProcessEnv; shell?: string; fds?: number[] } = {}): ServeProcess {
  // Extra fds land at 3, 4, … in the child, as systemd passes activated sockets.
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe', ...(opts.fds ?? [])];
  const env = opts.env ?? process.env;
  const child = opts.shell
    ? spawn('/bin/sh', ['-c', opts.shell], { stdio, env })
    : spawn(process.execPath, [CLI, 'serve', ...args], { stdio, env });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString('utf8'); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stderr: () => err, exited };
}

/** Wait until something accepts connections on a Unix socket path (a stale file does not count). */
export async function waitListening(path: string, ms = 10_000, exited?: Promise<unknown>): Promise<void> {
  const end = Date.now() + ms;
  let gone = false;
  void exited?.then(() => { gone = true; });
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection(path);
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (gone) throw new Error('daemon exited before listening');
    if (Date.now() > end) throw new Error(`nothing listening on ${path} after ${ms} ms`);
    await sleep(5);
  }
}
