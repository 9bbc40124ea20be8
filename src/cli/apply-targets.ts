import { dirname, resolve } from 'node:path';
import { fsyncDir } from '../persist/atomic-file.js';
import { StoreFileError } from '../persist/store-file.js';
import { StoreInUseError } from '../persist/store-lock.js';
import { OwnershipLostError, PgStore, PgStoreError } from '../persist/postgres.js';
import { applyToVariables, type PreparedUpdate, type StoreVerdict } from './apply-store.js';
import type { DeviceOptions } from './args.js';
import { CliAudit, appendToTable, appendToTrail, storeVmName } from './audit-append.js';
import { openTarget, parseStoreTarget, pgVmTarget, stateDirTargets, type FileLikeTarget } from './store-target.js';

/**
 * The stores `uefi-vars apply` writes: store files, every `DIR/<vm>.json` of a
 * state directory, and VMs in PostgreSQL. Each `run` reports one verdict and
 * writes the store back (atomically) only when the verdict is `applied`.
 */
export interface ApplyTarget {
  shown: string;
  /**
   * Check the store and start its write. Resolves once the check is done (and a
   * write slot taken); `done` resolves with the verdict once the store is durable.
   */
  start(u: PreparedUpdate, dev: DeviceOptions, dryRun: boolean, writes: Semaphore): Promise<{ done: Promise<StoreVerdict> }>;
}

/** At most `n` holders at once; waiters are served in order. */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) { this.free = n; }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); else this.free++;
    };
  }
}

const fail = (reason: string): StoreVerdict => ({ outcome: 'error', reason });

/**
 * Group commit of directory fsyncs: a store renamed into place is durable once its
 * directory has been fsynced by a call that started after the rename. Waiters that
 * arrive while one runs share the next one, so N stores in a directory cost far
 * fewer than N directory fsyncs, and none is reported before it is durable.
 */
export class DirSyncer {
  private readonly dirs = new Map<string, { running?: Promise<void>; next?: Promise<void> }>();

  sync(dir: string): Promise<void> {
    let s = this.dirs.get(dir);
    if (!s) { s = {}; this.dirs.set(dir, s); }
    const st = s;
    const start = (): Promise<void> => {
      const p = fsyncDir(dir).finally(() => { if (st.running === p) delete st.running; });
      st.running = p;
      return p;
    };
    if (!st.running) return start();
    if (!st.next) {
      st.next = st.running.catch(() => undefined).then(() => { delete st.next; return start(); });
    }
    return st.next;
  }
}

export class FileTarget implements ApplyTarget {
  readonly shown: string;
  private readonly target: FileLikeTarget;
  /** A store file (a path: what the worker threads are handed) or a state directory's VM. */
  constructor(target: FileLikeTarget | string, private readonly dirs: DirSyncer) {
    this.target = typeof target === 'string' ? { kind: 'file', path: target, shown: target } : target;
    this.shown = this.target.shown;
  }

  async start(u: PreparedUpdate, dev: DeviceOptions, dryRun: boolean, writes: Semaphore): Promise<{ done: Promise<StoreVerdict> }> {
    const path = this.target.path;
    const failed = (e: unknown): StoreVerdict => {
      if (e instanceof StoreFileError) return fail(e.detail);
      if (e instanceof StoreInUseError) return fail(e.message.slice(path.length + 2));
      return fail((e as Error).message);
    };
    try {
      // A daemon serving this store would write its own copy back over ours: openTarget refuses it.
      const loaded = await openTarget(this.target);
      if (loaded.readOnly) return { done: Promise.resolve(fail('an efivarfs directory is read-only here')) };
      const audit = new CliAudit('apply');
      const v = await applyToVariables(loaded.variables, u, dev, dryRun ? undefined : audit);
      const variables = v.variables;
      delete v.variables;
      const trail = async (written: boolean): Promise<void> => { await appendToTrail(path, await audit.entries(undefined, storeVmName(path), written)); };
      if (v.outcome !== 'applied' || dryRun) { await trail(false); return { done: Promise.resolve(v) }; }
      // The write goes on while the next store is checked; the verdict waits for it.
      const release = await writes.acquire();
      const done = (async (): Promise<StoreVerdict> => {
        try {
          await loaded.save(variables!, { syncDir: false });
          await this.dirs.sync(dirname(path));
          await trail(true);
          return v;
        } catch (e) {
          await trail(false);
          return failed(e);
        } finally {
          release();
        }
      })();
      return { done };
    } catch (e) {
      return { done: Promise.resolve(failed(e)) };
    }
  }
}

/**
 * A VM in PostgreSQL. The check runs on a read that takes nothing over; only a
 * VM the update changes is claimed (epoch + 1, as an API write claims it), the
 * update re-run on what the claim read, and saved under the new epoch: a
 * daemon that served the VM can no longer save it (its next write is refused,
 * ownership-lost) and re-reads it at its next HELLO, so no write is lost or
 * mixed with ours. A claim taken by someone else before our save refuses it.
 */
class PgVmTarget implements ApplyTarget {
  constructor(readonly shown: string, private readonly db: PgStore, private readonly vm: string) {}

  async start(u: PreparedUpdate, dev: DeviceOptions, dryRun: boolean): Promise<{ done: Promise<StoreVerdict> }> {
    return { done: Promise.resolve(await this.run(u, dev, dryRun)) };
  }

  private async run(u: PreparedUpdate, dev: DeviceOptions, dryRun: boolean): Promise<StoreVerdict> {
    try {
      const seen = await this.db.peek(this.vm);
      if (!seen) return fail('no such VM');
      const checked = new CliAudit('apply');
      const first = await applyToVariables(seen, u, dev, dryRun ? undefined : checked);
      if (first.outcome !== 'applied' || dryRun) {
        await appendToTable(this.db, this.shown, await checked.entries(undefined, this.vm, false));
        delete first.variables;
        return first;
      }
      const { variables, backend } = await this.db.claim(this.vm);
      const audit = new CliAudit('apply');
      const v = await applyToVariables(variables, u, dev, audit);
      let written = false;
      try {
        if (v.outcome === 'applied') { await backend.save(v.variables!); written = true; }
      } finally {
        // After the save, in a statement of its own (docs/audit.md): the record says whether it happened.
        await appendToTable(this.db, this.shown, await audit.entries(undefined, this.vm, written));
      }
      delete v.variables;
      return v;
    } catch (e) {
      if (e instanceof OwnershipLostError) return fail('taken over by another host during the update; not written');
      if (e instanceof PgStoreError) return fail(e.message);
      return fail((e as Error).message);
    }
  }
}

export interface Targets { targets: ApplyTarget[]; close(): Promise<void> }

/** STORE arguments (files, `postgresql://…/DB#VM`, `…#*`) and `--state-dir DIR` to targets, in order. */
export async function expandTargets(args: readonly string[], stateDirs: readonly string[], jobs: number): Promise<Targets> {
  const targets: ApplyTarget[] = [];
  const dirs = new DirSyncer();
  // A store named twice (a glob and a state directory overlapping) is applied once: two
  // concurrent writers of one file would each write the other's starting point back.
  const seen = new Set<string>();
  const file = (t: FileLikeTarget): void => {
    const key = resolve(t.path);
    if (!seen.has(key)) { seen.add(key); targets.push(new FileTarget(t, dirs)); }
  };
  const dbs = new Map<string, PgStore>();
  const close = async (): Promise<void> => { await Promise.all([...dbs.values()].map((d) => d.close().catch(() => undefined))); };
  try {
    for (const a of args) {
      const t = parseStoreTarget(a, { allVms: true });
      if (t.kind !== 'postgres') { file(t); continue; }
      const { url, vm } = t;
      let db = dbs.get(url);
      if (!db) { db = await PgStore.open({ url, owner: 'uefi-vars apply', maxConnections: Math.max(1, Math.min(jobs, 8)) }); dbs.set(url, db); }
      const vms = vm === '*' ? (await db.list()).map((r) => r.vmId) : [vm];
      for (const id of vms) {
        if (seen.has(`${url}#${id}`)) continue;
        seen.add(`${url}#${id}`);
        targets.push(new PgVmTarget(pgVmTarget(url, id).shown, db, id));
      }
    }
    for (const dir of stateDirs) for (const t of await stateDirTargets(dir)) file(t);
  } catch (e) {
    await close();
    throw e;
  }
  return { targets, close };
}
