import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer, type RequestListener } from 'node:http';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ServiceOptions } from '../../service/options.js';
import type { MmHandler, MmResult } from '../../service/mm-handler.js';
import { VmRegistry, makeStateDir, type StoreLayout, type VmEntry } from './registry.js';
import { Connection, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection.js';
import { RawDevices } from './raw-device.js';
import { DaemonMetrics, functionLabel, statusLabel } from '../metrics/metrics.js';
import { createLogger } from './logging.js';
import { WorkTracker, DEFAULT_RATE_LIMIT, type RateLimit } from './limits.js';
import { listenUnix, listenFd } from './listen.js';
import { VerifyPool, defaultVerifyWorkers } from './verify-pool.js';
import { adoptWithSharedReads } from '../protocol/read-buffer.js';
import { createApiHandler } from '../api/api.js';
import { AuditSinks } from './audit-sink.js';
import { StoreLock, storeLockPath, stateDirLockPath } from '../../persist/store-lock.js';
import { OwnershipLostError, redactUrl } from '../../persist/postgres.js';

export interface DaemonConfig {
  layout: StoreLayout;
  /** Data socket path; ignored when `dataFd` is given. */
  socketPath?: string;
  /** An inherited listening socket for the data protocol (systemd socket activation). */
  dataFd?: number;
  /** Management API on a Unix socket (mode 0600). */
  apiSocketPath?: string;
  apiFd?: number;
  /** Management API on 127.0.0.1:port (0 = any free port); requires `apiToken`. */
  apiPort?: number;
  apiToken?: string;
  options?: Partial<ServiceOptions>;
  /** QEMU's `use-pio` property for register-mode devices (spec §1.1). */
  usePio?: boolean;
  rateLimit?: RateLimit;
  limits?: Partial<ConnectionLimits>;
  /** Data connections open at once; more are closed on accept. */
  maxConnections?: number;
  logger?: Logger;
  /** `--lenient-json`: JSON stores load as QEMU loads them, one warning per repaired field. */
  lenientJson?: boolean;
  /**
   * Threads for the PKCS#7 / X.509 checks of authenticated writes (verify-pool.ts),
   * so one VM's expensive write does not stall the others; 0 runs them on the event
   * loop. Default: one less than the CPUs, 1 to 4.
   */
  verifyWorkers?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 1024;

/** Management clients are few (an operator, a scraper); a flood of them must not exhaust fds. */
const MAX_API_CONNECTIONS = 64;

function apiServer(handler: RequestListener): HttpServer {
  const s = createHttpServer(handler);
  s.maxConnections = MAX_API_CONNECTIONS;
  s.headersTimeout = 10_000;
  s.requestTimeout = 30_000;
  return s;
}

/**
 * The daemon: one process, many VMs, each connection bound to one VM
 * (DESIGN.md "The daemon"). start() loads what must load before listening and
 * listens; stop() stops accepting, lets requests in flight finish (each has
 * been made durable by the store's backend before it is answered) and closes.
 */
export class Daemon {
  readonly registry: VmRegistry;
  readonly metrics: DaemonMetrics;
  readonly logger: Logger;
  /** Where audit records of Secure Boot changes go (audit-sink.ts). */
  readonly audit: AuditSinks;
  private readonly work = new WorkTracker();
  private readonly raw: RawDevices;
  private readonly connections = new Set<Connection>();
  private dataServer: NetServer | undefined;
  private readonly apiServers: HttpServer[] = [];
  private readonly ownedPaths: string[] = [];
  private storeLock: StoreLock | undefined;
  private stopping: Promise<void> | undefined;
  private nextConn = 1;
  private readonly handlers = new WeakMap<VmEntry, MmHandler>();
  private readonly verifyPool: VerifyPool | undefined;

  private constructor(private readonly config: DaemonConfig) {
    this.logger = config.logger ?? createLogger('info');
    const workers = config.verifyWorkers ?? defaultVerifyWorkers();
    this.verifyPool = workers > 0
      ? new VerifyPool(workers, (e) => this.logger.error({ err: e.message }, 'signature-check worker failed; its check ran on the event loop'))
      : undefined;
    this.registry = new VmRegistry({
      layout: config.layout,
      ...(this.verifyPool ? { verifier: this.verifyPool } : {}),
      options: config.options ?? {},
      rateLimit: config.rateLimit ?? DEFAULT_RATE_LIMIT,
      ...(config.lenientJson ? { lenientJson: (vm: string, line: string) => this.logger.warn({ vm }, line) } : {}),
      onLoad: (vm) => {
        this.audit.attach(vm);
        this.logger.info({ vm: vm.id, store: vm.storePath, variables: vm.service.variables().length }, 'VM store loaded');
      },
      onSaveError: (vm, e) => {
        const reason = e instanceof OwnershipLostError ? 'ownership-lost' : 'write-failed';
        this.metrics.storeWriteFailures.inc({ reason });
        this.logger.error({ vm, reason, err: e.message }, 'store write failed; the request was refused and undone');
      },
    });
    this.metrics = new DaemonMetrics(() => this.registry.loaded());
    this.audit = new AuditSinks({ logger: this.logger, metrics: this.metrics, layout: config.layout, database: () => this.registry.database() });
    this.raw = new RawDevices({
      usePio: config.usePio ?? false,
      handlerFor: (vm) => this.handlerFor(vm),
      onDeviceError: (vm, e) => this.logger.error({ vm: vm.id, err: (e as Error).message }, 'device model error'),
    });
  }

  /**
   * Listen, then load the single store (or create the state directory). The
   * socket is claimed first: a second daemon started by mistake on the same
   * socket fails before it has read, let alone rewritten, the store the first
   * one is serving. A hello that arrives while the store loads waits for it.
   * Throws StoreFileError / ListenError / VmError with a one-line message,
   * having closed and removed whatever it had opened.
   */
  static async start(config: DaemonConfig): Promise<Daemon> {
    const d = new Daemon(config);
    try {
      await d.claimStores();
      d.verifyPool?.warm();
      await d.listen();
      await d.registry.open();
    } catch (e) {
      await d.stop();
      throw e;
    }
    d.logger.info({
      socket: config.dataFd !== undefined ? `fd ${config.dataFd}` : config.socketPath,
      api: config.apiFd !== undefined ? `fd ${config.apiFd}` : config.apiSocketPath,
      apiPort: d.apiPort, layout: loggableLayout(config.layout),
      // docs/cli.md "serve": helper threads stall the daemon on a busy host.
      gc: process.execArgv.includes('--single-threaded-gc') ? 'single-threaded' : 'parallel (run node --single-threaded-gc)',
    }, 'listening');
    return d;
  }

  /** The loopback TCP port of the management API, once listening. */
  get apiPort(): number | undefined {
    for (const s of this.apiServers) {
      const a = s.address();
      if (a && typeof a === 'object') return a.port;
    }
    return undefined;
  }

  get isStopping(): boolean { return this.stopping !== undefined; }

  /** One daemon per store: claim the store file or the state directory before listening. */
  private async claimStores(): Promise<void> {
    const layout = this.config.layout;
    if (layout.kind === 'single') {
      this.storeLock = await StoreLock.acquire(storeLockPath(layout.path), layout.path);
    } else if (layout.kind === 'dir') {
      await makeStateDir(layout.dir);
      this.storeLock = await StoreLock.acquire(stateDirLockPath(layout.dir), layout.dir);
    }
  }

  private async listen(): Promise<void> {
    const c = this.config;
    // pauseOnConnect: nothing is read before accept() hands the handle to adoptWithSharedReads.
    const data = createNetServer({ pauseOnConnect: true }, (s) => this.accept(s));
    this.dataServer = data;
    if (c.dataFd !== undefined) {
      await listenFd(data, c.dataFd);
    } else {
      const path = c.socketPath ?? './uefi-vars.sock';
      await listenUnix(data, path);
      this.ownedPaths.push(path);
    }
    const api = { registry: this.registry, metrics: this.metrics, logger: this.logger, work: this.work, isStopping: () => this.isStopping, audit: this.audit };
    if (c.apiFd !== undefined || c.apiSocketPath !== undefined) {
      const s = apiServer(createApiHandler(api));
      this.apiServers.push(s);
      if (c.apiFd !== undefined) await listenFd(s, c.apiFd);
      else { await listenUnix(s, c.apiSocketPath!); this.ownedPaths.push(c.apiSocketPath!); }
    }
    if (c.apiPort !== undefined) {
      if (!c.apiToken) throw new Error('the TCP management API needs a bearer token (--api-token-file)');
      const s = apiServer(createApiHandler(api, c.apiToken));
      this.apiServers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        // Loopback only: the token guards against other local users, not the network.
        s.listen(c.apiPort, '127.0.0.1', () => { s.off('error', reject); resolve(); });
      });
    }
  }

  private accept(socket: Socket): void {
    const id = this.nextConn++;
    const max = this.config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.stopping || this.connections.size >= max) {
      this.logger.warn({ conn: id, reason: this.stopping ? 'shutdown' : 'too-many-connections' }, 'connection refused');
      this.metrics.connectionsClosed.inc({ reason: this.stopping ? 'shutdown' : 'too-many-connections' });
      socket.destroy();
      return;
    }
    this.metrics.connections.inc();
    this.logger.info({ conn: id }, 'connection open');
    // Reads start once the handle is adopted; the first chunk arrives on a later turn of the loop.
    const own = adoptWithSharedReads(socket, (chunk) => conn.onData(chunk));
    const conn = new Connection(id, own, {
      registry: this.registry, raw: this.raw, metrics: this.metrics, logger: this.logger, work: this.work,
      limits: { ...DEFAULT_CONNECTION_LIMITS, ...this.config.limits },
      handlerFor: (vm) => this.handlerFor(vm),
      isStopping: () => this.isStopping,
    });
    this.connections.add(conn);
    own.on('close', () => this.connections.delete(conn));
  }

  /** The VM's service as transports call it: every answered request is counted and timed. */
  private handlerFor(vm: VmEntry): MmHandler {
    let h = this.handlers.get(vm);
    if (!h) {
      const svc = vm.service;
      const metrics = this.metrics;
      const log = this.logger.child({ vm: vm.id });
      const observed = (request: Uint8Array, r: MmResult, t0: number): MmResult => {
        const seconds = (performance.now() - t0) / 1000;
        metrics.observeRequest(request, r, seconds);
        if (log.isLevelEnabled('debug')) {
          log.debug({ fn: functionLabel(request), status: statusLabel(request, r), reason: r.reason, ms: seconds * 1000 }, 'request');
        }
        return r;
      };
      const processNow = (request: Uint8Array, bufferSize: number): MmResult | Promise<MmResult> => {
        const t0 = performance.now();
        const r = svc.processNow(request, bufferSize);
        if (!(r instanceof Promise)) return observed(request, r, t0);
        // The request's bytes may live in the shared read buffer: keep a copy for the labels.
        const kept = request.slice();
        return r.then((x) => observed(kept, x, t0));
      };
      h = {
        processNow,
        process(request: Uint8Array, bufferSize: number): Promise<MmResult> {
          const r = processNow(request, bufferSize);
          return r instanceof Promise ? r : Promise.resolve(r);
        },
        reset: () => svc.reset(),
      };
      this.handlers.set(vm, h);
    }
    return h;
  }

  /**
   * Graceful stop: no new connections or hellos, idle connections closed,
   * busy ones closed right after their answer, host writes finished. Every
   * acknowledged write is already durable; waiting only lets in-flight ones
   * be acknowledged. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info({ connections: this.connections.size, inFlight: this.work.size }, 'stopping');
      const closed = this.closeListeners();
      for (const c of this.connections) c.shutdown();
      await this.work.idle();
      // The audit records of the requests answered so far reach their trail before the database closes.
      await this.audit.drain(this.registry.loaded());
      // Whatever HTTP connection is still open has nothing in flight any more.
      for (const s of this.apiServers) s.closeAllConnections();
      await closed;
      await Promise.all(this.ownedPaths.map((p) => unlink(p).catch(() => undefined)));
      await this.storeLock?.release();
      await this.registry.close().catch((e: Error) => this.logger.warn({ err: e.message }, 'closing the database'));
      await this.verifyPool?.close();
      this.logger.info('stopped');
    })();
    return this.stopping;
  }

  /** Stop accepting; resolves when every listener's connections are gone. */
  private async closeListeners(): Promise<void> {
    const servers: (NetServer | HttpServer)[] = [...(this.dataServer ? [this.dataServer] : []), ...this.apiServers];
    await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** The layout as logged: a database URL without its password. */
function loggableLayout(layout: StoreLayout): StoreLayout {
  return layout.kind === 'postgres' ? { ...layout, url: redactUrl(layout.url) } : layout;
}
