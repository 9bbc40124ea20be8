import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsyncDir } from '../persist/atomic-file.js';
import { loadStoreFile, saveStoreFile, StoreFileError } from '../persist/store-file.js';
import { assertStoreFree, StoreInUseError } from '../persist/store-lock.js';
import { OwnershipLostError, PgStore, PgStoreError } from '../persist/postgres.js';
import { VM_ID_PATTERN } from '../daemon/frames.js';
import { redactUrl } from '../persist/postgres.js';
import { applyToVariables, type PreparedUpdate, type StoreVerdict } from './apply-store.js';
import { UsageError, type DeviceOptions } from './args.js';
import { CliAudit, appendToTable, appendToTrail, storeVmName } from './audit-append.js';

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
  constructor(readonly shown: string, private readonly dirs: DirSyncer) {}

  async start(u: PreparedUpdate, dev: DeviceOptions, dryRun: boolean, writes: Semaphore): Promise<{ done: Promise<StoreVerdict> }> {
    const path = this.shown;
    const failed = (e: unknown): StoreVerdict => {
      if (e instanceof StoreFileError) return fail(e.detail);
      if (e instanceof StoreInUseError) return fail(e.message.slice(path.length + 2));
      return fail((e as Error).message);
    };
    try {
      // A daemon serving this store would write its own copy back over ours.
      await assertStoreFree(path);
      const loaded = await loadStoreFile(path);
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
          await saveStoreFile(path, loaded.format, variables!, loaded.layout, { gzip: loaded.gzip ?? false, syncDir: false });
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
  const file = (path: string): void => {
    const key = resolve(path);
    if (!seen.has(key)) { seen.add(key); targets.push(new FileTarget(path, dirs)); }
  };
  const dbs = new Map<string, PgStore>();
  const close = async (): Promise<void> => { await Promise.all([...dbs.values()].map((d) => d.close().catch(() => undefined))); };
  try {
    for (const a of args) {
      if (!/^postgres(ql)?:\/\//i.test(a)) { file(a); continue; }
      const hash = a.lastIndexOf('#');
      const url = hash < 0 ? a : a.slice(0, hash);
      const vm = hash < 0 ? '' : a.slice(hash + 1);
      if (vm !== '*' && !VM_ID_PATTERN.test(vm)) throw new UsageError(`${redactUrl(url)}: name the VM after a '#' (…/DB#VM, or #* for every VM)`);
      let db = dbs.get(url);
      if (!db) { db = await PgStore.open({ url, owner: 'uefi-vars apply', maxConnections: Math.max(1, Math.min(jobs, 8)) }); dbs.set(url, db); }
      const vms = vm === '*' ? (await db.list()).map((r) => r.vmId) : [vm];
      for (const id of vms) {
        if (seen.has(`${url}#${id}`)) continue;
        seen.add(`${url}#${id}`);
        targets.push(new PgVmTarget(`${redactUrl(url)}#${id}`, db, id));
      }
    }
    for (const dir of stateDirs) {
      let names: string[];
      try { names = await readdir(dir); } catch (e) { throw new UsageError(`${dir}: cannot read the state directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
      for (const f of names.filter((n) => n.endsWith('.json') && VM_ID_PATTERN.test(n.slice(0, -5))).sort()) file(join(dir, f));
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { targets, close };
}
