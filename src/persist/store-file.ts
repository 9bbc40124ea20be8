import { readFile } from 'node:fs/promises';
import type { Variable } from '../store/variable.js';
import type { StoreBackend } from '../service/variable-service.js';
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
}

/**
 * Read and fully parse a store. A file that does not parse is an error naming
 * it; the caller must never fall back to an empty store or write over it.
 * `missing: 'empty'` treats a missing file as an empty JSON store (QEMU's
 * jsonfile is created if missing).
 */
export async function loadStoreFile(path: string, opts: { missing?: 'error' | 'empty' } = {}): Promise<LoadedStore> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && opts.missing === 'empty') return { path, format: 'json', variables: [] };
    throw new StoreFileError(path, err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code ?? err.message})`);
  }
  try {
    return { path, ...(await decodeStore(bytes)) };
  } catch (e) {
    if (e instanceof StoreFormatError) throw new StoreFileError(path, e.message);
    throw new StoreFileError(path, `cannot parse (${(e as Error).message})`);
  }
}

export async function saveStoreFile(path: string, format: StoreFormat, variables: readonly Variable[], layout?: unknown): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await codecFor(format).encode(variables, layout);
  } catch (e) {
    throw new StoreFileError(path, e instanceof StoreFormatError ? e.message : `cannot encode (${(e as Error).message})`);
  }
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new StoreFileError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The service's durable sink for one store file, in the file's own format. */
export class FileBackend implements StoreBackend {
  saves = 0;
  constructor(readonly path: string, readonly format: StoreFormat = 'json', readonly layout?: unknown) {}
  async save(nv: readonly Variable[]): Promise<void> {
    await saveStoreFile(this.path, this.format, nv, this.layout);
    this.saves++;
  }
}
