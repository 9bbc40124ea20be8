import { isPostgresUrl, parseStoreTarget, type PgVmTarget } from './store-target.js';

/**
 * Kept for code written before StoreTarget (store-target.ts): a command takes
 * its STORE with parseStoreTarget and reads or opens it there.
 * @deprecated use parseStoreTarget / readTarget.
 */
export type PgTarget = PgVmTarget;

/** @deprecated use parseStoreTarget (kind 'postgres'). */
export function pgTarget(arg: string): PgTarget | undefined {
  if (!isPostgresUrl(arg)) return undefined;
  return parseStoreTarget(arg) as PgVmTarget;
}

export { withDatabase, readPgVm } from './store-target.js';
