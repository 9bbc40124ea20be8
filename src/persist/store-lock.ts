import { open, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * One writer per store. A daemon claims its store file (`STORE.lock`) or its
 * state directory (`DIR/.uefi-vars.lock`) for as long as it runs: a second
 * daemon on the same stores, or a CLI write behind a daemon's back, would make
 * the daemon's next save drop the other's changes. The claim is a file created
 * exclusively (O_EXCL) holding the owner's pid; a claim whose pid is gone (the
 * owner was killed) is stale and is taken over.
 */

export class StoreInUseError extends Error {
  override readonly name = 'StoreInUseError';
  constructor(readonly target: string, readonly pid: number, readonly lockPath: string) {
    super(`${target}: in use by a running uefi-vars daemon (pid ${pid}; lock ${lockPath}); stop it or use its management API`);
  }
}

/** The lock file guarding a single store file. */
export function storeLockPath(storePath: string): string {
  return join(dirname(storePath), `${basename(storePath)}.lock`);
}

/** The lock file guarding a state directory (not a `.json`, so never taken for a VM). */
export function stateDirLockPath(dir: string): string {
  return join(dir, '.uefi-vars.lock');
}

/** Is a process with this pid alive (EPERM: alive, someone else's)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live owner recorded in a lock file, if any (unreadable or garbage: none). */
async function liveOwner(lockPath: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch {
    return undefined;
  }
  const pid = /^\d{1,10}\n?$/.test(text) ? Number(text.trim()) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
}

/** Claims this process holds (a pid check cannot tell two daemons in one process apart). */
const held = new Set<string>();

export class StoreLock {
  private constructor(readonly lockPath: string) {}

  /**
   * Claim `lockPath` for this process; `target` names what it guards in the
   * error. Throws StoreInUseError when a live process holds it.
   */
  static async acquire(lockPath: string, target: string): Promise<StoreLock> {
    const key = resolve(lockPath);
    if (held.has(key)) throw new StoreInUseError(target, process.pid, lockPath);
    // Two rounds: the second follows the removal of a stale claim. If another
    // starter took the claim in between, its O_EXCL create won and we report it.
    for (let round = 0; round < 2; round++) {
      try {
        const fh = await open(lockPath, 'wx', 0o600);
        try {
          await fh.writeFile(`${process.pid}\n`);
          await fh.sync();
        } finally {
          await fh.close();
        }
        held.add(key);
        return new StoreLock(lockPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = await liveOwner(lockPath);
      if (owner !== undefined) throw new StoreInUseError(target, owner, lockPath);
      await unlink(lockPath).catch(() => undefined);
    }
    const owner = await liveOwner(lockPath);
    throw new StoreInUseError(target, owner ?? 0, lockPath);
  }

  /** Give the claim up (only if it is still ours). */
  async release(): Promise<void> {
    held.delete(resolve(this.lockPath));
    const text = await readFile(this.lockPath, 'utf8').catch(() => '');
    if (text.trim() === String(process.pid)) await unlink(this.lockPath).catch(() => undefined);
  }
}

/**
 * For writers that are not the daemon (CLI set/delete/convert onto a store):
 * refuse when a live daemon holds the store's lock or its directory's.
 */
export async function assertStoreFree(storePath: string): Promise<void> {
  for (const lockPath of [storeLockPath(storePath), stateDirLockPath(dirname(storePath))]) {
    const owner = held.has(resolve(lockPath)) ? process.pid : await liveOwner(lockPath);
    if (owner !== undefined) throw new StoreInUseError(storePath, owner, lockPath);
  }
}
