import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { PgStore, OwnershipLostError } from '../../src/persist/postgres.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { noPostgres, testDatabase, sql } from '../helpers/postgres.js';
import { cli, SHARED } from '../helpers/cli.js';

const V = join(SHARED, 'vectors');
const UPDATE = join(V, 'signed/dbx/DBXUpdate_arm64.bin');
const opts = { skip: noPostgres };

test('apply postgresql://…#* updates each VM it may, refuses the rest, and fences out the daemon that held an updated VM', opts, async (t) => {
  const url = await testDatabase(t);
  const db = await PgStore.open({ url, owner: 'daemon-host' });
  t.after(() => db.close());
  const ms = (await loadStoreFile(join(V, 'varstores/ovmf/OVMF_VARS_4M.ms.fd'))).variables;
  const snakeoil = (await loadStoreFile(join(V, 'varstores/ovmf/OVMF_VARS_4M.snakeoil.fd'))).variables;
  await db.create('vm-ms', ms);
  await db.create('vm-snakeoil', snakeoil);
  // A daemon serves vm-ms (it claimed it) while the update runs.
  const served = await db.claim('vm-ms');
  const epochOf = async (vm: string): Promise<number> => Number((await sql(url, 'SELECT epoch FROM uefi_vars_vm WHERE vm_id = $1', [vm])).rows[0].epoch);
  const snakeoilEpoch = await epochOf('vm-snakeoil');

  const dry = cli('apply', UPDATE, `${url}#*`, '--dry-run', '--json');
  assert.equal(dry.code, 2, dry.stderr);
  assert.equal(await epochOf('vm-ms'), 1, 'a dry run takes nothing over');

  const r = cli('apply', UPDATE, `${url}#*`, '--json');
  assert.equal(r.code, 2, r.stderr);
  const stores = (JSON.parse(r.stdout) as { stores: { store: string; outcome: string; status?: string }[] }).stores;
  assert.deepEqual(stores.map((s) => [s.store.split('#')[1], s.outcome, s.status]),
    [['vm-ms', 'applied', 'EFI_SUCCESS'], ['vm-snakeoil', 'refused', 'EFI_SECURITY_VIOLATION']]);
  const after = (await db.peek('vm-ms'))!;
  const dbx = after.find((v) => nameKey(v.name) === 'dbx')!;
  const before = ms.find((v) => nameKey(v.name) === 'dbx')!;
  assert.ok(dbx.data.length > before.data.length, 'dbx grew');
  assert.equal(await epochOf('vm-snakeoil'), snakeoilEpoch, 'a refused VM is not taken over');
  // The daemon that held vm-ms can no longer save over the update.
  await assert.rejects(served.backend.save(served.variables), OwnershipLostError);
  assert.equal((await db.peek('vm-ms'))!.find((v) => nameKey(v.name) === 'dbx')!.data.length, dbx.data.length);
});
