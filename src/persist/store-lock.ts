import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * One writer per store. A daemon claims its store file (`STORE.lock`) or its
 * state directory (`DIR/.uefi-vars.lock`) for as long as it runs: a second
 * daemon on the same stores, or a CLI write behind a daemon's back, would make
 * the daemon's next save drop the other's changes. The claim is a file linked
 * into place only if none exists (like O_EXCL, but never seen half written),
 * holding the owner's pid and, on Linux, the boot and the process start
 * time. A claim is stale, and taken over, when its pid is gone (the owner was
 * killed), when it was made in an earlier boot, or when the pid now names a
 * process that started at another time (pids are reused: after a reboot a
 * persistent state directory's claim names some unrelated process). Only the
 * holder of the takeover mutex removes a stale claim, and it links its own
 * before letting go (takeOver).
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

/** Linux's id of this boot; undefined elsewhere. */
async function bootId(): Promise<string | undefined> {
  return readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((t) => t.trim(), () => undefined);
}

/** When `pid` started, in clock ticks after boot (field 22 of Linux's /proc/PID/stat); undefined elsewhere. */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
}

interface Claim { pid: number; boot: string | undefined; start: string | undefined }

/** `PID\n[boot ID\n][start TICKS\n]`; a file of this project's earlier versions holds the pid line only. */
function parseClaim(text: string): Claim | undefined {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines.length === 0 || !/^\d{1,10}$/.test(lines[0]!)) return undefined;
  const field = (k: string): string | undefined => lines.find((l) => l.startsWith(`${k} `))?.slice(k.length + 1);
  return { pid: Number(lines[0]), boot: field('boot'), start: field('start') };
}

async function claimText(): Promise<string> {
  const [boot, start] = await Promise.all([bootId(), startTime(process.pid)]);
  return `${process.pid}\n${boot ? `boot ${boot}\n` : ''}${start ? `start ${start}\n` : ''}`;
}

/** The live owner recorded in a lock file, if any (unreadable or garbage: none). */
async function liveOwner(lockPath: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch {
    return undefined;
  }
  const c = parseClaim(text);
  if (!c || !Number.isSafeInteger(c.pid) || c.pid <= 0 || c.pid === process.pid || !alive(c.pid)) return undefined;
  const boot = await bootId();
  if (c.boot !== undefined && boot !== undefined && c.boot !== boot) return undefined;
  const start = c.start !== undefined ? await startTime(c.pid) : undefined;
  if (start !== undefined && start !== c.start) return undefined;
  return c.pid;
}

/** A takeover mutex older than this belongs to a starter that died in the middle of one. */
const TAKEOVER_STALE_MS = 10_000;

type Takeover = { won: true } | { won: false; owner: number | undefined };

/**
 * Replace a stale claim with ours, under `LOCK.takeover` (created O_EXCL).
 * Staleness is judged again while holding it, and our claim is linked before
 * it is released: a claim is only ever removed by the holder, between its own
 * look and its own link, so a slower starter can never remove a claim a
 * faster one has just made. `undefined`: the mutex stayed busy (someone else
 * is taking over); the caller looks again.
 */
async function takeOver(lockPath: string, mine: string): Promise<Takeover | undefined> {
  const mutex = `${lockPath}.takeover`;
  for (let tries = 0; ; tries++) {
    try {
      await (await open(mutex, 'wx', 0o600)).close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const age = await stat(mutex).then((st) => Date.now() - st.mtimeMs, () => 0);
    if (age > TAKEOVER_STALE_MS) await unlink(mutex).catch(() => undefined);
    else if (tries > 200) return undefined;
    else await new Promise((r) => setTimeout(r, 10));
  }
  try {
    const owner = await liveOwner(lockPath);
    if (owner !== undefined) return { won: false, owner };
    await unlink(lockPath).catch(() => undefined);
    try {
      await link(mine, lockPath);
      return { won: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A starter that found no claim at all linked its own in between: it won.
      return { won: false, owner: await liveOwner(lockPath) };
    }
  } finally {
    await unlink(mutex).catch(() => undefined);
  }
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
    // The claim is written in full to a file of our own, then linked into place: link() fails
    // when the lock exists, like O_EXCL, and nobody ever reads a claim half written.
    const mine = `${lockPath}.${process.pid}.new`;
    const fh = await open(mine, 'w', 0o600);
    try {
      await fh.writeFile(await claimText());
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      // Where no claim exists, link() alone decides. A claim that exists but is stale is replaced
      // under the takeover mutex; while someone else holds that, look again a few times.
      for (let round = 0; round < 3; round++) {
        try {
          await link(mine, lockPath);
          held.add(key);
          return new StoreLock(lockPath);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const owner = await liveOwner(lockPath);
        if (owner !== undefined) throw new StoreInUseError(target, owner, lockPath);
        const t = await takeOver(lockPath, mine);
        if (t?.won) {
          held.add(key);
          return new StoreLock(lockPath);
        }
        if (t && t.owner !== undefined) throw new StoreInUseError(target, t.owner, lockPath);
      }
      const owner = await liveOwner(lockPath);
      throw new StoreInUseError(target, owner ?? 0, lockPath);
    } finally {
      await unlink(mine).catch(() => undefined);
    }
  }

  /** Give the claim up (only if it is still ours). */
  async release(): Promise<void> {
    held.delete(resolve(this.lockPath));
    const text = await readFile(this.lockPath, 'utf8').catch(() => '');
    if (parseClaim(text)?.pid === process.pid) await unlink(this.lockPath).catch(() => undefined);
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
