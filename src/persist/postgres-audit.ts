import type pg from 'pg';

/**
 * The audit table of a PostgreSQL store (docs/audit.md): one row per audit
 * record, append-only. Rows are never updated or deleted by uefi-vars, and
 * triggers refuse UPDATE, DELETE and TRUNCATE to anyone else too (an owner
 * can still drop the triggers: this guards against mistakes, not the DBA).
 * The record itself is kept whole as jsonb; the columns beside it are what
 * readers filter on. Records are opaque here (persist knows only stores).
 */
export const AUDIT = 'uefi_vars_audit';

export const AUDIT_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${AUDIT} (
     id bigserial PRIMARY KEY,
     vm_id text NOT NULL,
     time timestamptz NOT NULL,
     variable text NOT NULL,
     applied boolean NOT NULL,
     status text NOT NULL,
     record jsonb NOT NULL,
     inserted_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE INDEX IF NOT EXISTS ${AUDIT}_vm ON ${AUDIT} (vm_id, id)`,
  `CREATE OR REPLACE FUNCTION ${AUDIT}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION '${AUDIT} is append-only'; END $$`,
  // Plain CREATE TRIGGER (PostgreSQL 11+): these run only when the table was just made, so no trigger is there yet.
  `CREATE TRIGGER ${AUDIT}_no_change BEFORE UPDATE OR DELETE ON ${AUDIT}
     FOR EACH ROW EXECUTE FUNCTION ${AUDIT}_refuse()`,
  `CREATE TRIGGER ${AUDIT}_no_truncate BEFORE TRUNCATE ON ${AUDIT}
     FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT}_refuse()`,
];

/** What a row needs besides the record: the columns readers filter on. */
export interface AuditRow {
  vm: string;
  /** ISO 8601. */
  time: string;
  variable: string;
  applied: boolean;
  status: string;
  record: object;
}

export interface AuditQuery {
  /** Records at or after this time. */
  since?: Date;
  variable?: string;
  /** Only the last `limit` records that match. */
  limit?: number;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/**
 * Create the audit table if missing, inside the schema transaction `c`. A
 * role that may not create it (tables an administrator made) leaves the store
 * usable: the savepoint undoes the attempt and the reason is returned, and
 * every audit insert then fails visibly (log and metric) instead.
 */
export async function ensureAuditTable(c: pg.PoolClient): Promise<string | undefined> {
  const there = await c.query('SELECT to_regclass($1) IS NOT NULL AS present', [AUDIT]);
  if ((there.rows[0] as { present: boolean }).present) return undefined;
  await c.query('SAVEPOINT audit_schema');
  try {
    for (const sql of AUDIT_SCHEMA) await c.query(sql);
    await c.query('RELEASE SAVEPOINT audit_schema');
    return undefined;
  } catch (e) {
    await c.query('ROLLBACK TO SAVEPOINT audit_schema');
    return (e as Error).message;
  }
}

export async function insertAudit(q: Queryable, row: AuditRow): Promise<void> {
  await q.query(
    `INSERT INTO ${AUDIT} (vm_id, time, variable, applied, status, record) VALUES ($1, $2, $3, $4, $5, $6)`,
    [row.vm, row.time, row.variable, row.applied, row.status, JSON.stringify(row.record)]);
}

/** The VM's records in the order they were written (oldest first). */
export async function selectAudit(q: Queryable, vm: string, query: AuditQuery = {}): Promise<Record<string, unknown>[]> {
  const r = await q.query(
    `SELECT record FROM ${AUDIT}
     WHERE vm_id = $1 AND ($2::timestamptz IS NULL OR time >= $2) AND ($3::text IS NULL OR variable = $3)
     ORDER BY id DESC LIMIT $4`,
    [vm, query.since?.toISOString() ?? null, query.variable ?? null, query.limit ?? null]);
  return r.rows.map((row: { record: Record<string, unknown> }) => row.record).reverse();
}
