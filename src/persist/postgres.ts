import type pg from 'pg';

/**
 * node-postgres is an optional peer dependency: only the PostgreSQL store needs
 * it, so it is loaded when a database is first opened.
 */
let pgLib: typeof pg | undefined;
async function loadPg(): Promise<typeof pg> {
  try {
    return (await import('pg')).default;
  } catch {
    throw new PgStoreError('the PostgreSQL store needs the "pg" package: npm install pg');
  }
}
/** PostgreSQL's own error class, once the driver is loaded (no driver, no such error). */
function isDatabaseError(e: unknown): e is pg.DatabaseError {
  return pgLib !== undefined && e instanceof pgLib.DatabaseError;
}
import { isGuidText } from '../wire/guid.js';
import { checkName, displayName } from '../wire/ucs2.js';
import { Attr } from '../wire/attributes.js';
import { makeVariable, type Variable } from '../store/variable.js';
import type { StoreBackend } from '../store/backend.js';
import { ensureAuditTable, insertAudit, selectAudit, type AuditRow, type AuditQuery } from './postgres-audit.js';

/**
 * PostgreSQL stores, for fleets whose VMs move between hosts (DESIGN.md,
 * Persistence). One row per VM says who owns it and counts its saves (the
 * generation); one row per NV variable carries a sequence number, and the
 * store's order is the order of those numbers. A save is one statement: it
 * bumps the generation, deletes the rows of variables that were removed or
 * replaced and inserts the new ones, so it happens whole or not at all, and a
 * boot's writes cost a row each, not the whole store (dbx alone is ~25 KB).
 *
 * Ownership is a fencing token: a daemon that loads a VM bumps its `epoch`
 * and remembers it, and every save is conditional on that epoch. When the VM
 * has moved (another host loaded it since), the old host's save matches no
 * row and is refused with OwnershipLostError; nothing of it is written.
 * Schema and rules: docs/formats.md, "PostgreSQL".
 */

/** Problems with the database itself: connection, schema, rows we cannot use. One line each. */
export class PgStoreError extends Error {
  override readonly name = 'PgStoreError';
}

/** A save by a daemon that no longer owns the VM (it was loaded elsewhere since). */
export class OwnershipLostError extends Error {
  override readonly name = 'OwnershipLostError';
  constructor(readonly vmId: string, readonly owner: string | undefined) {
    super(`VM ${vmId}: ${owner !== undefined ? `now owned by ${owner}` : 'no longer in the database'}; this daemon's write was refused`);
  }
}

const VMS = 'uefi_vars_vm';
const VARS = 'uefi_vars_variable';
/** SQLSTATE 42P01: the tables are not there. */
const UNDEFINED_TABLE = '42P01';
/** Serializes schema creation between daemons starting together (CREATE ... IF NOT EXISTS races). */
const SCHEMA_LOCK_KEY = 0x75656669; // "uefi"

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${VMS} (
     vm_id text PRIMARY KEY,
     owner text NOT NULL,
     epoch bigint NOT NULL,
     generation bigint NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS ${VARS} (
     vm_id text NOT NULL REFERENCES ${VMS} (vm_id) ON DELETE CASCADE,
     seq bigint NOT NULL,
     guid uuid NOT NULL,
     name bytea NOT NULL,
     display_name text NOT NULL,
     attributes bigint NOT NULL,
     data bytea NOT NULL,
     time bytea NOT NULL,
     digest bytea,
     PRIMARY KEY (vm_id, seq))`,
];

export interface PgStoreOptions {
  /** libpq-style URL; empty: the PG* environment variables (PGHOST, PGDATABASE, ...). */
  url: string;
  /** Who this daemon is, recorded with every VM it loads (shown to the host that loses it). */
  owner: string;
  /** At most this many connections (default 4: saves of different VMs run side by side). */
  maxConnections?: number;
  /** Only reading (print, get, export): connect, but create no tables. */
  readOnly?: boolean;
}

export interface PgVmRow { vmId: string; owner: string }

/** The database: schema, listing, and claiming VMs. */
export class PgStore {
  /** Why the audit table could not be created (a role without CREATE), if it could not. */
  auditUnavailable: string | undefined;

  private constructor(private readonly pool: pg.Pool, readonly owner: string) {}

  /** Connect and create the tables if missing. Throws PgStoreError naming the problem. */
  static async open(opts: PgStoreOptions): Promise<PgStore> {
    pgLib ??= await loadPg();
    const pool = new pgLib.Pool({ ...(opts.url ? { connectionString: opts.url } : {}), max: opts.maxConnections ?? 4, connectionTimeoutMillis: 10_000 });
    // An idle connection the server drops must not take the daemon down.
    pool.on('error', () => undefined);
    const store = new PgStore(pool, opts.owner);
    try {
      await store.transaction(async (c) => {
        if (opts.readOnly) { await c.query('SELECT 1'); return; }
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
        // Tables an administrator made are used as they are: a role that may only read and
        // write them could not even run CREATE TABLE IF NOT EXISTS.
        const there = await c.query('SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS present', [VMS, VARS]);
        if (!(there.rows[0] as { present: boolean }).present) for (const sql of SCHEMA) await c.query(sql);
        // Added after the first schema: a database made by an older uefi-vars gets it here.
        store.auditUnavailable = await ensureAuditTable(c);
      });
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new PgStoreError(`postgres: ${describe(e)}`);
    }
    return store;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Append one audit record (persist/postgres-audit.ts); its own statement, after the store write it records. */
  async appendAudit(row: AuditRow): Promise<void> {
    await insertAudit(this.pool, row);
  }

  /** A VM's audit records, oldest first; none when no daemon ever used this database. */
  async auditRecords(vmId: string, query?: AuditQuery): Promise<Record<string, unknown>[]> {
    try {
      return await selectAudit(this.pool, vmId, query);
    } catch (e) {
      if (isDatabaseError(e) && e.code === UNDEFINED_TABLE) return [];
      throw new PgStoreError(`postgres: VM ${vmId}: audit: ${describe(e)}`);
    }
  }

  async exists(vmId: string): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM ${VMS} WHERE vm_id = $1`, [vmId]);
    return r.rowCount === 1;
  }

  async list(): Promise<PgVmRow[]> {
    const r = await this.pool.query(`SELECT vm_id, owner FROM ${VMS} ORDER BY vm_id`);
    return r.rows.map((row: Record<string, unknown>) => ({ vmId: String(row.vm_id), owner: String(row.owner) }));
  }

  /**
   * Take the VM over (creating it, empty, if missing) and read its current
   * variables. Whoever owned it before can no longer save it.
   */
  async claim(vmId: string): Promise<{ variables: Variable[]; backend: PgBackend }> {
    try {
      return await this.transaction(async (c) => {
        const vm = await c.query(
          `INSERT INTO ${VMS} AS v (vm_id, owner, epoch, generation) VALUES ($1, $2, 1, 0)
           ON CONFLICT (vm_id) DO UPDATE SET owner = EXCLUDED.owner, epoch = v.epoch + 1, updated_at = now()
           RETURNING epoch, generation`, [vmId, this.owner]);
        const { epoch } = vm.rows[0] as { epoch: string };
        // A statement of its own: its snapshot sees every save committed before our claim took the row.
        const rows = await c.query(
          `SELECT seq, guid, name, attributes, data, time, digest FROM ${VARS} WHERE vm_id = $1 ORDER BY seq`, [vmId]);
        const saved = rows.rows.map((row: Record<string, unknown>, i: number) => ({
          record: variableFromRow(row, `VM ${vmId} variable #${i}`), seq: BigInt(String(row.seq)),
        }));
        return { variables: saved.map((x) => x.record), backend: new PgBackend(this, vmId, BigInt(epoch), saved) };
      });
    } catch (e) {
      if (e instanceof PgStoreError) throw e;
      throw new PgStoreError(`postgres: VM ${vmId}: ${describe(e)}`);
    }
  }

  /**
   * Make a new VM holding `variables` (an import). Refused, writing nothing,
   * when the VM exists already. The first daemon to load it takes it over.
   */
  async create(vmId: string, variables: readonly Variable[]): Promise<void> {
    let made = false;
    try {
      await this.transaction(async (c) => {
        const r = await c.query(`INSERT INTO ${VMS} (vm_id, owner, epoch, generation) VALUES ($1, $2, 0, 0) ON CONFLICT (vm_id) DO NOTHING`, [vmId, this.owner]);
        if (r.rowCount !== 1) return;
        made = true;
        await this.apply(vmId, 0n, 'all', variables.map((record, i) => ({ record, seq: BigInt(i + 1) })), c);
      }, false); // after a COMMIT whose answer was lost, a retry would say the VM exists already
    } catch (e) {
      throw e instanceof PgStoreError ? e : new PgStoreError(`postgres: VM ${vmId}: ${describe(e)}`);
    }
    if (!made) throw new PgStoreError(`postgres: VM ${vmId} exists already; nothing was written`);
  }

  /** The VM's current variables without taking it over (undefined: no such VM). For reading only. */
  async peek(vmId: string): Promise<Variable[] | undefined> {
    try {
      return await this.transaction(async (c) => {
        await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        if ((await c.query(`SELECT 1 FROM ${VMS} WHERE vm_id = $1`, [vmId])).rowCount !== 1) return undefined;
        const rows = await c.query(`SELECT guid, name, attributes, data, time, digest FROM ${VARS} WHERE vm_id = $1 ORDER BY seq`, [vmId]);
        return rows.rows.map((row: Record<string, unknown>, i: number) => variableFromRow(row, `VM ${vmId} variable #${i}`));
      });
    } catch (e) {
      if (e instanceof PgStoreError) throw e;
      if (isDatabaseError(e) && e.code === UNDEFINED_TABLE) return undefined; // no daemon ever used this database
      throw new PgStoreError(`postgres: VM ${vmId}: ${describe(e)}`);
    }
  }

  /**
   * @internal PgBackend's save, one statement: bump the generation if `epoch`
   * still holds, delete the rows `drop` names (all of the VM's with 'all'),
   * insert `add`. Refused with OwnershipLostError when the epoch moved on.
   */
  async apply(vmId: string, epoch: bigint, drop: bigint[] | 'all', add: readonly { record: Variable; seq: bigint }[], within?: pg.PoolClient): Promise<void> {
    const cols = { seq: [] as string[], guid: [] as string[], name: [] as Buffer[], display: [] as string[], attributes: [] as number[], data: [] as Buffer[], time: [] as Buffer[], digest: [] as (Buffer | null)[] };
    for (const { record: v, seq } of add) {
      cols.seq.push(seq.toString());
      cols.guid.push(v.guid);
      cols.name.push(asBuffer(v.name));
      // Informational, for people querying the table; lone surrogates are not text PostgreSQL keeps.
      cols.display.push(displayName(v.name).replace(/[\ud800-\udfff]/g, '\ufffd'));
      cols.attributes.push(v.attributes);
      cols.data.push(asBuffer(v.data));
      cols.time.push(asBuffer(v.time));
      cols.digest.push(v.digest ? asBuffer(v.digest) : null);
    }
    // New rows always get numbers above every row there is, so deleting and inserting in one
    // statement never collide on the key.
    const r = await (within ?? this.pool).query(
      `WITH fence AS (
         UPDATE ${VMS} SET generation = generation + 1, updated_at = now()
         WHERE vm_id = $1 AND epoch = $2 RETURNING vm_id),
       dropped AS (
         DELETE FROM ${VARS} x USING fence f WHERE x.vm_id = f.vm_id AND ($3 OR x.seq = ANY($4::bigint[]))),
       added AS (
         INSERT INTO ${VARS} (vm_id, seq, guid, name, display_name, attributes, data, time, digest)
         SELECT f.vm_id, u.* FROM fence f,
           unnest($5::bigint[], $6::uuid[], $7::bytea[], $8::text[], $9::bigint[], $10::bytea[], $11::bytea[], $12::bytea[]) AS u)
       SELECT 1 FROM fence`,
      [vmId, epoch.toString(), drop === 'all', drop === 'all' ? [] : drop.map(String), cols.seq, cols.guid, cols.name, cols.display, cols.attributes, cols.data, cols.time, cols.digest]);
    if (r.rowCount === 1) return;
    const now = await this.pool.query(`SELECT owner FROM ${VMS} WHERE vm_id = $1`, [vmId]);
    throw new OwnershipLostError(vmId, now.rowCount === 1 ? String((now.rows[0] as { owner: unknown }).owner) : undefined);
  }

  /**
   * Run `body` in a transaction. A lost connection (connectionLost) is
   * retried once on a new one when `retry` says repeating it is harmless.
   */
  private async transaction<T>(body: (c: pg.PoolClient) => Promise<T>, retry = true): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.pool.connect();
      let broken: Error | undefined;
      // A connection that dies while checked out reports it as an 'error' event too; unheard, that
      // event would end the process. The failing query carries the error to us anyway.
      const heard = (e: Error): void => { broken = e; };
      c.on('error', heard);
      try {
        await c.query('BEGIN');
        const out = await body(c);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        if (connectionLost(e)) broken = e as Error;
        if (!(retry && attempt === 1 && broken)) throw e;
      } finally {
        c.off('error', heard);
        // A broken connection goes, not back to the pool.
        c.release(broken);
      }
    }
  }
}

/** A stored record and the sequence number of its row. */
interface SavedRow { record: Variable; seq: bigint }

/** The durable sink of one claimed VM. */
export class PgBackend implements StoreBackend {
  /** Rows written by the last save (diagnostics and tests): what the last statement inserted and deleted. */
  lastWrite: { inserted: number; deleted: number | 'all' } | undefined;
  /** Set once a save found the VM owned elsewhere; every later save is refused the same way. */
  lost: OwnershipLostError | undefined;
  /** What the database holds, as far as this daemon knows; undefined after a failure left it unsure. */
  private saved: SavedRow[] | undefined;
  private nextSeq: bigint;

  constructor(private readonly db: PgStore, readonly vmId: string, private readonly epoch: bigint, saved: SavedRow[]) {
    this.saved = saved;
    this.nextSeq = saved.reduce((m, r) => (r.seq >= m ? r.seq + 1n : m), 1n);
  }

  async save(nv: readonly Variable[]): Promise<void> {
    if (this.lost) throw this.lost;
    for (let attempt = 1; ; attempt++) {
      const plan = this.plan(nv);
      // Numbers are spent even if the save fails: a retry never reuses one that may have been written.
      this.nextSeq += BigInt(plan.add.length);
      this.saved = undefined;
      try {
        await this.db.apply(this.vmId, this.epoch, plan.drop, plan.add);
      } catch (e) {
        if (e instanceof OwnershipLostError) { this.lost = e; throw e; }
        // Whether the statement committed is unknown (a connection lost at COMMIT), so the retry,
        // and any later save, rewrites every row. A lost connection (the server restarted, failed
        // over, or dropped it while idle in the pool) is retried once on a new one.
        if (attempt === 1 && connectionLost(e)) continue;
        throw new PgStoreError(`postgres: VM ${this.vmId}: ${describe(e)}`);
      }
      this.saved = plan.keep.concat(plan.add);
      this.lastWrite = { inserted: plan.add.length, deleted: plan.drop === 'all' ? 'all' : plan.drop.length };
      return;
    }
  }

  /**
   * The rows to delete and insert to turn what is stored into `nv`. The
   * service keeps records whole (an update is a new record at the end), so
   * normally `nv` is the stored records that remain, in their order, followed
   * by new ones; anything else, or not knowing what is stored, rewrites all.
   */
  private plan(nv: readonly Variable[]): { keep: SavedRow[]; drop: bigint[] | 'all'; add: SavedRow[] } {
    const fresh = (from: number): SavedRow[] => nv.slice(from).map((record, i) => ({ record, seq: this.nextSeq + BigInt(i) }));
    const saved = this.saved;
    if (!saved) return { keep: [], drop: 'all', add: fresh(0) };
    const seqOf = new Map(saved.map((r) => [r.record, r.seq]));
    const keep: SavedRow[] = [];
    let i = 0;
    for (; i < nv.length; i++) {
      const seq = seqOf.get(nv[i]!);
      if (seq === undefined) break;
      if (keep.length > 0 && seq <= keep[keep.length - 1]!.seq) return { keep: [], drop: 'all', add: fresh(0) };
      keep.push({ record: nv[i]!, seq });
    }
    for (let j = i; j < nv.length; j++) if (seqOf.has(nv[j]!)) return { keep: [], drop: 'all', add: fresh(0) };
    const kept = new Set(keep.map((r) => r.record));
    const drop = saved.filter((r) => !kept.has(r.record)).map((r) => r.seq);
    return { keep, drop, add: fresh(i) };
  }
}

/** A connection URL fit for logs: the password, if any, replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '' && !u.searchParams.has('password')) return url;
    if (u.password !== '') u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.length);

/** A row back into a Variable; a row no guest could have written is an error, never loaded. */
function variableFromRow(row: Record<string, unknown>, at: string): Variable {
  const bytes = (k: string): Uint8Array => {
    const v = row[k];
    if (!Buffer.isBuffer(v)) throw new PgStoreError(`postgres: ${at}: ${k} is not bytea`);
    return new Uint8Array(v);
  };
  const guid = String(row.guid);
  if (!isGuidText(guid)) throw new PgStoreError(`postgres: ${at}: guid ${JSON.stringify(guid)} is not a GUID`);
  const name = bytes('name');
  if (name.length < 2 || name.length % 2 !== 0 || checkName(name, 0, name.length) !== undefined) {
    throw new PgStoreError(`postgres: ${at}: name is not a NUL-terminated UCS-2 name`);
  }
  const attributes = Number(row.attributes);
  if (!Number.isInteger(attributes) || attributes < 0 || attributes > 0xffffffff || (attributes & Attr.AP) !== 0) {
    throw new PgStoreError(`postgres: ${at}: attributes ${String(row.attributes)} are not stored attributes`);
  }
  const time = bytes('time');
  if (time.length !== 16) throw new PgStoreError(`postgres: ${at}: time is ${time.length} bytes, not 16`);
  const digest = row.digest === null ? undefined : bytes('digest');
  return makeVariable({ guid: guid.toLowerCase(), name, attributes, data: bytes('data'), time, digest });
}

/**
 * The connection failed, not the statement: no SQLSTATE at all (a socket
 * error or an unexpected end), class 08 (connection exception) or 57P01-03
 * (the server shutting down or not yet up).
 */
function connectionLost(e: unknown): boolean {
  if (!isDatabaseError(e)) return !(e instanceof PgStoreError || e instanceof OwnershipLostError);
  const code = e.code ?? '';
  return code.startsWith('08') || /^57P0[123]$/.test(code);
}

/** One line for a database error: its message and, when PostgreSQL gave one, its SQLSTATE. */
function describe(e: unknown): string {
  if (isDatabaseError(e)) return `${e.message} (SQLSTATE ${e.code ?? '?'})`;
  const err = e as NodeJS.ErrnoException;
  if (err instanceof AggregateError) return err.errors.map((x: Error) => x.message).join('; ') || 'cannot connect';
  return err.code && !err.message.includes(err.code) ? `${err.message} (${err.code})` : err.message;
}
