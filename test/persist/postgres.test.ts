import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { PgStore, PgStoreError, OwnershipLostError, redactUrl } from '../../src/persist/postgres.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { noPostgres, testDatabase, sql } from '../helpers/postgres.js';
import { SHARED, TEST_GUID } from '../helpers/service.js';
import { VariableService } from '../../src/service/variable-service.js';
import { setVariableRequest, replyStatus } from '../../src/client/requests.js';
import { cli } from '../helpers/cli.js';

const opts = { skip: noPostgres };

/** Every field of every variable, in order: what a store must give back. */
function fields(vs: readonly Variable[]): unknown[] {
  return vs.map((v) => ({ guid: v.guid, name: [...v.name], attributes: v.attributes, data: Buffer.from(v.data).toString('hex'), time: [...v.time], digest: v.digest ? [...v.digest] : null }));
}

async function open(t: { after(fn: () => Promise<void>): void }, url: string, owner: string): Promise<PgStore> {
  const db = await PgStore.open({ url, owner });
  t.after(() => db.close());
  return db;
}

const vmRow = async (url: string, vm: string): Promise<{ owner: string; epoch: string; generation: string }> =>
  (await sql(url, 'SELECT owner, epoch, generation FROM uefi_vars_vm WHERE vm_id = $1', [vm])).rows[0] as { owner: string; epoch: string; generation: string };

test('a Debian Secure Boot store saved to PostgreSQL comes back field for field, in order, on another host', opts, async (t) => {
  const url = await testDatabase(t);
  const loaded = await loadStoreFile(`${SHARED}/vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd`);
  // A private authenticated variable's signer digest, and a name with bytes after its NUL as a guest may send.
  const extra = [
    makeVariable({ guid: TEST_GUID, name: encodeName('Private'), attributes: 0x27, data: Uint8Array.of(1, 2), time: new Uint8Array(16).fill(7), digest: new Uint8Array(32).fill(0xab) }),
    makeVariable({ guid: TEST_GUID, name: Uint8Array.of(0x41, 0, 0, 0, 0x42, 0), attributes: 0x7, data: new Uint8Array(0) }),
  ];
  const variables = [...loaded.variables, ...extra];
  assert.ok(variables.some((v) => v.attributes & 0x20), 'the store holds time-based authenticated variables');

  const a = await open(t, url, 'host-a');
  const claimed = await a.claim('vm1');
  assert.deepEqual(claimed.variables, [], 'a new VM starts empty');
  await claimed.backend.save(variables);

  const b = await open(t, url, 'host-b');
  const back = await b.claim('vm1');
  assert.deepEqual(fields(back.variables), fields(variables));
  assert.equal((await vmRow(url, 'vm1')).owner, 'host-b');
  assert.deepEqual((await b.list()).map((r) => [r.vmId, r.owner]), [['vm1', 'host-b']]);
  assert.equal(await b.exists('vm1'), true);
  assert.equal(await b.exists('vm2'), false);
  // Only the current row set is kept.
  assert.equal(Number((await sql(url, 'SELECT count(*) AS n FROM uefi_vars_variable')).rows[0].n), variables.length);
});

test('after another host claims the VM, the old owner\'s saves are refused and change nothing, every time', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await open(t, url, 'host-a');
  const b = await open(t, url, 'host-b');
  const onA = await a.claim('vm1');
  const first = [makeVariable({ guid: TEST_GUID, name: encodeName('One'), attributes: 7, data: Uint8Array.of(1) })];
  await onA.backend.save(first);

  const onB = await b.claim('vm1');
  assert.deepEqual(fields(onB.variables), fields(first));
  const before = await vmRow(url, 'vm1');
  const stale = [...first, makeVariable({ guid: TEST_GUID, name: encodeName('Two'), attributes: 7, data: Uint8Array.of(2) })];
  for (let i = 0; i < 2; i++) {
    await assert.rejects(onA.backend.save(stale), (e: unknown) => e instanceof OwnershipLostError && /now owned by host-b/.test(e.message));
  }
  assert.deepEqual(await vmRow(url, 'vm1'), before, 'no generation was spent');
  assert.deepEqual(fields((await (await open(t, url, 'host-c')).claim('vm1')).variables), fields(first));
  // host-c has it now: host-b is fenced off as well.
  await assert.rejects(onB.backend.save(first), OwnershipLostError);
});

test('a save that fails inside the database leaves the previous row set whole', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await open(t, url, 'host-a');
  const vm = await a.claim('vm1');
  const good = [1, 2, 3].map((i) => makeVariable({ guid: TEST_GUID, name: encodeName(`V${i}`), attributes: 7, data: Uint8Array.of(i) }));
  await vm.backend.save(good);
  const before = await vmRow(url, 'vm1');
  // A real failure half way through the insert: the second new row is refused by a trigger.
  await sql(url, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF NEW.display_name = 'Boom' THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$`);
  await sql(url, 'CREATE TRIGGER boom BEFORE INSERT ON uefi_vars_variable FOR EACH ROW EXECUTE FUNCTION boom()');
  const bad = [good[0]!, makeVariable({ guid: TEST_GUID, name: encodeName('Boom'), attributes: 7, data: Uint8Array.of(9) }), good[2]!];
  await assert.rejects(vm.backend.save(bad), (e: unknown) => e instanceof PgStoreError && /VM vm1: disk on fire \(SQLSTATE P0001\)/.test(e.message));
  assert.deepEqual(await vmRow(url, 'vm1'), before);
  await sql(url, 'DROP TRIGGER boom ON uefi_vars_variable');
  // Not an ownership problem: the same backend saves again once the database takes it.
  await vm.backend.save(good.slice(0, 2));
  assert.deepEqual(fields((await (await open(t, url, 'host-b')).claim('vm1')).variables), fields(good.slice(0, 2)));
});

test('rows no guest could have written are refused at load, naming the VM and the row, and the claim is undone', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await open(t, url, 'host-a');
  const vm = await a.claim('vm1');
  // New records each time: a save writes the rows of records it has not stored yet.
  const good = (): Variable[] => [0, 1].map((i) => makeVariable({ guid: TEST_GUID, name: encodeName(`V${i}`), attributes: 7, data: Uint8Array.of(i) }));
  const b = await open(t, url, 'host-b');
  const cases: [string, RegExp][] = [
    [`UPDATE uefi_vars_variable SET name = '\\x410042'::bytea WHERE display_name = 'V1'`, /^postgres: VM vm1 variable #1: name is not a NUL-terminated UCS-2 name$/],
    [`UPDATE uefi_vars_variable SET name = '\\x41004200'::bytea WHERE display_name = 'V1'`, /variable #1: name is not a NUL-terminated UCS-2 name/],
    [`UPDATE uefi_vars_variable SET time = '\\x0102'::bytea WHERE display_name = 'V0'`, /variable #0: time is 2 bytes, not 16/],
    [`UPDATE uefi_vars_variable SET attributes = 71 WHERE display_name = 'V0'`, /variable #0: attributes 71 are not stored attributes/],
    [`UPDATE uefi_vars_variable SET attributes = 4294967296 WHERE display_name = 'V1'`, /variable #1: attributes 4294967296 are not stored attributes/],
  ];
  for (const [breakIt, expected] of cases) {
    // host-a still owns the VM (every refused load below was undone), so it can write good rows again.
    await vm.backend.save(good());
    await sql(url, breakIt);
    const before = await vmRow(url, 'vm1');
    await assert.rejects(b.claim('vm1'), (e: unknown) => e instanceof PgStoreError && expected.test(e.message));
    assert.deepEqual(await vmRow(url, 'vm1'), before, `${breakIt}: the failed claim took nothing over`);
  }
});

test('daemons creating the schema at the same moment all succeed', opts, async (t) => {
  const url = await testDatabase(t);
  const stores = await Promise.all([1, 2, 3, 4].map((i) => PgStore.open({ url, owner: `host-${i}` })));
  t.after(async () => { await Promise.all(stores.map((s) => s.close())); });
  const claims = await Promise.all(stores.map((s, i) => s.claim(`vm${i}`)));
  assert.equal(claims.length, 4);
  assert.equal((await stores[0]!.list()).length, 4);
});

test('a server that is not there is one line naming postgres and the reason', opts, async () => {
  await assert.rejects(PgStore.open({ url: 'postgresql://nobody:secret@127.0.0.1:1/none', owner: 'x' }),
    (e: unknown) => e instanceof PgStoreError && /^postgres: .*ECONNREFUSED/.test(e.message) && !e.message.includes('\n') && !e.message.includes('secret'));
});

test('database URLs are logged without their password', () => {
  assert.equal(redactUrl('postgresql://vars:s3cret@db.example:5432/fleet'), 'postgresql://vars:***@db.example:5432/fleet');
  assert.equal(redactUrl('postgresql://db.example/fleet?user=u&password=s3cret'), 'postgresql://db.example/fleet?user=u&password=***');
  assert.equal(redactUrl('postgresql://vars@db.example/fleet'), 'postgresql://vars@db.example/fleet');
  assert.ok(!redactUrl('not a url:s3cret@host').includes('s3cret'));
});

test('a write costs the rows it changes: an update deletes one row and inserts one, and the order is the store\'s', opts, async (t) => {
  const url = await testDatabase(t);
  const loaded = await loadStoreFile(`${SHARED}/vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd`);
  const a = await open(t, url, 'host-a');
  const { backend } = await a.claim('vm1');
  await backend.save(loaded.variables);
  // Loaded again, as a daemon does, and served by a real service.
  const fresh = await a.claim('vm1');
  const live = await VariableService.create({ variables: fresh.variables, backend: fresh.backend });
  const n = fresh.variables.length;
  assert.ok(n > 3);
  const write = async (name: string, attributes: number, data: Uint8Array): Promise<void> => {
    const r = await live.process(setVariableRequest({ name, guid: TEST_GUID, attributes, data }), 65536);
    assert.equal(replyStatus(r.reply!), 0n);
  };
  await write('New', 7, Uint8Array.of(1));
  assert.deepEqual(fresh.backend.lastWrite, { inserted: 1, deleted: 0 });
  await write('New', 7, Uint8Array.of(2));
  assert.deepEqual(fresh.backend.lastWrite, { inserted: 1, deleted: 1 });
  await write('New', 7, new Uint8Array(0));
  assert.deepEqual(fresh.backend.lastWrite, { inserted: 0, deleted: 1 });
  assert.equal(Number((await sql(url, 'SELECT count(*) AS n FROM uefi_vars_variable')).rows[0].n), live.nonVolatileVariables().length);
  assert.deepEqual(fields((await (await open(t, url, 'host-b')).claim('vm1')).variables), fields(live.nonVolatileVariables()));
});

test('random writes, updates, deletes and failed saves: what the next host loads is always the last saved store, in order', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await open(t, url, 'host-a');
  const reader = await open(t, url, 'reader');
  let { backend } = await a.claim('vm1');
  await sql(url, `CREATE FUNCTION maybe_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF NEW.display_name LIKE 'Fail%' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`);
  await sql(url, 'CREATE TRIGGER maybe_fail BEFORE INSERT ON uefi_vars_variable FOR EACH ROW EXECUTE FUNCTION maybe_fail()');
  // A model of the store the way the service keeps it: an update removes the record and appends the new one.
  let model: Variable[] = [];
  let durable: Variable[] = [];
  let seed = 12345;
  const rnd = (k: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % k; };
  for (let step = 0; step < 150; step++) {
    const name = `${rnd(10) === 0 ? 'Fail' : 'V'}${rnd(12)}`;
    const key = (v: Variable): string => Buffer.from(v.name).toString('hex');
    const rec = makeVariable({ guid: TEST_GUID, name: encodeName(name), attributes: 7, data: Uint8Array.of(step & 0xff, rnd(256)) });
    const without = model.filter((v) => key(v) !== key(rec));
    const next = rnd(4) === 0 ? without : [...without, rec];
    try {
      await backend.save(next);
      model = next;
      durable = next;
    } catch (e) {
      assert.ok(e instanceof PgStoreError, String(e));
      assert.ok(next.some((v) => key(v).startsWith(Buffer.from(encodeName('Fail')).subarray(0, 8).toString('hex'))), 'only a Fail row is refused');
    }
    if (step % 10 === 9) {
      // Another host reads it, then hands it back: the first host's backend is fenced off and replaced.
      assert.deepEqual(fields((await reader.claim('vm1')).variables), fields(durable), `step ${step}`);
      const again = await a.claim('vm1');
      assert.deepEqual(fields(again.variables), fields(durable));
      backend = again.backend;
      model = again.variables;
    }
  }
});

test('a store whose kept records changed order is rewritten whole, in the new order', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await open(t, url, 'host-a');
  const { backend } = await a.claim('vm1');
  const [x, y, z] = ['X', 'Y', 'Z'].map((n) => makeVariable({ guid: TEST_GUID, name: encodeName(n), attributes: 7, data: Uint8Array.of(1) }));
  await backend.save([x!, y!, z!]);
  await backend.save([z!, x!, y!]);
  assert.deepEqual(backend.lastWrite, { inserted: 3, deleted: 'all' });
  assert.deepEqual(fields((await (await open(t, url, 'host-b')).claim('vm1')).variables), fields([z!, x!, y!]));
});

test('convert imports a Debian store into PostgreSQL as a new VM, refuses to import over one, and exports it back byte for byte', opts, async (t) => {
  const url = await testDatabase(t);
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-pg-convert-'));
  t.after(async () => { rmSync(dir, { recursive: true, force: true }); });
  const src = `${SHARED}/vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd`;
  const asJson = join(dir, 'direct.json');
  assert.equal(cli('convert', src, asJson).code, 0);

  // Reading a database no daemon has used: no such VM, and no tables made by a read.
  const early = cli('print', `${url}#vm-imported`);
  assert.equal(early.code, 1);
  assert.match(early.stderr, /no such VM/);
  assert.equal(Number((await sql(url, `SELECT count(*) AS n FROM pg_tables WHERE tablename LIKE 'uefi_vars%'`)).rows[0].n), 0);

  const imported = cli('convert', src, `${url}#vm-imported`);
  assert.equal(imported.code, 0, imported.stderr);
  const password = new URL(url).password;
  assert.ok(!imported.stdout.includes(password) && imported.stdout.includes('#vm-imported'), imported.stdout);

  const again = cli('convert', asJson, `${url}#vm-imported`);
  assert.equal(again.code, 1);
  assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
  assert.match(again.stderr, /postgres: VM vm-imported exists already; nothing was written/);

  const back = join(dir, 'back.json');
  const exported = cli('convert', `${url}#vm-imported`, back);
  assert.equal(exported.code, 0, exported.stderr);
  assert.deepEqual(readFileSync(back), readFileSync(asJson), 'through PostgreSQL and back equals the direct conversion');
  // print and get read it in place, the same way.
  const printed = cli('print', `${url}#vm-imported`);
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.lines[0]!, /#vm-imported: postgres store, \d+ variables$/);
  assert.equal(printed.lines.slice(1).join('\n'), cli('print', asJson).lines.slice(1).join('\n'), 'the same listing as the JSON store');
  assert.equal(cli('get', `${url}#vm-imported`, 'SecureBootEnable', 'f0a30bc7-af08-4556-99c4-001009c93a44').stdout.trim(), cli('get', asJson, 'SecureBootEnable', 'f0a30bc7-af08-4556-99c4-001009c93a44').stdout.trim());
  assert.equal((await sql(url, 'SELECT epoch FROM uefi_vars_vm')).rows[0].epoch, '0', 'reading took nothing over');

  for (const [args, expected] of [
    [['convert', `${url}#vm-missing`, join(dir, 'x.json')], /no such VM/],
    [['convert', asJson, url], /name the VM after a '#'/],
    [['convert', asJson, `${url}#.hidden`], /name the VM after a '#'/],
    [['convert', asJson, `${url}#ok`, '--to', 'json'], /--to is for files/],
    [['set', `${url}#vm-imported`, 'X', 'global', '7', '--hex', '01'], /set and delete work on store files/],
    [['print', `${url}#vm-missing`], /no such VM/],
  ] as [string[], RegExp][]) {
    const r = cli(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, expected);
    assert.ok(!r.stderr.includes(password));
  }
});

test('a connection killed in the middle of a save or a claim is retried once on a new one, and the result is whole', opts, async (t) => {
  const url = await testDatabase(t);
  const a = await open(t, url, 'host-a');
  const { backend } = await a.claim('vm1');
  const good = [0, 1, 2].map((i) => makeVariable({ guid: TEST_GUID, name: encodeName(`V${i}`), attributes: 7, data: Uint8Array.of(i) }));
  await backend.save(good);
  // The first insert of a 'Slow' row, and the first claim by 'slow-host', sleep long enough to be killed.
  await sql(url, 'CREATE TABLE slowed (what text PRIMARY KEY)');
  for (const [table, column, value, op] of [['uefi_vars_variable', 'display_name', 'Slow', 'INSERT'], ['uefi_vars_vm', 'owner', 'slow-host', 'UPDATE']]) {
    await sql(url, `CREATE FUNCTION slow_${table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.${column} = '${value}' AND NOT EXISTS (SELECT 1 FROM slowed WHERE what = TG_TABLE_NAME) THEN
        PERFORM pg_sleep(3);
      END IF;
      RETURN NEW; END $$`);
    await sql(url, `CREATE TRIGGER slow BEFORE ${op} ON ${table} FOR EACH ROW EXECUTE FUNCTION slow_${table}()`);
  }
  const killSleeper = async (table: string): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const r = await sql(url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()`);
      if (r.rowCount) { await sql(url, 'INSERT INTO slowed VALUES ($1)', [table]); return; }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('nothing to kill');
  };
  const withSlow = [...good, makeVariable({ guid: TEST_GUID, name: encodeName('Slow'), attributes: 7, data: Uint8Array.of(9) })];
  const saving = backend.save(withSlow);
  await killSleeper('uefi_vars_variable');
  await saving;
  assert.deepEqual(backend.lastWrite, { inserted: 4, deleted: 'all' }, 'the retry rewrote every row');

  const slow = await open(t, url, 'slow-host');
  const claiming = slow.claim('vm1');
  await killSleeper('uefi_vars_vm');
  const claimed = await claiming;
  assert.deepEqual(fields(claimed.variables), fields(withSlow));
  assert.equal((await vmRow(url, 'vm1')).owner, 'slow-host');
  await assert.rejects(backend.save(good), OwnershipLostError);
});

test('tables an administrator made are used by a role that may not create any (and the schema comes from the URL\'s search_path)', opts, async (t) => {
  const url = await testDatabase(t);
  if ((await sql(url, 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0].rolsuper) {
    t.skip('UEFI_VARS_TEST_PG names a superuser, whom no privilege stops (.ci/run\'s role is not one)');
    return;
  }
  await sql(url, 'CREATE SCHEMA fleet');
  const inFleet = new URL(url);
  inFleet.searchParams.set('options', '-c search_path=fleet');
  await (await PgStore.open({ url: inFleet.toString(), owner: 'admin' })).close();
  assert.equal(Number((await sql(url, `SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'fleet' AND tablename LIKE 'uefi_vars%'`)).rows[0].n), 3); // vm, variable, audit
  await sql(url, 'REVOKE CREATE ON SCHEMA fleet FROM CURRENT_USER');
  await assert.rejects(sql(inFleet.toString(), 'CREATE TABLE IF NOT EXISTS uefi_vars_vm (x int)'), /permission denied/, 'the role really may not create tables there');
  const db = await open(t, inFleet.toString(), 'host-a');
  const { backend } = await db.claim('vm1');
  await backend.save([makeVariable({ guid: TEST_GUID, name: encodeName('V'), attributes: 7, data: Uint8Array.of(1) })]);
  assert.equal(Number((await sql(url, 'SELECT count(*) AS n FROM fleet.uefi_vars_variable')).rows[0].n), 1);
  // Without the audit table, and a role that may not add it: the stores still work; each audit insert fails (docs/audit.md).
  await sql(url, 'DROP TABLE fleet.uefi_vars_audit');
  const later = await open(t, inFleet.toString(), 'host-b');
  assert.match(later.auditUnavailable ?? '', /permission denied/);
  assert.equal((await later.claim('vm1')).variables.length, 1);
  await assert.rejects(later.appendAudit({ vm: 'vm1', time: new Date().toISOString(), variable: 'db', applied: true, status: 'EFI_SUCCESS', record: {} }), /uefi_vars_audit/);
});
