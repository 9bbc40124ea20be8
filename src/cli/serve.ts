import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs, intOption, UsageError, serviceOptions, DEVICE_FLAG_OPTIONS, type ParsedArgs } from './args.js';
import { Exit, err } from './io.js';
import { Daemon, type DaemonConfig } from '../daemon/server.js';
import { createLogger, isLogLevel, LOG_LEVELS } from '../daemon/logging.js';
import { activatedSockets } from '../daemon/listen.js';
import { DEFAULT_RATE_LIMIT } from '../daemon/limits.js';
import { DEFAULT_CONNECTION_LIMITS } from '../daemon/connection.js';
import type { StoreLayout } from '../daemon/registry.js';

const VALUE_OPTIONS = [
  'store', 'state-dir', 'postgres', 'owner', 'socket', 'api', 'api-port', 'api-token-file', 'size', 'log-level',
  'rate', 'burst', 'max-in-flight', 'max-connections', 'hello-timeout', 'memory-timeout',
] as const;
const FLAG_OPTIONS = [...DEVICE_FLAG_OPTIONS, 'use-pio', 'memory', 'lenient-json'] as const;

/**
 * `uefi-vars serve`: run the daemon until SIGTERM or SIGINT, then stop
 * gracefully and exit 0. A store that does not parse, a socket path in use
 * or a bad option is one line on stderr and exit 1, before anything is
 * written. Under systemd socket activation the data socket (and optionally
 * the API socket) come from LISTEN_FDS instead of --socket / --api.
 */
export async function runServe(args: string[]): Promise<number> {
  let config: DaemonConfig;
  try {
    config = await configFrom(parseArgs(args, VALUE_OPTIONS, FLAG_OPTIONS));
  } catch (e) {
    err(`uefi-vars serve: ${(e as Error).message}`);
    return Exit.FAILURE;
  }
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
      daemon.stop().then(() => {
        listen(false);
        resolve(Exit.OK);
      }, (e: Error) => {
        daemon.logger.error({ err: e.message }, 'error while stopping');
        resolve(Exit.FAILURE);
      });
    };
    if (early) act(early);
  });
}

async function configFrom(p: ParsedArgs): Promise<DaemonConfig> {
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
    logger: createLogger(level),
  };
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
