import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VariableService } from '../../service/variable-service.js';
import type { ServiceOptions } from '../../service/options.js';
import { loadStoreFile, FileBackend, StoreFileError } from '../../persist/store-file.js';
import { stateDirStorePath, vmOfStateFile } from '../../persist/state-dir.js';
import { PgStore, PgStoreError, type PgBackend } from '../../persist/postgres.js';
import { removeStaleTemps } from '../../persist/atomic-file.js';
import { quotaFilePath, loadQuotaFile } from './quota-file.js';
import type { StoreBackend } from '../../store/backend.js';
import type { Variable } from '../../store/variable.js';
import { VM_ID_PATTERN } from '../protocol/frames.js';
import { TokenBucket, AsyncMutex, type RateLimit } from './limits.js';
import type { AuthVerifier } from '../../auth/verifier.js';

/** Where the daemon keeps stores: one file for one VM, or one file per VM in a directory. */
export type StoreLayout =
  | { kind: 'single'; path: string }
  | { kind: 'dir'; dir: string }
  /** No store files: every VM's NV variables live in memory only, as QEMU without `jsonfile`. */
  | { kind: 'memory' }
  /** One PostgreSQL database for many daemons (persist/postgres.ts); `owner` names this daemon there. */
  | { kind: 'postgres'; url: string; owner: string };

/** The id a single-store daemon reports for its one VM. */
export const SINGLE_VM_ID = 'default';

/** One VM: its service, its store file and its admission state. Lives as long as the daemon. */
export class VmEntry {
  readonly bucket: TokenBucket;
  readonly deviceLock = new AsyncMutex();
  /** MM operations admitted and not yet answered (limits.ts). */
  inFlight = 0;
  connections = 0;

  constructor(
    readonly id: string,
    readonly storePath: string,
    readonly service: VariableService,
    readonly backend: FileBackend | PgBackend | undefined,
    rate: RateLimit,
    /** False for a read-only look at a store this daemon does not serve (view()). */
    readonly loaded = true,
  ) {
    this.bucket = new TokenBucket(rate);
  }
}

export type VmErrorReason = 'bad-vm-id' | 'vm-not-found' | 'store-unavailable';

export class VmError extends Error {
  override readonly name = 'VmError';
  constructor(readonly reason: VmErrorReason, message: string) {
    super(message);
  }
}

export interface RegistryConfig {
  layout: StoreLayout;
  options: Partial<ServiceOptions>;
  rateLimit: RateLimit;
  /** Where every VM's signature checks run (verify-pool.ts); the event loop when absent. */
  verifier?: AuthVerifier;
  /** `--lenient-json`: load JSON stores as QEMU does; called once per repaired field. */
  lenientJson?: (vmId: string, warning: string) => void;
  /** Called once per VM after its store is loaded (logs, metrics). */
  onLoad?: (vm: VmEntry) => void;
  /** Called when a VM's store could not be written (the write was refused and undone). */
  onSaveError?: (vmId: string, error: Error) => void;
}

export interface VmSummary {
  id: string;
  loaded: boolean;
  storePath: string;
  /** PostgreSQL: the daemon that loaded the VM last (`--owner`), where it runs. */
  owner?: string;
}

/**
 * The VMs the daemon serves. Stores are loaded on first use and then kept in
 * memory, one VariableService each; concurrent first uses share one load, so
 * a VM can never end up with two services writing one file.
 */
export class VmRegistry {
  private readonly vms = new Map<string, Promise<VmEntry>>();
  private readonly ready = new Map<string, VmEntry>();
  /**
   * The database (postgres layout). It exists from construction: the data
   * socket listens before open() connects, and a hello that comes meanwhile
   * waits for the connection instead of failing.
   */
  private pg: Promise<PgStore> | undefined;
  private settlePg: ((db: Promise<PgStore>) => void) | undefined;

  constructor(private readonly config: RegistryConfig) {
    if (config.layout.kind === 'postgres') {
      this.pg = new Promise<PgStore>((resolve) => { this.settlePg = resolve; });
      this.pg.catch(() => undefined); // a failed connection is reported by open()
    }
  }

  get layout(): StoreLayout { return this.config.layout; }

  /**
   * Map a client-supplied id to the VM it reaches, or undefined if the id is
   * not acceptable. With one store every valid id reaches that store's VM.
   */
  resolveId(id: string): string | undefined {
    if (!VM_ID_PATTERN.test(id)) return undefined;
    return this.config.layout.kind === 'single' ? SINGLE_VM_ID : id;
  }

  /**
   * Load the single store now, so a store that does not parse stops the daemon
   * before it listens; or make sure the state directory exists (private: the
   * stores may hold keys and secrets).
   */
  async open(): Promise<void> {
    const layout = this.config.layout;
    if (layout.kind === 'single') { await this.get(SINGLE_VM_ID, true); return; }
    if (layout.kind === 'memory') return;
    if (layout.kind === 'postgres') {
      this.settlePg?.(PgStore.open({ url: layout.url, owner: layout.owner }).catch((e: Error) => { throw new VmError('store-unavailable', e.message); }));
      this.settlePg = undefined;
      await this.pg;
      return;
    }
    await makeStateDir(layout.dir);
  }

  /** Let go of the database (after the last request is answered). */
  async close(): Promise<void> {
    // Never opened (the daemon failed before): nothing to close, and nobody may wait for it.
    this.settlePg?.(Promise.reject(new VmError('store-unavailable', 'postgres: not connected')));
    this.settlePg = undefined;
    const pg = this.pg;
    this.pg = undefined;
    await (await pg?.catch(() => undefined))?.close();
  }

  /**
   * A hello for a PostgreSQL VM that no connection holds: the VM may have run
   * on another host since this daemon loaded it, so forget what is in memory;
   * the next get() claims it again and reads what that host saved.
   */
  forgetIdle(id: string): void {
    const key = this.resolveId(id);
    if (key === undefined || this.config.layout.kind !== 'postgres') return;
    const vm = this.ready.get(key);
    if (!vm || vm.connections > 0 || vm.inFlight > 0) return;
    this.ready.delete(key);
    this.vms.delete(key);
  }

  /**
   * The VM for `id`. `create` (a hello) makes a missing store; without it (the
   * management API) a VM without a store file is not found.
   */
  async get(id: string, create: boolean): Promise<VmEntry> {
    const key = this.resolveId(id);
    if (key === undefined) throw new VmError('bad-vm-id', `VM id ${JSON.stringify(id.slice(0, 80))} is not [A-Za-z0-9._-]{1,64} without a leading dot`);
    const known = this.vms.get(key);
    if (known) return known;
    const path = this.storePath(key);
    if (!create && !(await this.stored(key, path))) throw new VmError('vm-not-found', `no VM ${key}`);
    // Re-check: another caller may have started the load while we looked at the file.
    const raced = this.vms.get(key);
    if (raced) return raced;
    const loading = this.load(key, path);
    this.vms.set(key, loading);
    // A failed load is forgotten, so fixing the file and reconnecting works without a restart.
    loading.catch(() => { if (this.vms.get(key) === loading) this.vms.delete(key); });
    return loading;
  }

  /**
   * The VM for reading only (management API GETs). With PostgreSQL, a VM this
   * daemon has not loaded is read as it stands in the database, without
   * taking it over from the host that runs it, and not kept; otherwise as get().
   */
  async view(id: string): Promise<VmEntry> {
    const key = this.resolveId(id);
    if (this.config.layout.kind !== 'postgres' || key === undefined || this.vms.has(key)) return this.get(id, false);
    let variables: Variable[] | undefined;
    try {
      variables = await (await this.database()).peek(key);
    } catch (e) {
      throw e instanceof VmError ? e : new VmError('store-unavailable', (e as Error).message);
    }
    if (!variables) throw new VmError('vm-not-found', `no VM ${key}`);
    const service = await VariableService.create({ variables, options: this.config.options, ...this.verifierInit() });
    return new VmEntry(key, this.storePath(key), service, undefined, this.config.rateLimit, false);
  }

  /** VMs with a loaded service, in load order. */
  loaded(): VmEntry[] {
    return [...this.ready.values()];
  }

  /** Every VM the daemon can serve without creating one: loaded ones and, with --state-dir, stored ones. */
  async list(): Promise<VmSummary[]> {
    const out = new Map<string, VmSummary>();
    for (const vm of this.ready.values()) out.set(vm.id, { id: vm.id, loaded: true, storePath: vm.storePath });
    const layout = this.config.layout;
    if (layout.kind === 'dir') {
      for (const f of await readdir(layout.dir).catch(() => [] as string[])) {
        const id = vmOfStateFile(f);
        if (id === undefined) continue;
        if (this.resolveId(id) === id && !out.has(id)) out.set(id, { id, loaded: false, storePath: join(layout.dir, f) });
      }
    }
    if (layout.kind === 'postgres') {
      for (const row of await (await this.database()).list()) {
        if (this.resolveId(row.vmId) !== row.vmId) continue;
        const here = out.get(row.vmId);
        out.set(row.vmId, here ? { ...here, owner: row.owner } : { id: row.vmId, loaded: false, storePath: this.storePath(row.vmId), owner: row.owner });
      }
    }
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private storePath(key: string): string {
    const layout = this.config.layout;
    if (layout.kind === 'memory') return '(memory)';
    if (layout.kind === 'postgres') return `postgres:${key}`;
    return layout.kind === 'single' ? resolve(layout.path) : stateDirStorePath(resolve(layout.dir), key);
  }

  /** Does a VM have a store already (the API reaches only those)? */
  private async stored(key: string, path: string): Promise<boolean> {
    switch (this.config.layout.kind) {
      case 'memory': return false;
      case 'postgres':
        try {
          return await (await this.database()).exists(key);
        } catch (e) {
          throw e instanceof VmError ? e : new VmError('store-unavailable', `postgres: ${(e as Error).message}`);
        }
      default: return fileExists(path);
    }
  }

  /** The database (postgres layout), for the audit table too. */
  database(): Promise<PgStore> {
    return this.pg ?? Promise.reject(new VmError('store-unavailable', 'postgres: not connected'));
  }

  /** The backend as the service sees it: failures are reported (logs) before the service undoes the write. */
  private reporting(id: string, backend: StoreBackend): StoreBackend {
    const report = this.config.onSaveError;
    if (!report) return backend;
    return { save: (nv: readonly Variable[]) => backend.save(nv).catch((e: Error) => { report(id, e); throw e; }) };
  }

  private verifierInit(): { verifier?: AuthVerifier } {
    return this.config.verifier ? { verifier: this.config.verifier } : {};
  }

  private async load(id: string, path: string): Promise<VmEntry> {
    if (this.config.layout.kind === 'memory') {
      const service = await VariableService.create({ options: this.config.options, ...this.verifierInit() });
      return this.admit(new VmEntry(id, path, service, undefined, this.config.rateLimit));
    }
    if (this.config.layout.kind === 'postgres') {
      try {
        const { variables, backend } = await (await this.database()).claim(id);
        const service = await VariableService.create({ variables, backend: this.reporting(id, backend), options: this.config.options, ...this.verifierInit() });
        return this.admit(new VmEntry(id, path, service, backend, this.config.rateLimit));
      } catch (e) {
        if (e instanceof VmError) throw e;
        throw new VmError('store-unavailable', e instanceof PgStoreError ? e.message : `${path}: ${(e as Error).message}`);
      }
    }
    let loaded;
    // A daemon killed mid-save left its temp file: gone before this one saves (persist/atomic-file.ts).
    await removeStaleTemps(path);
    try {
      const lenient = this.config.lenientJson;
      loaded = await loadStoreFile(path, { missing: 'empty', ...(lenient ? { lenientJson: true, warn: (line: string) => lenient(id, line) } : {}) });
    } catch (e) {
      throw new VmError('store-unavailable', (e as Error).message);
    }
    let backend: FileBackend;
    let service: VariableService;
    try {
      backend = FileBackend.for(loaded);
      // create() runs the machine-start reset, which writes the store: a missing file now exists.
      service = await VariableService.create({ variables: loaded.variables, backend: this.reporting(id, backend), options: this.config.options, ...this.verifierInit() });
      // The operator's quota comes with the VM (quota-file.ts); one that does not parse keeps the VM from loading.
      const quotaFile = quotaFilePath(this.config.layout, id);
      if (quotaFile && quotaFile !== 'unsupported') await service.setQuota(await loadQuotaFile(quotaFile));
    } catch (e) {
      throw new VmError('store-unavailable', e instanceof StoreFileError ? e.message : `${path}: ${(e as Error).message}`);
    }
    return this.admit(new VmEntry(id, path, service, backend, this.config.rateLimit));
  }

  private admit(vm: VmEntry): VmEntry {
    this.ready.set(vm.id, vm);
    this.config.onLoad?.(vm);
    return vm;
  }
}

/** The state directory, created private (the stores may hold keys and secrets) if missing. */
export async function makeStateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new VmError('store-unavailable', `${dir}: cannot create the state directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
