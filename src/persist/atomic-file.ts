import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replace `path` with `bytes` all-or-nothing: write a temp file in the same
 * directory, fsync it, rename it over the target, fsync the directory. A crash
 * at any point leaves either the old file or the new one, never a torn mix.
 * With `syncDir: false` the caller must fsync the directory before calling the
 * write durable.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o600, opts: { syncDir?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, off);
      off += bytesWritten;
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // A caller writing many files in one directory may fsync it once for all of them
  // (group commit): the rename is atomic either way; only its durability waits.
  if (opts.syncDir !== false) await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try { await d.sync(); } finally { await d.close(); }
}
