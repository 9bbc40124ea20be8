import type { Logger } from 'pino';
import { AUDITED_VARIABLES, type AuditRecord } from '../../service/audit.js';
import { appendAuditLine, auditFilePath, readAuditFile } from '../../persist/audit-file.js';
import type { PgStore } from '../../persist/postgres.js';
import type { DaemonMetrics } from '../metrics/metrics.js';
import type { StoreLayout, VmEntry } from './registry.js';

/**
 * Where the audit records of Secure Boot changes go (docs/audit.md). The pure
 * service builds each record (service/audit.ts); here it gets the VM's name
 * and what made the change, and goes to the log (one structured line), to
 * /metrics, and to the VM's append-only trail: the file beside its store, the
 * audit table with PostgreSQL, or (--memory) the last records in memory. The
 * trail is written after the store write it records, in record order; a trail
 * that cannot be written is logged and counted and never touches the store.
 */

/** What made the change: a guest request through the daemon, the management API, or a CLI command. */
export type AuditVia = 'guest' | 'api' | 'set' | 'delete' | 'enroll' | 'apply';

export interface AuditEntry extends AuditRecord {
  vm: string;
  via: AuditVia;
}

export function auditEntry(r: AuditRecord, vm: string, via: AuditVia): AuditEntry {
  // vm and via first, for people reading the file.
  return Object.assign({ vm, via }, r, { vm, via });
}

export interface AuditFilter {
  /** Records whose time is at or after this. */
  since?: Date;
  variable?: string;
  /** The last `limit` matching records only. */
  limit?: number;
}

/** Does a stored record (as read back, so checked field by field) pass the filter? */
export function auditMatches(r: { variable?: unknown; time?: unknown }, f: AuditFilter): boolean {
  if (f.variable !== undefined && r.variable !== f.variable) return false;
  if (f.since !== undefined) {
    const t = typeof r.time === 'string' ? Date.parse(r.time) : NaN;
    if (!(t >= f.since.getTime())) return false;
  }
  return true;
}

/** Records kept per VM with --memory (no file, no table): the most recent ones. */
export const MEMORY_AUDIT_RECORDS = 1000;

export interface AuditSinkConfig {
  logger: Logger;
  metrics: DaemonMetrics;
  layout: StoreLayout;
  database: () => Promise<PgStore>;
}

export class AuditSinks {
  /** Per VM id, the write of its last record: the next waits for it, so the trail keeps record order. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly memory = new Map<string, AuditEntry[]>();

  constructor(private readonly config: AuditSinkConfig) {}

  /** Send every audit record of this VM's service here. */
  attach(vm: VmEntry): void {
    vm.service.onAudit = (r) => this.accept(vm, auditEntry(r, vm.id, r.source === 'guest' ? 'guest' : 'api'));
  }

  private accept(vm: VmEntry, e: AuditEntry): void {
    const { logger, metrics } = this.config;
    const result = e.applied ? 'applied' : 'refused';
    metrics.auditRecords.inc({ vm: e.vm, variable: e.variable, result });
    // Nested: the record's own `time` must not collide with the log line's.
    (e.applied ? logger.info.bind(logger) : logger.warn.bind(logger))({ vm: e.vm, audit: e }, 'secure boot change audited');
    const prev = this.queues.get(e.vm) ?? Promise.resolve();
    const next = prev.then(() => this.write(vm, e));
    this.queues.set(e.vm, next);
    void next.finally(() => { if (this.queues.get(e.vm) === next) this.queues.delete(e.vm); });
  }

  private async write(vm: VmEntry, e: AuditEntry): Promise<void> {
    const layout = this.config.layout;
    if (layout.kind === 'memory') {
      const list = this.memory.get(e.vm) ?? [];
      list.push(e);
      if (list.length > MEMORY_AUDIT_RECORDS) list.splice(0, list.length - MEMORY_AUDIT_RECORDS);
      this.memory.set(e.vm, list);
      return;
    }
    const sink = layout.kind === 'postgres' ? 'postgres' : 'file';
    try {
      if (layout.kind === 'postgres') {
        await (await this.config.database()).appendAudit({ vm: e.vm, time: e.time, variable: e.variable, applied: e.applied, status: e.status, record: e });
      } else {
        await appendAuditLine(auditFilePath(vm.storePath), e);
      }
    } catch (err) {
      this.config.metrics.auditWriteFailures.inc({ sink });
      this.config.logger.error({ vm: e.vm, sink, variable: e.variable, err: (err as Error).message },
        'audit record not written (the store write it records stands)');
    }
  }

  /** Resolves once every record of the requests answered so far is in its trail (or has failed to be). */
  async drain(vms: readonly VmEntry[]): Promise<void> {
    await Promise.all(vms.map((vm) => vm.service.flushAudit()));
    await Promise.all([...this.queues.values()]);
  }

  /**
   * The VM's trail, oldest first, filtered; `skipped` counts lines of the file
   * that are not records (a torn last line after a crash).
   */
  async read(vm: VmEntry, filter: AuditFilter): Promise<{ records: Record<string, unknown>[]; skipped: number }> {
    await this.queues.get(vm.id); // what this daemon has accepted is readable at once
    const layout = this.config.layout;
    if (layout.kind === 'memory') return { records: lastOf((this.memory.get(vm.id) ?? []).filter((r) => auditMatches(r, filter)) as unknown as Record<string, unknown>[], filter.limit), skipped: 0 };
    if (layout.kind === 'postgres') return { records: await (await this.config.database()).auditRecords(vm.id, filter), skipped: 0 };
    const out: Record<string, unknown>[] = [];
    let skipped = 0;
    for await (const l of readAuditFile(auditFilePath(vm.storePath))) {
      if ('problem' in l) { skipped++; continue; }
      if (!auditMatches(l.record, filter)) continue;
      out.push(l.record);
      if (filter.limit !== undefined && out.length > filter.limit * 2) out.splice(0, out.length - filter.limit);
    }
    return { records: lastOf(out, filter.limit), skipped };
  }
}

function lastOf<T>(list: T[], limit: number | undefined): T[] {
  return limit === undefined || list.length <= limit ? list : list.slice(list.length - limit);
}

/** Records an API answer holds at most (`?limit=`, default DEFAULT_API_AUDIT_LIMIT). */
export const MAX_API_AUDIT_LIMIT = 100_000;
export const DEFAULT_API_AUDIT_LIMIT = 1000;

/** `GET /vms/ID/audit?since=TIME&variable=NAME&limit=N` to a filter, or what is wrong with the query. */
export function auditQuery(q: URLSearchParams): AuditFilter | string {
  const f: AuditFilter = { limit: DEFAULT_API_AUDIT_LIMIT };
  const since = q.get('since');
  if (since !== null) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) return `since: not a time (ISO 8601): ${JSON.stringify(since.slice(0, 60))}`;
    f.since = new Date(t);
  }
  const variable = q.get('variable');
  if (variable !== null) {
    if (!(AUDITED_VARIABLES as readonly string[]).includes(variable)) return `variable: one of ${AUDITED_VARIABLES.join(', ')}`;
    f.variable = variable;
  }
  const limit = q.get('limit');
  if (limit !== null) {
    const n = /^\d{1,7}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_API_AUDIT_LIMIT)) return `limit: 1..${MAX_API_AUDIT_LIMIT}`;
    f.limit = n;
  }
  return f;
}
