import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon, type DaemonConfig } from '../../src/daemon/server/server.js';
import { createLogger } from '../../src/daemon/server/logging.js';

export interface EphemeralDaemon {
  daemon: Daemon;
  /** Private temp directory holding the sockets and stores; removed by stop(). */
  dir: string;
  socketPath: string;
  apiSocketPath: string;
  stop(): Promise<void>;
}

/**
 * An in-process daemon on a fresh temp directory, for tests (kept out of src/, so
 * no part of the package's surface):
 * `--state-dir` layout (or one store with `single: true`), data and API
 * sockets in the directory, logs off and rate limit off unless given.
 */
export async function startEphemeralDaemon(over: Partial<DaemonConfig> & { single?: boolean } = {}): Promise<EphemeralDaemon> {
  const dir = await mkdtemp(join(tmpdir(), 'uefi-vars-daemon-'));
  const socketPath = join(dir, 'data.sock');
  const apiSocketPath = join(dir, 'api.sock');
  const { single, ...rest } = over;
  const daemon = await Daemon.start({
    layout: single ? { kind: 'single', path: join(dir, 'store.json') } : { kind: 'dir', dir: join(dir, 'vms') },
    socketPath, apiSocketPath,
    logger: createLogger('silent'),
    rateLimit: { ratePerSecond: 0, burst: 0 },
    ...rest,
  }).catch(async (e: unknown) => { await rm(dir, { recursive: true, force: true }); throw e; });
  return {
    daemon, dir, socketPath, apiSocketPath,
    async stop() {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
