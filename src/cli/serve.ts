import { readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { intOption, UsageError, serviceOptions, SERVE_DEVICE_OPTIONS, JSON_OPTION, type ParsedArgs } from './args.js';
import type { CommandSpec, OptionSpec } from './command.js';
import { Exit, err, out } from './io.js';
import { Daemon, type DaemonConfig } from '../daemon/server/server.js';
import { createLogger, isLogLevel, LOG_LEVELS, type LogLevel } from '../daemon/server/logging.js';
import { activatedSockets } from '../daemon/server/listen.js';
import { DEFAULT_RATE_LIMIT } from '../daemon/server/limits.js';
import { DEFAULT_CONNECTION_LIMITS } from '../daemon/server/connection.js';
import type { StoreLayout } from '../daemon/server/registry.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { CONFIG_OPTION, mergedServeArgs } from './serve-config.js';
import { sdNotify } from './sd-notify.js';

const STORES = 'stores';
const SOCKETS = 'sockets';
const LIMITS = 'limits';
const PROCESS = 'process';
const opt = (group: string, o: Omit<OptionSpec, 'group'>): OptionSpec => ({ ...o, group });

export const serveSpec: CommandSpec = {
  name: 'serve',
  summary: 'run the daemon: VMMs connect over a Unix socket, the management API beside it',
  usage: [
    'serve [--store PATH | --state-dir DIR | --postgres URL [--owner NAME] | --memory] [--socket PATH] [--api PATH] ' +
    '[--api-port N --api-token-file F] [--config FILE] [--pid-file F] [--log-file F] [--log-level L] [--json] [limits] [device options]',
  ],
  options: [
    opt(STORES, { name: 'store', type: 'string', value: 'PATH', help: 'one VM, any store format (default ./uefi-vars.json; a missing file starts empty, in the format its name says)' }),
    opt(STORES, { name: 'state-dir', type: 'string', value: 'DIR', help: 'one QEMU JSON store per VM, DIR/<vm-id>.json' }),
    opt(STORES, { name: 'postgres', type: 'string', value: 'URL', help: 'every VM in one PostgreSQL database (libpq URL; password from PGPASSWORD or ~/.pgpass)' }),
    opt(STORES, { name: 'owner', type: 'string', value: 'NAME', help: 'with --postgres: the owner recorded for the VMs this daemon loads (default HOSTNAME/PID)' }),
    opt(STORES, { name: 'lenient-json', type: 'boolean', help: 'load QEMU JSON stores as QEMU does, repairing what it would (one warning per field)' }),
    opt(STORES, { name: 'memory', type: 'boolean', help: 'no files: NV variables live as long as the daemon' }),
    opt(SOCKETS, { name: 'socket', type: 'string', value: 'PATH', help: 'the VMM protocol socket, mode 0600 (default ./uefi-vars.sock)' }),
    opt(SOCKETS, { name: 'api', type: 'string', value: 'PATH', help: 'the management API and /metrics on a Unix socket, mode 0600' }),
    opt(SOCKETS, { name: 'api-port', type: 'string', value: 'N', help: 'the management API on 127.0.0.1:N (0: any free port); needs --api-token-file' }),
    opt(SOCKETS, { name: 'api-token-file', type: 'string', value: 'FILE', help: 'the bearer token for --api-port (one word, at least 16 characters)' }),
    opt(LIMITS, { name: 'rate', type: 'string', value: 'N', help: `requests per second per VM, token bucket (default ${DEFAULT_RATE_LIMIT.ratePerSecond}; 0: no limit)` }),
    opt(LIMITS, { name: 'burst', type: 'string', value: 'N', help: 'token bucket size (default the larger of the rate and ' + String(DEFAULT_RATE_LIMIT.burst) + ')' }),
    opt(LIMITS, { name: 'max-in-flight', type: 'string', value: 'N', help: `requests per VM in flight (default ${DEFAULT_CONNECTION_LIMITS.maxInFlightPerVm})` }),
    opt(LIMITS, { name: 'max-connections', type: 'string', value: 'N', help: 'data connections open at once (default 1024)' }),
    opt(LIMITS, { name: 'hello-timeout', type: 'string', value: 'MS', help: `close a connection that has not said HELLO by then (default ${DEFAULT_CONNECTION_LIMITS.helloTimeoutMs})` }),
    opt(LIMITS, { name: 'memory-timeout', type: 'string', value: 'MS', help: `how long the VMM may take over a MEM_READ/MEM_WRITE (default ${DEFAULT_CONNECTION_LIMITS.memoryTimeoutMs})` }),
    opt(LIMITS, { name: 'verify-workers', type: 'string', value: 'N', help: 'threads for the signature checks of authenticated writes, off the event loop (default CPUs - 1, 1..4; 0: on the event loop)' }),
    opt(LIMITS, { name: 'use-pio', type: 'boolean', help: 'FLAGS.USE_PIO in the register mode (QEMU use-pio)' }),
    opt(PROCESS, CONFIG_OPTION),
    opt(PROCESS, { name: 'pid-file', type: 'string', value: 'FILE', help: 'write the daemon\'s pid to FILE once listening; removed at a clean stop' }),
    opt(PROCESS, { name: 'log-file', type: 'string', value: 'FILE', help: 'append the log (JSON lines) to FILE as well as stderr' }),
    opt(PROCESS, { name: 'log-level', type: 'string', value: 'LEVEL', help: `${LOG_LEVELS.join('|')} (default info)` }),
    opt(PROCESS, { ...JSON_OPTION, help: 'print one JSON line on stdout once listening (schema: docs/cli.md)' }),
    ...SERVE_DEVICE_OPTIONS,
  ],
  details: 'Every option can also come from the environment (UEFI_VARS_STORE, UEFI_VARS_LOG_LEVEL, ...; booleans 1 or 0) and from --config FILE\n' +
    '(TOML or JSON, the option names as keys); the command line wins over the environment, which wins over the file.\n' +
    'SIGTERM/SIGINT: stop accepting, finish requests in flight, exit 0. Under systemd, READY=1 is sent once the sockets listen.',
};

/**
 * `uefi-vars serve`: run the daemon until SIGTERM or SIGINT, then stop
 * gracefully and exit 0. A store that does not parse, a socket path in use
 * or a bad option is one line on stderr and exit 1, before anything is
 * written. Under systemd socket activation the data socket (and optionally
 * the API socket) come from LISTEN_FDS instead of --socket / --api.
 */
export async function runServe(args: string[]): Promise<number> {
  let config: DaemonConfig & { logger: Logger };
  let p: ParsedArgs;
  try {
    p = await mergedServeArgs(serveSpec, args, process.env);
    config = await configFrom(p);
  } catch (e) {
    if ((e as Error).name === 'HelpRequested') throw e;
    err(`uefi-vars serve: ${(e as Error).message}`);
    return Exit.FAILURE;
  }
  const pidFile = p.values.get('pid-file');
  // The sockets listen before start() returns: a signal from then on means a graceful stop,
  // so it is caught now and acted on once the daemon is there. One listener stays registered
  // from here to the end: removing a signal's last listener drops a signal that was caught but
  // not yet delivered to JavaScript (it happened when a VMM stopped the daemon right after the
  // listening line).
  let early: NodeJS.Signals | undefined;
  let act: ((sig: NodeJS.Signals) => void) | undefined;
  const onSignal = (sig: NodeJS.Signals): void => { if (act) act(sig); else early ??= sig; };
  const listen = (on: boolean): void => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) { if (on) process.on(sig, onSignal); else process.off(sig, onSignal); }
  };
  listen(true);
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config);
  } catch (e) {
    listen(false);
    config.logger?.error({ err: (e as Error).message }, 'cannot start');
    err(`uefi-vars serve: ${(e as Error).message}`);
    return Exit.FAILURE;
  }
  if (pidFile !== undefined) {
    try {
      await writeFileAtomic(pidFile, new TextEncoder().encode(`${process.pid}\n`));
    } catch (e) {
      err(`uefi-vars serve: ${pidFile}: cannot write the pid file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      await daemon.stop();
      listen(false);
      return Exit.FAILURE;
    }
  }
  if (p.flags.has('json')) {
    out(JSON.stringify({
      listening: true, pid: process.pid,
      socket: config.dataFd !== undefined ? null : config.socketPath ?? null,
      api: config.apiSocketPath ?? null, apiPort: daemon.apiPort ?? null,
      activated: { data: config.dataFd !== undefined, api: config.apiFd !== undefined },
      layout: config.layout.kind,
    }));
  }
  // systemd Type=notify: ready once the sockets listen and the store is loaded (start() has done both).
  void sdNotify('READY=1').then((why) => { if (why) daemon.logger.warn({ err: why }, 'cannot tell systemd we are ready'); });
  const removePidFile = async (): Promise<void> => {
    if (pidFile !== undefined) await unlink(pidFile).catch(() => undefined);
  };
  return new Promise<number>((resolve) => {
    let signals = 0;
    act = (sig) => {
      signals++;
      if (signals > 1) {
        // Stores are replaced atomically, so leaving now cannot tear one.
        daemon.logger.warn({ signal: sig }, 'second signal: exiting without waiting for requests in flight');
        process.exit(Exit.FAILURE);
      }
      daemon.logger.info({ signal: sig }, 'signal: stopping');
      void sdNotify('STOPPING=1', { unref: true });
      daemon.stop().then(async () => {
        await removePidFile();
        listen(false);
        resolve(Exit.OK);
      }, async (e: Error) => {
        daemon.logger.error({ err: e.message }, 'error while stopping');
        await removePidFile();
        resolve(Exit.FAILURE);
      });
    };
    if (early) act(early);
  });
}

async function configFrom(p: ParsedArgs): Promise<DaemonConfig & { logger: Logger }> {
  if (p.positional.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(p.positional[0])}`);
  const store = p.values.get('store');
  const dir = p.values.get('state-dir');
  const memory = p.flags.has('memory');
  const postgres = p.values.get('postgres');
  if ([store, dir, memory || undefined, postgres].filter((x) => x !== undefined).length > 1) {
    throw new UsageError('--store, --state-dir, --postgres and --memory exclude each other');
  }
  const owner = p.values.get('owner');
  if (owner !== undefined && postgres === undefined) throw new UsageError('--owner is for --postgres');
  if (owner !== undefined && !/^[\x21-\x7e]{1,128}$/.test(owner)) throw new UsageError('--owner must be 1..128 printable ASCII characters without spaces');
  const layout: StoreLayout = memory ? { kind: 'memory' }
    : postgres !== undefined ? { kind: 'postgres', url: postgres, owner: owner ?? `${hostname()}/${process.pid}` }
    : dir !== undefined ? { kind: 'dir', dir } : { kind: 'single', path: store ?? './uefi-vars.json' };

  const level = p.values.get('log-level') ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);

  const apiPort = intOption(p, 'api-port');
  if (apiPort !== undefined && apiPort > 65535) throw new UsageError('--api-port must be 0..65535');
  const tokenFile = p.values.get('api-token-file');
  if (apiPort !== undefined && tokenFile === undefined) throw new UsageError('--api-port needs --api-token-file (the TCP API requires a bearer token)');
  const apiToken = tokenFile !== undefined ? await readToken(tokenFile) : undefined;

  const ratePerSecond = intOption(p, 'rate') ?? DEFAULT_RATE_LIMIT.ratePerSecond;
  const burst = intOption(p, 'burst') ?? Math.max(DEFAULT_RATE_LIMIT.burst, ratePerSecond);
  const maxInFlightPerVm = intOption(p, 'max-in-flight') ?? DEFAULT_CONNECTION_LIMITS.maxInFlightPerVm;
  if (maxInFlightPerVm < 1) throw new UsageError('--max-in-flight must be at least 1');
  const maxConnections = intOption(p, 'max-connections');
  const verifyWorkers = intOption(p, 'verify-workers');
  if (verifyWorkers !== undefined && verifyWorkers > 64) throw new UsageError('--verify-workers is 0..64');
  const helloTimeoutMs = intOption(p, 'hello-timeout') ?? DEFAULT_CONNECTION_LIMITS.helloTimeoutMs;
  const memoryTimeoutMs = intOption(p, 'memory-timeout') ?? DEFAULT_CONNECTION_LIMITS.memoryTimeoutMs;
  // Node timers hold at most 2^31 − 1 ms; beyond, they would fire at once.
  for (const [k, v] of [['hello-timeout', helloTimeoutMs], ['memory-timeout', memoryTimeoutMs]] as const) {
    if (v < 1 || v > 0x7fffffff) throw new UsageError(`--${k} is milliseconds, 1..2147483647`);
  }

  const activated = activatedSockets();
  const socketPath = p.values.get('socket') ?? './uefi-vars.sock';
  const apiSocketPath = p.values.get('api');
  return {
    layout,
    ...(activated.data !== undefined ? { dataFd: activated.data } : { socketPath }),
    ...(activated.api !== undefined ? { apiFd: activated.api } : apiSocketPath !== undefined ? { apiSocketPath } : {}),
    ...(apiPort !== undefined ? { apiPort } : {}),
    ...(apiToken !== undefined ? { apiToken } : {}),
    options: serviceOptions(p),
    usePio: p.flags.has('use-pio'),
    lenientJson: p.flags.has('lenient-json'),
    rateLimit: { ratePerSecond, burst },
    limits: { maxInFlightPerVm, helloTimeoutMs, memoryTimeoutMs },
    ...(maxConnections !== undefined ? { maxConnections } : {}),
    ...(verifyWorkers !== undefined ? { verifyWorkers } : {}),
    logger: logger(level, p.values.get('log-file')),
  };
}

/** JSON lines on stderr and, with --log-file, appended to FILE too (created 0600: logs name VMs and variables). */
function logger(level: LogLevel, file: string | undefined): Logger {
  if (file === undefined) return createLogger(level);
  let fileStream;
  try {
    fileStream = pino.destination({ dest: file, sync: true, append: true, mode: 0o600 });
  } catch (e) {
    throw new UsageError(`${file}: cannot open the log file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const streamLevel = level === 'silent' ? 'fatal' : level;
  return createLogger(level, pino.multistream([
    { level: streamLevel, stream: pino.destination({ dest: 2, sync: true }) },
    { level: streamLevel, stream: fileStream },
  ]));
}

async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: cannot read the API token (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const token = text.trim();
  if (token.length < 16 || /\s/.test(token)) throw new UsageError(`${path}: the API token must be one word of at least 16 characters`);
  return token;
}
