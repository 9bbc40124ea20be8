import { open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The file-system calls writeFileAtomic makes. Tests replace them to inject the
 * failures a real disk has (ENOSPC on write, EIO on fsync): test/persist/durability.test.ts.
 */
export const atomicFs = { open, rename, unlink };

/**
 * Replace `path` with `bytes` all-or-nothing: write a temp file in the same
 * directory, fsync it, rename it over the target, fsync the directory. A crash
 * at any point leaves either the old file or the new one, never a torn mix.
 * With `syncDir: false` the caller must fsync the directory before calling the
 * write durable.
 *
 * A failure before the rename (ENOSPC, EIO on the file's fsync) leaves the
 * target untouched and no temp file. A failure of the directory's fsync comes
 * after the rename: the new file is in place but may not survive a crash; the
 * error then carries `replaced: true` so a caller that reports the write as
 * failed can put the old content back (FileBackend does).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o600, opts: { syncDir?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await atomicFs.open(tmp, 'wx', mode);
  try {
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, off);
        off += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await atomicFs.rename(tmp, path);
  } catch (e) {
    await atomicFs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  // A caller writing many files in one directory may fsync it once for all of them
  // (group commit): the rename is atomic either way; only its durability waits.
  if (opts.syncDir !== false) {
    try { await fsyncDir(dir); } catch (e) {
      throw Object.assign(e as Error, { replaced: true });
    }
  }
}

/** Did a failed writeFileAtomic already put the new file in place (its directory's fsync failed)? */
export function replacedBeforeFailure(e: unknown): boolean {
  return (e as { replaced?: unknown } | null)?.replaced === true;
}

export async function fsyncDir(dir: string): Promise<void> {
  const d = await atomicFs.open(dir, 'r');
  try { await d.sync(); } finally { await d.close(); }
}

/** `.NAME.PID.HEX.tmp`, the temp file writeFileAtomic makes for NAME; the PID captured. */
function tempPattern(name: string): RegExp {
  return new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
}

/** Is a process with this pid alive (EPERM: alive, someone else's)? */
function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Remove the temp files a writer of `path` left when it died between creating
 * one and renaming it (SIGKILL, power loss): without this every crash in that
 * window leaves a store-sized file behind, and a VM that crashes often fills
 * the disk. Only files of processes that no longer run are taken (a live
 * writer's file is its own business). Returns how many were removed; errors
 * (an unreadable directory) are not the caller's problem here.
 */
export async function removeStaleTemps(path: string): Promise<number> {
  const re = tempPattern(basename(path));
  let removed = 0;
  for (const f of await readdir(dirname(path)).catch(() => [] as string[])) {
    const m = re.exec(f);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    if (await unlink(join(dirname(path), f)).then(() => true, () => false)) removed++;
  }
  return removed;
}
