import { basename } from 'node:path';
import type { VariableService } from '../service/variable-service.js';
import { auditedVariable, beginHostAudit, type AuditRecord } from '../service/audit.js';
import { initializeAuthVariables } from '../auth/init.js';
import { VariableStore } from '../store/store.js';
import type { Variable } from '../store/variable.js';
import { bytesEqual } from '../wire/hex.js';
import { nameKey } from '../wire/ucs2.js';
import { EfiStatus } from '../wire/status.js';
import { appendAuditLine, auditFilePath } from '../persist/audit-file.js';
import type { PgStore } from '../persist/postgres.js';
import { auditEntry, type AuditEntry, type AuditVia } from '../daemon/server/audit-sink.js';
import { err } from './io.js';

/**
 * The CLI's side of the audit trail (docs/audit.md): commands that change
 * Secure Boot variables of a store (set, delete, enroll, apply) append host
 * records to the same trail the daemon writes, once they know whether the
 * store was written. A record the service called applied, in a store the
 * command did not write after all, is recorded as not applied.
 */

/** The VM a store file stands for: its file name without the format's extension (a --state-dir VM's id). */
export function storeVmName(storePath: string): string {
  const base = basename(storePath).replace(/\.gz$/i, '');
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Records of one CLI service, held until the command knows the store's fate. */
export class CliAudit {
  private readonly records: AuditRecord[] = [];

  constructor(private readonly via: AuditVia) {}

  add(records: readonly AuditRecord[]): this {
    this.records.push(...records);
    return this;
  }

  watch(svc: VariableService): this {
    svc.onAudit = (r) => { this.records.push(r); };
    return this;
  }

  /** The entries for `vm`; `written` false: nothing the service applied reached the store. */
  async entries(svc: VariableService | undefined, vm: string, written: boolean): Promise<AuditEntry[]> {
    await svc?.flushAudit();
    return this.records.splice(0).map((r) => hostEntry(r, vm, this.via, written));
  }
}

function hostEntry(r: AuditRecord, vm: string, via: AuditVia, written: boolean): AuditEntry {
  // A CLI write is the host's, even when it took the guest path (set, delete, apply): the signer stays what the service saw.
  const e = auditEntry({ ...r, source: 'host' }, vm, via);
  if (written || !e.applied) return e;
  return { ...e, applied: false, reason: 'store-not-written', newSha256: e.oldSha256, modeAfter: e.modeBefore };
}

/** Append to a store file's trail; a failure is told on stderr (the store write stands) and returned. */
export async function appendToTrail(storePath: string, entries: readonly AuditEntry[]): Promise<boolean> {
  const path = auditFilePath(storePath);
  try {
    for (const e of entries) await appendAuditLine(path, e);
    return true;
  } catch (e) {
    err(`uefi-vars: ${path}: audit record not written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the store write stands`);
    return false;
  }
}

/** The same into a PostgreSQL VM's audit table. */
export async function appendToTable(db: PgStore, shown: string, entries: readonly AuditEntry[]): Promise<boolean> {
  try {
    for (const e of entries) await db.appendAudit({ vm: e.vm, time: e.time, variable: e.variable, applied: e.applied, status: e.status, record: e });
    return true;
  } catch (e) {
    err(`uefi-vars: ${shown}: audit record not written (${(e as Error).message}); the store write stands`);
    return false;
  }
}

/**
 * Host records for a change computed without the service (enroll): one per
 * audited variable whose attributes or data differ between `before` and
 * `after`, with the platform mode each store would start in (auth/init.ts).
 */
export async function diffRecords(before: readonly Variable[], after: readonly Variable[]): Promise<AuditRecord[]> {
  const a = new VariableStore(before);
  const b = new VariableStore(after);
  const modeOf = (vars: readonly Variable[]): ReturnType<typeof initializeAuthVariables> =>
    initializeAuthVariables(new VariableStore(vars), { forceSecureBoot: false });
  const sbBefore = modeOf(before), sbAfter = modeOf(after);
  const seen = new Set<string>();
  const out: AuditRecord[] = [];
  for (const v of [...before, ...after]) {
    const key = `${v.guid}/${nameKey(v.name)}`;
    if (seen.has(key) || !auditedVariable(v.guid, v.name)) continue;
    seen.add(key);
    const old = a.get(v.guid, v.name), now = b.get(v.guid, v.name);
    if (old && now && old.attributes === now.attributes && bytesEqual(old.data, now.data)) continue;
    const pending = beginHostAudit(v.guid, v.name, now?.data, now?.attributes ?? 0, a, sbBefore)!;
    out.push(await pending.finish(b, sbAfter, EfiStatus.SUCCESS, undefined));
  }
  return out;
}
