import { PgStore, PgStoreError, redactUrl } from '../persist/postgres.js';
import { VM_ID_PATTERN } from '../daemon/frames.js';
import type { Variable } from '../store/variable.js';
import { UsageError } from './args.js';

/**
 * A VM in a PostgreSQL store, named `postgresql://…/DB#VM` where a command
 * takes a store (docs/cli.md, Arguments). `shown` is the name without the
 * password, for every line the CLI prints.
 */
export interface PgTarget { url: string; vm: string; shown: string }

export function pgTarget(arg: string): PgTarget | undefined {
  if (!/^postgres(ql)?:\/\//i.test(arg)) return undefined;
  const hash = arg.lastIndexOf('#');
  const vm = hash < 0 ? '' : arg.slice(hash + 1);
  const url = hash < 0 ? arg : arg.slice(0, hash);
  if (!VM_ID_PATTERN.test(vm)) throw new UsageError(`${redactUrl(url)}: name the VM after a '#' (postgresql://HOST/DB#VM, VM as in docs/protocol.md)`);
  return { url, vm, shown: `${redactUrl(url)}#${vm}` };
}

export async function withDatabase<T>(t: PgTarget, body: (db: PgStore) => Promise<T>, readOnly = false): Promise<T> {
  const db = await PgStore.open({ url: t.url, owner: 'uefi-vars cli', readOnly });
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

/** The VM's variables as the database holds them, without taking it over from the daemon serving it. */
export async function readPgVm(t: PgTarget): Promise<Variable[]> {
  const found = await withDatabase(t, (db) => db.peek(t.vm), true);
  if (!found) throw new PgStoreError(`postgres: ${t.shown}: no such VM`);
  return found;
}
