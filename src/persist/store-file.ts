import { readFile, readdir, stat } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { decodeEfivarfsEntry } from './efivarfs.js';
import type { Variable } from '../store/variable.js';
import type { StoreBackend } from '../store/backend.js';
import { writeFileAtomic } from './atomic-file.js';
import { codecFor, decodeStore, type DecodedStore, type StoreFormat } from './formats.js';
import { StoreFormatError } from './format-error.js';
import './register-formats.js';

/** A store file that could not be used: one line naming the file and the problem. */
export class StoreFileError extends Error {
  override readonly name = 'StoreFileError';
  constructor(readonly path: string, readonly detail: string) {
    super(`${path}: ${detail}`);
  }
}

export interface LoadedStore extends DecodedStore {
  path: string;
  /** The file was gzip-compressed (e.g. Debian's AAVMF_VARS.fd.gz); it is written back compressed. */
  gzip?: boolean;
  /** An efivarfs directory (/sys/firmware/efi/efivars or a copy): readable, never written. */
  readOnly?: boolean;
}

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Read and fully parse a store. A file that does not parse is an error naming
 * it; the caller must never fall back to an empty store or write over it.
 * `missing: 'empty'` treats a missing file as an empty JSON store (QEMU's
 * jsonfile is created if missing).
 */
export interface LoadOptions {
  missing?: 'error' | 'empty';
  /**
   * Load a QEMU JSON store exactly as QEMU does (`--lenient-json`, json-lenient.ts) instead of
   * refusing what it would have to repair; `warn` gets one line per repaired field, naming the file.
   */
  lenientJson?: boolean;
  warn?: (line: string) => void;
}

export async function loadStoreFile(path: string, opts: LoadOptions = {}): Promise<LoadedStore> {
  let bytes: Uint8Array;
  try {
    if ((await stat(path)).isDirectory()) return await loadEfivarfsDir(path);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof StoreFileError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && opts.missing === 'empty') return { path, format: 'json', variables: [] };
    throw new StoreFileError(path, err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code ?? err.message})`);
  }
  let gzip = false;
  if (isGzip(bytes)) {
    try { bytes = gunzipSync(bytes, { maxOutputLength: 256 * 1024 * 1024 }); gzip = true; } catch (e) {
      throw new StoreFileError(path, `gzip: cannot decompress (${(e as Error).message})`);
    }
  }
  try {
    const json = opts.lenientJson ? { lenient: true, warn: (where: string, what: string) => opts.warn?.(`${path}: ${where}: ${what}`) } : {};
    return { path, ...(await decodeStore(bytes, { json })), ...(gzip ? { gzip } : {}) };
  } catch (e) {
    if (e instanceof StoreFormatError) throw new StoreFileError(path, e.message);
    throw new StoreFileError(path, `cannot parse (${(e as Error).message})`);
  }
}

/** efivarfs: one file per variable, NAME-GUID, holding u32 LE attributes ‖ data. */
async function loadEfivarfsDir(path: string): Promise<LoadedStore> {
  const names = (await readdir(path)).filter((n) => /-[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(n)).sort();
  const variables: Variable[] = [];
  for (const n of names) {
    try {
      variables.push(decodeEfivarfsEntry(n, new Uint8Array(await readFile(join(path, n)))));
    } catch (e) {
      throw new StoreFileError(join(path, n), e instanceof StoreFormatError ? e.message : (e as Error).message);
    }
  }
  return { path, format: 'json', variables, readOnly: true };
}

export async function saveStoreFile(path: string, format: StoreFormat, variables: readonly Variable[], layout?: unknown, opts: { gzip?: boolean; syncDir?: boolean } = {}): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await codecFor(format).encode(variables, layout);
    if (opts.gzip) bytes = gzipSync(bytes);
  } catch (e) {
    throw new StoreFileError(path, e instanceof StoreFormatError ? e.message : `cannot encode (${(e as Error).message})`);
  }
  try {
    await writeFileAtomic(path, bytes, 0o600, { syncDir: opts.syncDir ?? true });
  } catch (e) {
    throw new StoreFileError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The service's durable sink for one store file, in the file's own format. */
export class FileBackend implements StoreBackend {
  constructor(readonly path: string, readonly format: StoreFormat = 'json', readonly layout?: unknown, readonly gzip = false) {}

  /** The backend that writes a loaded store back in its own format. */
  static for(loaded: LoadedStore): FileBackend {
    if (loaded.readOnly) throw new StoreFileError(loaded.path, 'an efivarfs directory is read-only here; convert it to a store file first');
    return new FileBackend(loaded.path, loaded.format, loaded.layout, loaded.gzip ?? false);
  }

  async save(nv: readonly Variable[]): Promise<void> {
    await saveStoreFile(this.path, this.format, nv, this.layout, { gzip: this.gzip });
  }
}
