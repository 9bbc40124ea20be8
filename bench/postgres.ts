import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { VariableService } from '../src/service/variable-service.js';
import { PgStore } from '../src/persist/postgres.js';
import { encodeQemuJson } from '../src/persist/json-qemu.js';
import { setVariableRequest, replyStatus } from '../src/client/requests.js';
import { makeVariable } from '../src/store/variable.js';
import { encodeName } from '../src/wire/ucs2.js';
import { summary, fmt, line, nowNs } from './stats.js';

const GUID = '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f';

/**
 * Durable NV SetVariable latency on the PostgreSQL store, next to a floor
 * measured on the same server in the same run: the store's bytes (as QEMU
 * JSON) written as one bytea value in one committed UPDATE. Needs
 * UEFI_VARS_TEST_PG (a role that may create databases); without it the
 * section says so and is skipped.
 */
export async function benchPostgres(sizes: number[], writes = 200): Promise<void> {
  const admin = process.env.UEFI_VARS_TEST_PG;
  if (!admin) { line('postgres store', 'skipped: set UEFI_VARS_TEST_PG to a server URL'); return; }
  const name = `uefi_vars_bench_${randomBytes(4).toString('hex')}`;
  const adm = new pg.Client({ connectionString: admin });
  await adm.connect();
  await adm.query(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = await PgStore.open({ url: url.toString(), owner: 'bench' });
  const raw = new pg.Client({ connectionString: url.toString() });
  await raw.connect();
  try {
    await raw.query('CREATE TABLE floor (id int PRIMARY KEY, blob bytea)');
    await raw.query(`INSERT INTO floor VALUES (1, ''::bytea)`);
    for (const storeBytes of sizes) {
      const chunk = 1024;
      const variables = Array.from({ length: Math.max(1, Math.floor(storeBytes / chunk)) }, (_, i) => makeVariable({
        guid: GUID, name: encodeName(`Fill${i}`), attributes: 7, data: new Uint8Array(chunk).fill(i & 0xff),
      }));
      const { backend } = await db.claim(`vm-${storeBytes}`);
      const svc = await VariableService.create({ variables, backend, options: { size: 4 * storeBytes + 65536 } });
      const lat: number[] = [], floor: number[] = [];
      for (let i = 0; i < writes; i++) {
        const req = setVariableRequest({ name: `Bench${i % 16}`, guid: GUID, attributes: 7, data: new Uint8Array(64).fill(i & 0xff) });
        const a = nowNs();
        const r = await svc.process(req, 65536);
        lat.push(Number(nowNs() - a) / 1e6);
        if (!r.reply || replyStatus(r.reply) !== 0n) throw new Error('bench write failed');
        const blob = Buffer.from(encodeQemuJson(svc.nonVolatileVariables())); // same bytes, not timed
        const c = nowNs();
        await raw.query('UPDATE floor SET blob = $1 WHERE id = 1', [blob]);
        floor.push(Number(nowNs() - c) / 1e6);
      }
      const s = summary(lat), f = summary(floor);
      const kib = `${Math.round(storeBytes / 1024)} KiB`;
      line(`postgres NV write, store ${kib}: ms p50 / p99`, `${fmt(s.p50, 3)} / ${fmt(s.p99, 3)}`);
      line(`floor (one bytea UPDATE of the JSON), ${kib}: ms p50 / p99`, `${fmt(f.p50, 3)} / ${fmt(f.p99, 3)}`);
      line(`postgres p50 / floor p50, ${kib}`, `${fmt(s.p50 / f.p50, 2)}x`);
    }
  } finally {
    await raw.end();
    await db.close();
    await adm.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adm.end();
  }
}
