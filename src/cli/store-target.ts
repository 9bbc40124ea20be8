import { readdir } from 'node:fs/promises';
import { PgStore, PgStoreError, redactUrl } from '../persist/postgres.js';
import { checkWriteTarget, loadStoreFile, saveStoreFile, StoreFileError, type LoadOptions, type LoadedStore } from '../persist/store-file.js';
import { assertStoreFree } from '../persist/store-lock.js';
import { stateDirStorePath, vmOfStateFile } from '../persist/state-dir.js';
import type { StoreFormat, StoreFormatName } from '../persist/formats.js';
import { VM_ID_PATTERN } from '../daemon/protocol/frames.js';
import type { Variable } from '../store/variable.js';
import { UsageError } from './command.js';

/**
 * Where a CLI command finds a store (docs/cli.md, Arguments): a file of any
 * format (or an efivarfs directory), one VM of a daemon's `--state-dir`
 * (`DIR/<vm>.json`), or a VM in PostgreSQL (`postgresql://…/DB#VM`). Parsed
 * once from the argument; `shown` names it in every line the CLI prints (the
 * URL without its password). The safety rules live here, once: a store is
 * fully parsed before anything is written over it, a file a daemon serves is
 * not written behind its back, and every write is atomic in the store's own
 * format (persist/store-file.ts).
 */
export type StoreTarget = FileStoreTarget | StateDirVmTarget | PgVmTarget;

export interface FileStoreTarget { kind: 'file'; path: string; shown: string }
export interface StateDirVmTarget { kind: 'state-dir'; dir: string; vm: string; path: string; shown: string }
export interface PgVmTarget { kind: 'postgres'; url: string; vm: string; shown: string }
/** The targets held in a file of their own. */
export type FileLikeTarget = FileStoreTarget | StateDirVmTarget;

/** What `print --json`, `convert --json` call a store read from PostgreSQL. */
export const POSTGRES_FORMAT = 'postgres';

export const isPostgresUrl = (arg: string): boolean => /^postgres(ql)?:\/\//i.test(arg);

export interface ParseOptions {
  /** `--state-dir DIR`: a bare VM id names DIR/<vm>.json. */
  stateDir?: string;
  /** `postgresql://…/DB#*` is allowed (apply: every VM of the database); its `vm` is `*`. */
  allVms?: boolean;
}

/** A STORE argument to its target; a malformed one is a UsageError (exit 1) that does not print a password. */
export function parseStoreTarget(arg: string, opts: ParseOptions = {}): StoreTarget {
  if (isPostgresUrl(arg)) {
    const hash = arg.lastIndexOf('#');
    const vm = hash < 0 ? '' : arg.slice(hash + 1);
    const url = hash < 0 ? arg : arg.slice(0, hash);
    if (!(opts.allVms && vm === '*') && !VM_ID_PATTERN.test(vm)) {
      throw new UsageError(opts.allVms
        ? `${redactUrl(url)}: name the VM after a '#' (…/DB#VM, or #* for every VM)`
        : `${redactUrl(url)}: name the VM after a '#' (postgresql://HOST/DB#VM, VM as in docs/protocol.md)`);
    }
    return pgVmTarget(url, vm);
  }
  if (opts.stateDir !== undefined) {
    if (!VM_ID_PATTERN.test(arg)) throw new UsageError(`${JSON.stringify(arg)}: not a VM id (with --state-dir, name the VM as in docs/protocol.md)`);
    return stateDirTarget(opts.stateDir, arg);
  }
  return { kind: 'file', path: arg, shown: arg };
}

export function pgVmTarget(url: string, vm: string): PgVmTarget {
  return { kind: 'postgres', url, vm, shown: `${redactUrl(url)}#${vm}` };
}

export function stateDirTarget(dir: string, vm: string): StateDirVmTarget {
  const path = stateDirStorePath(dir, vm);
  return { kind: 'state-dir', dir, vm, path, shown: path };
}

/** Every VM store of a state directory, by name. */
export async function stateDirTargets(dir: string): Promise<StateDirVmTarget[]> {
  let names: string[];
  try { names = await readdir(dir); } catch (e) { throw new UsageError(`${dir}: cannot read the state directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  // In file-name order, as `ls` shows them.
  const vms = names.sort().map(vmOfStateFile).filter((vm): vm is string => vm !== undefined && VM_ID_PATTERN.test(vm));
  return vms.map((vm) => stateDirTarget(dir, vm));
}

/** Refuse a PostgreSQL VM where a command works on files only: `<target>: <why>`, exit 1. */
export function requireFile(t: StoreTarget, why: string): FileLikeTarget {
  if (t.kind === 'postgres') throw new UsageError(`${t.shown}: ${why}`);
  return t;
}

/** A store as read: its format (`postgres` for a VM in PostgreSQL), variables and what writing it back needs. */
export interface TargetStore {
  target: StoreTarget;
  format: StoreFormatName | typeof POSTGRES_FORMAT;
  variables: Variable[];
  layout?: unknown;
  gzip?: boolean;
  /** An efivarfs directory: never written. */
  readOnly: boolean;
}

/**
 * Read a store as it stands, fully parsed (a file that does not parse is a
 * StoreFileError naming it). A VM in PostgreSQL is read without taking it
 * over from the daemon serving it.
 */
export async function readTarget(t: StoreTarget, opts: LoadOptions = {}): Promise<TargetStore> {
  if (t.kind === 'postgres') return { target: t, format: POSTGRES_FORMAT, variables: await readPgVm(t), readOnly: false };
  return fromLoaded(t, await loadStoreFile(t.path, opts));
}

function fromLoaded(t: StoreTarget, l: LoadedStore): TargetStore {
  return {
    target: t, format: l.format, variables: l.variables, readOnly: l.readOnly === true,
    ...(l.layout !== undefined ? { layout: l.layout } : {}), ...(l.gzip ? { gzip: true } : {}),
  };
}

/** A store file opened to be changed: `save` writes it back atomically, in its own format and layout. */
export interface OpenStore extends TargetStore {
  target: FileLikeTarget;
  format: StoreFormatName;
  /** `syncDir: false`: the caller fsyncs the directory itself (apply's group commit). */
  save(variables: readonly Variable[], opts?: { syncDir?: boolean }): Promise<void>;
}

/**
 * Open a store file for a change: refused (StoreInUseError) while a daemon
 * serves it or its state directory, since its next save would drop ours; then
 * read and fully parsed, so nothing is ever written over a store we could not
 * read. An efivarfs directory opens `readOnly` and its `save` refuses.
 */
export async function openTarget(t: FileLikeTarget, opts: LoadOptions = {}): Promise<OpenStore> {
  await assertStoreFree(t.path);
  const l = await loadStoreFile(t.path, opts);
  const read = fromLoaded(t, l);
  return {
    ...read, target: t, format: l.format,
    save: async (variables, o = {}) => {
      if (l.readOnly) throw new StoreFileError(t.path, 'an efivarfs directory is read-only here; convert it to a store file first');
      await saveStoreFile(t.path, l.format, variables, l.layout, { gzip: l.gzip ?? false, ...(o.syncDir !== undefined ? { syncDir: o.syncDir } : {}) });
    },
  };
}

/**
 * Before reading what will be written to `t` as `format` (convert OUT): a file
 * a daemon serves, or one that holds another format or no store, is refused
 * (store-file.ts checkWriteTarget). A PostgreSQL VM is checked when created.
 */
export async function checkNewTarget(t: StoreTarget, format: StoreFormat | undefined): Promise<void> {
  if (t.kind === 'postgres') return;
  if (format === undefined) throw new UsageError(`${t.shown}: no format to write`);
  await assertStoreFree(t.path);
  await checkWriteTarget(t.path, format);
}

/** Refuse (StoreInUseError) a store file a running daemon serves: its next save would drop our change. */
export async function assertTargetFree(t: StoreTarget): Promise<void> {
  if (t.kind !== 'postgres') await assertStoreFree(t.path);
}

/**
 * Write `variables` as the whole store: a file atomically in `format` (`gzip`: compressed,
 * as it was read), or a new PostgreSQL VM (refused if it exists).
 */
export async function writeTarget(t: StoreTarget, format: StoreFormat | undefined, variables: readonly Variable[], layout?: unknown, opts: { gzip?: boolean } = {}): Promise<void> {
  if (t.kind === 'postgres') { await withDatabase(t, (db) => db.create(t.vm, variables)); return; }
  if (format === undefined) throw new UsageError(`${t.shown}: no format to write`);
  await saveStoreFile(t.path, format, variables, layout, opts);
}

export async function withDatabase<T>(t: PgVmTarget, body: (db: PgStore) => Promise<T>, readOnly = false): Promise<T> {
  const db = await PgStore.open({ url: t.url, owner: 'uefi-vars cli', readOnly });
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

/** The VM's variables as the database holds them, without taking it over from the daemon serving it. */
export async function readPgVm(t: PgVmTarget): Promise<Variable[]> {
  const found = await withDatabase(t, (db) => db.peek(t.vm), true);
  if (!found) throw new PgStoreError(`postgres: ${t.shown}: no such VM`);
  return found;
}
