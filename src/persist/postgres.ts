import pg from 'pg';
import { isGuidText } from '../wire/guid.js';
import { checkName, displayName } from '../wire/ucs2.js';
import { Attr } from '../wire/attributes.js';
import { makeVariable, type Variable } from '../store/variable.js';
import type { StoreBackend } from '../service/variable-service.js';

/**
 * PostgreSQL stores, for fleets whose VMs move between hosts (DESIGN.md,
 * Persistence). One row per VM holds who owns it and which row set is
 * current; each save writes a whole new row set under the next generation
 * and drops the old one in the same statement, so a store is replaced
 * all-or-nothing like a file renamed into place.
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
     generation bigint NOT NULL,
     position integer NOT NULL,
     guid uuid NOT NULL,
     name bytea NOT NULL,
     display_name text NOT NULL,
     attributes bigint NOT NULL,
     data bytea NOT NULL,
     time bytea NOT NULL,
     digest bytea,
     PRIMARY KEY (vm_id, generation, position))`,
];

export interface PgStoreOptions {
  /** libpq-style URL; empty: the PG* environment variables (PGHOST, PGDATABASE, ...). */
  url: string;
  /** Who this daemon is, recorded with every VM it loads (shown to the host that loses it). */
  owner: string;
  /** At most this many connections (default 4: saves of different VMs run side by side). */
  maxConnections?: number;
}

export interface PgVmRow { vmId: string; owner: string; generation: number; updatedAt: Date }

/** The database: schema, listing, and claiming VMs. */
export class PgStore {
  private constructor(private readonly pool: pg.Pool, readonly owner: string) {}

  /** Connect and create the tables if missing. Throws PgStoreError naming the problem. */
  static async open(opts: PgStoreOptions): Promise<PgStore> {
    const pool = new pg.Pool({ ...(opts.url ? { connectionString: opts.url } : {}), max: opts.maxConnections ?? 4, connectionTimeoutMillis: 10_000 });
    // An idle connection the server drops must not take the daemon down.
    pool.on('error', () => undefined);
    const store = new PgStore(pool, opts.owner);
    try {
      await store.transaction(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
        for (const sql of SCHEMA) await c.query(sql);
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

  async exists(vmId: string): Promise<boolean> {
    const r = await this.query(`SELECT 1 FROM ${VMS} WHERE vm_id = $1`, [vmId]);
    return r.rowCount === 1;
  }

  async list(): Promise<PgVmRow[]> {
    const r = await this.query(`SELECT vm_id, owner, generation, updated_at FROM ${VMS} ORDER BY vm_id`, []);
    return r.rows.map((row: Record<string, unknown>) => ({
      vmId: String(row.vm_id), owner: String(row.owner), generation: Number(row.generation), updatedAt: row.updated_at as Date,
    }));
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
        const { epoch, generation } = vm.rows[0] as { epoch: string; generation: string };
        // A statement of its own: its snapshot sees every save committed before our claim took the row.
        const rows = await c.query(
          `SELECT guid, name, attributes, data, time, digest FROM ${VARS}
           WHERE vm_id = $1 AND generation = $2 ORDER BY position`, [vmId, generation]);
        const variables = rows.rows.map((row: Record<string, unknown>, i: number) => variableFromRow(row, `VM ${vmId} variable #${i}`));
        return { variables, backend: new PgBackend(this, vmId, BigInt(epoch)) };
      });
    } catch (e) {
      if (e instanceof PgStoreError) throw e;
      throw new PgStoreError(`postgres: VM ${vmId}: ${describe(e)}`);
    }
  }

  /** @internal PgBackend's save: one statement, so all of it or none of it happens. */
  async replace(vmId: string, epoch: bigint, nv: readonly Variable[]): Promise<void> {
    const cols = { guid: [] as string[], name: [] as Buffer[], display: [] as string[], attributes: [] as number[], data: [] as Buffer[], time: [] as Buffer[], digest: [] as (Buffer | null)[] };
    for (const v of nv) {
      cols.guid.push(v.guid);
      cols.name.push(asBuffer(v.name));
      // Informational, for people querying the table; lone surrogates are not text PostgreSQL keeps.
      cols.display.push(displayName(v.name).replace(/[\ud800-\udfff]/g, '\ufffd'));
      cols.attributes.push(v.attributes);
      cols.data.push(asBuffer(v.data));
      cols.time.push(asBuffer(v.time));
      cols.digest.push(v.digest ? asBuffer(v.digest) : null);
    }
    const r = await this.query(
      `WITH fence AS (
         UPDATE ${VMS} SET generation = generation + 1, updated_at = now()
         WHERE vm_id = $1 AND epoch = $2 RETURNING vm_id, generation),
       dropped AS (
         DELETE FROM ${VARS} x USING fence f WHERE x.vm_id = f.vm_id AND x.generation < f.generation),
       added AS (
         INSERT INTO ${VARS} (vm_id, generation, position, guid, name, display_name, attributes, data, time, digest)
         SELECT f.vm_id, f.generation, u.ord - 1, u.guid, u.name, u.display_name, u.attributes, u.data, u.time, u.digest
         FROM fence f, unnest($3::uuid[], $4::bytea[], $5::text[], $6::bigint[], $7::bytea[], $8::bytea[], $9::bytea[])
           WITH ORDINALITY AS u (guid, name, display_name, attributes, data, time, digest, ord))
       SELECT generation FROM fence`,
      [vmId, epoch.toString(), cols.guid, cols.name, cols.display, cols.attributes, cols.data, cols.time, cols.digest]);
    if (r.rowCount === 1) return;
    const now = await this.query(`SELECT owner FROM ${VMS} WHERE vm_id = $1`, [vmId]);
    throw new OwnershipLostError(vmId, now.rowCount === 1 ? String((now.rows[0] as { owner: unknown }).owner) : undefined);
  }

  private async query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    return this.pool.query(sql, params);
  }

  private async transaction<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await body(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }
}

/** The durable sink of one claimed VM. */
export class PgBackend implements StoreBackend {
  saves = 0;
  /** Set once a save found the VM owned elsewhere; every later save is refused the same way. */
  lost: OwnershipLostError | undefined;

  constructor(private readonly db: PgStore, readonly vmId: string, private readonly epoch: bigint) {}

  async save(nv: readonly Variable[]): Promise<void> {
    if (this.lost) throw this.lost;
    try {
      await this.db.replace(this.vmId, this.epoch, nv);
    } catch (e) {
      if (e instanceof OwnershipLostError) { this.lost = e; throw e; }
      throw new PgStoreError(`postgres: VM ${this.vmId}: ${describe(e)}`);
    }
    this.saves++;
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

/** One line for a database error: its message and, when PostgreSQL gave one, its SQLSTATE. */
function describe(e: unknown): string {
  if (e instanceof pg.DatabaseError) return `${e.message} (SQLSTATE ${e.code ?? '?'})`;
  const err = e as NodeJS.ErrnoException;
  if (err instanceof AggregateError) return err.errors.map((x: Error) => x.message).join('; ') || 'cannot connect';
  return err.code && !err.message.includes(err.code) ? `${err.message} (${err.code})` : err.message;
}
