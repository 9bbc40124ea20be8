/**
 * A real PostgreSQL server for the tests of the PostgreSQL store. The server
 * is named by UEFI_VARS_TEST_PG (a URL of a role that may create databases;
 * `.ci/run` installs and starts one and sets it). Each test gets a database
 * of its own, dropped after it. Without the variable the tests are skipped,
 * unless UEFI_VARS_REQUIRE_PG is set (CI), where they fail instead.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.UEFI_VARS_TEST_PG;

/** `skip` option for node:test: false when a server is there (or required). */
export const noPostgres: string | false = ADMIN_URL || process.env.UEFI_VARS_REQUIRE_PG
  ? false
  : 'no PostgreSQL: set UEFI_VARS_TEST_PG to a server URL (.ci/run starts one)';

/** One client on `url` for `body`, closed after. */
async function withClient<T>(url: string, body: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

function admin<T>(body: (c: pg.Client) => Promise<T>): Promise<T> {
  if (!ADMIN_URL) throw new Error('UEFI_VARS_REQUIRE_PG is set but UEFI_VARS_TEST_PG is not');
  return withClient(ADMIN_URL, body);
}

/** A fresh empty database; its URL. Dropped (with any connection left to it) after the test. */
export async function testDatabase(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const name = `uefi_vars_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  t.after(() => admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); }));
  const url = new URL(ADMIN_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Run SQL directly against a test database (to look at rows, or to break them on purpose). */
export function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  return withClient(url, (c) => c.query(text, params));
}
