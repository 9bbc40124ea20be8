import { readFile, readdir, stat, statfs } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { decodeEfivarfsEntry, efivarfsFormat } from './efivarfs.js';
import type { Variable } from '../store/variable.js';
import type { StoreBackend } from '../store/backend.js';
import { writeFileAtomic, replacedBeforeFailure } from './atomic-file.js';
import { DEFAULT_FORMAT, codecFor, decodeStore, detectFormat, formatFromExtension, type DecodedStore, type StoreFormat } from './formats.js';
import { StoreFormatError } from './format-error.js';

/** A store file that could not be used: one line naming the file and the problem. */
export class StoreFileError extends Error {
  override readonly name = 'StoreFileError';
  constructor(readonly path: string, readonly detail: string, /** A failed save already replaced the file (atomic-file.ts). */ readonly replaced = false) {
    super(`${path}: ${detail}`);
  }
}

/** A store file: written back in its own format (and layout). */
export interface FileStore extends DecodedStore {
  path: string;
  /** The file was gzip-compressed (e.g. Debian's AAVMF_VARS.fd.gz); it is written back compressed. */
  gzip?: boolean;
  readOnly?: false;
  /** The file did not exist or was empty and `create` said to start an empty store. */
  created?: boolean;
}

/** An efivarfs directory (/sys/firmware/efi/efivars or a copy of one): readable, never written. */
export interface EfivarfsStore {
  path: string;
  format: typeof efivarfsFormat.name;
  variables: Variable[];
  readOnly: true;
  layout?: undefined;
  gzip?: undefined;
}

export type LoadedStore = FileStore | EfivarfsStore;

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** statfs(2) f_type of efivarfs (linux/magic.h EFIVARFS_MAGIC). */
const EFIVARFS_MAGIC = 0xde5e81e4;
const EFIVARFS_ENTRY = /-[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;

export interface LoadOptions {
  /** `empty`: a missing file is an empty store (QEMU's jsonfile is created if missing). */
  missing?: 'error' | 'empty';
  /** A missing or empty (0-byte) file is an empty store; without it an empty file is refused. */
  create?: boolean;
  /**
   * Load a QEMU JSON store exactly as QEMU does (`--lenient-json`, json-lenient.ts) instead of
   * refusing what it would have to repair; `warn` gets one line per repaired field, naming the file.
   */
  lenientJson?: boolean;
  warn?: (line: string) => void;
}

/**
 * Read and fully parse a store. A file that does not parse is an error naming
 * it; the caller must never fall back to an empty store or write over it. An
 * empty file or a directory is not an empty store: refused, unless `create`
 * (empty file) or the directory is efivarfs (the mounted file system, or a copy
 * whose entries are all NAME-GUID files). A store started empty takes the
 * format its name says (`.fd` the OVMF 4 MiB layout, `.aws`, else QEMU JSON).
 */
export async function loadStoreFile(path: string, opts: LoadOptions = {}): Promise<LoadedStore> {
  let bytes: Uint8Array;
  try {
    if ((await stat(path)).isDirectory()) return await loadDirectory(path);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof StoreFileError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && (opts.missing === 'empty' || opts.create)) return emptyStore(path);
    throw new StoreFileError(path, err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code ?? err.message})`);
  }
  if (bytes.length === 0) {
    if (opts.create) return emptyStore(path);
    throw new StoreFileError(path, 'empty file, not a store (say --create to start an empty store in it)');
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

/** The empty store a new file starts as, in the format its name says. */
function emptyStore(path: string): FileStore {
  const format = formatFromExtension(path) ?? DEFAULT_FORMAT;
  const layout = codecFor(format).emptyLayout?.();
  return { path, format, variables: [], created: true, ...(layout !== undefined ? { layout } : {}) };
}

async function loadDirectory(path: string): Promise<EfivarfsStore> {
  let mounted = false;
  try { mounted = (await statfs(path)).type === EFIVARFS_MAGIC; } catch { /* not Linux, or no statfs: judge by the entries */ }
  const all = await readdir(path);
  const names = all.filter((n) => EFIVARFS_ENTRY.test(n)).sort();
  if (!mounted && (names.length === 0 || names.length !== all.length)) {
    throw new StoreFileError(path, names.length === 0
      ? 'a directory, not a store (an efivarfs directory holds NAME-GUID files; this has none)'
      : `a directory, not a store (${all.length - names.length} of its entries are not efivarfs NAME-GUID files)`);
  }
  return loadEfivarfsDir(path, names);
}

/** efivarfs: one file per variable, NAME-GUID, holding u32 LE attributes ‖ data. */
async function loadEfivarfsDir(path: string, names: readonly string[]): Promise<EfivarfsStore> {
  const variables: Variable[] = [];
  for (const n of names) {
    try {
      variables.push(decodeEfivarfsEntry(n, new Uint8Array(await readFile(join(path, n)))));
    } catch (e) {
      throw new StoreFileError(join(path, n), e instanceof StoreFormatError ? e.message : (e as Error).message);
    }
  }
  return { path, format: efivarfsFormat.name, variables, readOnly: true };
}

/**
 * Refuse to write `format` where it does not belong: into a file whose name
 * says another format (QEMU JSON into `vars.fd`), or over an existing file
 * that holds another format or no store at all. A missing or empty file may
 * be written.
 */
export async function checkWriteTarget(path: string, format: StoreFormat): Promise<void> {
  checkTargetName(path, format);
  let bytes: Uint8Array;
  try { bytes = await readFile(path); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EISDIR') throw new StoreFileError(path, 'a directory; will not write a store over it');
    throw new StoreFileError(path, `cannot read (${code ?? (e as Error).message})`);
  }
  if (bytes.length === 0) return;
  if (isGzip(bytes)) {
    try { bytes = gunzipSync(bytes, { maxOutputLength: 256 * 1024 * 1024 }); } catch { /* not a store we know: refused below */ }
  }
  const held = detectFormat(bytes);
  if (held !== format) {
    throw new StoreFileError(path, `holds ${held ? `a store in ${held} format` : 'something that is not a store'}; will not write ${format} over it (remove it first)`);
  }
}

function checkTargetName(path: string, format: StoreFormat): void {
  const named = formatFromExtension(path);
  if (named !== undefined && named !== format) {
    throw new StoreFileError(path, `the name says ${named}, will not write ${format} into it`);
  }
}

export async function saveStoreFile(path: string, format: StoreFormat, variables: readonly Variable[], layout?: unknown, opts: { gzip?: boolean; syncDir?: boolean } = {}): Promise<void> {
  checkTargetName(path, format);
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
    throw new StoreFileError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, replacedBeforeFailure(e));
  }
}

/** The service's durable sink for one store file, in the file's own format. */
export class FileBackend implements StoreBackend {
  constructor(readonly path: string, readonly format: StoreFormat = DEFAULT_FORMAT, readonly layout?: unknown, readonly gzip = false) {}

  /** The backend that writes a loaded store back in its own format. */
  static for(loaded: LoadedStore): FileBackend {
    if (loaded.readOnly) throw new StoreFileError(loaded.path, 'an efivarfs directory is read-only here; convert it to a store file first');
    checkTargetName(loaded.path, loaded.format);
    return new FileBackend(loaded.path, loaded.format, loaded.layout, loaded.gzip ?? false);
  }

  /** What the file held after the last save that succeeded (records are immutable: no copy of the data). */
  private last: readonly Variable[] | undefined;

  async save(nv: readonly Variable[]): Promise<void> {
    try {
      await saveStoreFile(this.path, this.format, nv, this.layout, { gzip: this.gzip });
    } catch (e) {
      // The directory's fsync failed after the rename: the file holds a write the guest will be
      // told failed (EFI_DEVICE_ERROR) and the service undoes in memory. Put the last good store
      // back, best effort, so disk and memory agree again (docs/durability.md).
      if (e instanceof StoreFileError && e.replaced && this.last) {
        await saveStoreFile(this.path, this.format, this.last, this.layout, { gzip: this.gzip }).catch(() => undefined);
      }
      throw e;
    }
    this.last = nv.slice();
  }
}
