/**
 * The crash torture over several backends and lanes (scripts/torture.ts runs
 * it from the command line, test/persist/torture-ci.test.ts with 50 kills).
 * Lanes of one backend run side by side, each on its own store, so one
 * daemon's start-up overlaps another's writes.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgStore } from '../../src/persist/postgres.js';
import { generateSelfSigned } from '../../src/auth/cert-build.js';
import { runLane, type Backend, type LaneResult } from './lane.js';

export type { Backend } from './lane.js';
export const BACKENDS: readonly Backend[] = ['json', 'fd', 'postgres'];

export interface TortureOptions {
  /** Kills per backend. */
  kills: Partial<Record<Backend, number>>;
  seed: number;
  /** Daemons per backend at once (default 2). */
  lanes?: number;
  /** postgres: a URL of a role that may create databases (UEFI_VARS_TEST_PG); a database is made and dropped. */
  pgAdminUrl?: string;
  /** Authenticated writes in the stream (a 2048-bit key is made once). Default true. */
  authenticated?: boolean;
  onKill?: (backend: Backend) => void;
  /** Start no further round once this says so; the result then counts the kills made. */
  stop?: () => boolean;
}

export interface BackendResult extends Omit<LaneResult, 'failures'> { backend: Backend; ms: number; lanes: number; failures: string[] }

/** Split `n` kills over `lanes` lanes, the first lanes taking the remainder. */
function split(n: number, lanes: number): number[] {
  const k = Math.max(1, Math.min(lanes, n));
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

async function withDatabase<T>(adminUrl: string, body: (url: string) => Promise<T>): Promise<T> {
  const name = `uefi_vars_torture_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await body(url.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function runBackend(backend: Backend, kills: number, o: TortureOptions, signer: Awaited<ReturnType<typeof generateSelfSigned>> | undefined): Promise<BackendResult> {
  const root = await mkdtemp(join(tmpdir(), `uefi-vars-torture-${backend}-`));
  const t0 = performance.now();
  const lanes = split(kills, o.lanes ?? 2);
  const go = async (pgUrl?: string, pgReader?: PgStore): Promise<LaneResult[]> => Promise.all(lanes.map(async (n, lane) => {
    const dir = join(root, `lane-${lane}`);
    await mkdir(dir, { mode: 0o700 });
    return runLane({
      backend, lane, kills: n, seed: (o.seed ^ Math.imul(lane + 1, 0x9e3779b1) ^ BACKENDS.indexOf(backend) * 0x85ebca6b) >>> 0,
      dir, ...(pgUrl ? { pgUrl } : {}), ...(pgReader ? { pgReader } : {}), ...(signer ? { signer } : {}),
      onKill: () => o.onKill?.(backend), ...(o.stop ? { stop: o.stop } : {}),
    });
  }));
  try {
    let results: LaneResult[];
    if (backend === 'postgres') {
      if (!o.pgAdminUrl) throw new Error('postgres: no server (set UEFI_VARS_TEST_PG)');
      results = await withDatabase(o.pgAdminUrl, async (url) => {
        const reader = await PgStore.open({ url, owner: 'torture-check' });
        try { return await go(url, reader); } finally { await reader.close(); }
      });
    } else {
      results = await go();
    }
    const sum = (k: keyof Omit<LaneResult, 'failures' | 'maxTempFiles'>): number => results.reduce((a, r) => a + r[k], 0);
    return {
      backend, lanes: lanes.length, ms: performance.now() - t0,
      kills: sum('kills'), acked: sum('acked'), inFlightApplied: sum('inFlightApplied'), inFlightLost: sum('inFlightLost'),
      idle: sum('idle'), early: sum('early'), maxTempFiles: Math.max(...results.map((r) => r.maxTempFiles)),
      failures: results.flatMap((r) => r.failures),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Run every backend named in `o.kills` (side by side) and report each. */
export async function runTorture(o: TortureOptions): Promise<BackendResult[]> {
  const signer = o.authenticated === false ? undefined : await generateSelfSigned({ cn: 'uefi-vars torture signer', profile: 'leaf' });
  const plan = BACKENDS.filter((b) => (o.kills[b] ?? 0) > 0);
  return Promise.all(plan.map((b) => runBackend(b, o.kills[b]!, o, signer)));
}
