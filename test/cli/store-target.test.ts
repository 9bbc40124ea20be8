/**
 * StoreTarget (src/cli/store-target.ts): how a STORE argument is parsed (a file,
 * a VM of a --state-dir, a VM in PostgreSQL) and the rules every command gets
 * from opening one: never write over a store that did not parse, never write a
 * store a daemon serves, write atomically in the store's own format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseStoreTarget, stateDirTargets, stateDirTarget, requireFile, readTarget, openTarget, writeTarget, checkNewTarget,
} from '../../src/cli/store-target.js';
import { UsageError } from '../../src/cli/command.js';
import { StoreFileError } from '../../src/persist/store-file.js';
import { StoreInUseError, StoreLock, stateDirLockPath, storeLockPath } from '../../src/persist/store-lock.js';
import { encodeQemuJson } from '../../src/persist/json-qemu.js';
import { codecFor, detectFormat } from '../../src/persist/formats.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { tempDir } from '../helpers/cli.js';
import { noPostgres, testDatabase } from '../helpers/postgres.js';

const GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
const v = (name: string, data: number[]): ReturnType<typeof makeVariable> =>
  makeVariable({ guid: GUID, name: encodeName(name), attributes: 7, data: Uint8Array.from(data), time: new Uint8Array(16) });

function usage(f: () => unknown): string {
  try { f(); } catch (e) { assert.ok(e instanceof UsageError, `a UsageError, got ${String(e)}`); return e.message; }
  assert.fail('no error');
}

test('a path is a file target, whatever it contains (a # or a colon is part of the name)', () => {
  for (const p of ['vars.json', './a/b/OVMF_VARS.fd', '/tmp/x#1.json', 'c:weird.aws', 'postgresql', 'postgres:/one-slash']) {
    assert.deepEqual(parseStoreTarget(p), { kind: 'file', path: p, shown: p });
  }
});

test('postgresql://…#VM and postgres://…#VM are PostgreSQL VMs; the password never reaches `shown`', () => {
  const t = parseStoreTarget('postgresql://vars:s3cret@db.example:5433/fleet?sslmode=require#vm-7');
  assert.equal(t.kind, 'postgres');
  assert.ok(t.kind === 'postgres');
  assert.equal(t.url, 'postgresql://vars:s3cret@db.example:5433/fleet?sslmode=require', 'the URL to connect with, without the #VM');
  assert.equal(t.vm, 'vm-7');
  assert.ok(!t.shown.includes('s3cret'), t.shown);
  assert.ok(t.shown.endsWith('#vm-7') && t.shown.includes('db.example'), t.shown);
  const short = parseStoreTarget('POSTGRES://h/db#a.b_c');
  assert.ok(short.kind === 'postgres' && short.vm === 'a.b_c' && short.url === 'POSTGRES://h/db');
  // The VM is what follows the last '#': a '#' inside the URL (a password) stays in it.
  const hashed = parseStoreTarget('postgresql://u:p#w@h/db#vm1');
  assert.ok(hashed.kind === 'postgres' && hashed.vm === 'vm1' && hashed.url === 'postgresql://u:p#w@h/db');
});

test('a PostgreSQL URL without a valid VM is a usage error that names the URL without its password', () => {
  const bad = ['postgresql://u:s3cret@h/db', 'postgresql://u:s3cret@h/db#', 'postgresql://u:s3cret@h/db#.hidden',
    'postgresql://u:s3cret@h/db#a/b', 'postgresql://u:s3cret@h/db#a b', `postgresql://u:s3cret@h/db#${'x'.repeat(65)}`,
    'postgresql://u:s3cret@h/db#*'];
  for (const arg of bad) {
    const m = usage(() => parseStoreTarget(arg));
    assert.ok(!m.includes('s3cret'), `${arg}: ${m}`);
    assert.match(m, /name the VM after a '#'/);
  }
  // 64 characters is the longest id (docs/protocol.md), the first not a '.'.
  assert.equal((parseStoreTarget(`postgresql://h/db#${'x'.repeat(64)}`) as { vm: string }).vm.length, 64);
});

test('#* (every VM) only where a command asks for it (apply)', () => {
  const all = parseStoreTarget('postgresql://h/db#*', { allVms: true });
  assert.ok(all.kind === 'postgres' && all.vm === '*');
  assert.match(usage(() => parseStoreTarget('postgresql://u:pw@h/db', { allVms: true })), /or #\* for every VM/);
});

test('with a state directory a bare VM id is DIR/<vm>.json; a name that is not an id is refused', () => {
  const t = parseStoreTarget('vm-1', { stateDir: '/var/lib/uefi-vars' });
  assert.deepEqual(t, { kind: 'state-dir', dir: '/var/lib/uefi-vars', vm: 'vm-1', path: '/var/lib/uefi-vars/vm-1.json', shown: '/var/lib/uefi-vars/vm-1.json' });
  for (const bad of ['../etc/passwd', 'a/b', '.lock', '']) usage(() => parseStoreTarget(bad, { stateDir: '/d' }));
  // A PostgreSQL URL stays one.
  assert.equal(parseStoreTarget('postgresql://h/db#vm', { stateDir: '/d' }).kind, 'postgres');
});

test('stateDirTargets lists every DIR/<vm>.json in file-name order, nothing else', async (t) => {
  const dir = tempDir(t);
  for (const f of ['vm1.json', 'vm10.json', 'a-b.json', 'a.json', '.uefi-vars.lock', 'notes.txt', '.hidden.json', 'x.json.tmp']) writeFileSync(join(dir, f), '');
  mkdirSync(join(dir, 'sub'));
  const found = await stateDirTargets(dir);
  assert.deepEqual(found.map((x) => x.vm), ['a-b', 'a', 'vm1', 'vm10']);
  for (const x of found) assert.deepEqual(x, stateDirTarget(dir, x.vm));
  const missing = join(dir, 'nope');
  await assert.rejects(stateDirTargets(missing), (e: Error) => e instanceof UsageError && e.message.startsWith(`${missing}: cannot read the state directory (ENOENT)`));
});

test('requireFile passes files and state-dir VMs and refuses a PostgreSQL VM with `<shown>: <why>`', () => {
  const f = parseStoreTarget('x.json');
  assert.equal(requireFile(f, 'files only'), f);
  const s = parseStoreTarget('vm', { stateDir: '/d' });
  assert.equal(requireFile(s, 'files only'), s);
  const m = usage(() => requireFile(parseStoreTarget('postgresql://u:pw@h/db#vm'), 'files only'));
  assert.ok(m.endsWith('#vm: files only') && !m.includes('pw@'), m);
});

test('readTarget detects the format from content, not the name', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'looks-like.fd');
  writeFileSync(path, encodeQemuJson([v('A', [1])]));
  const r = await readTarget(parseStoreTarget(path));
  assert.equal(r.format, 'json');
  assert.equal(r.variables.length, 1);
  assert.equal(r.readOnly, false);
});

test('openTarget saves atomically in the store\'s own format and layout; a store that does not parse is never written', async (t) => {
  const dir = tempDir(t);
  const fd = join(dir, 'vars.fd');
  writeFileSync(fd, await codecFor('edk2').encode([v('A', [1])], undefined));
  const size = readFileSync(fd).length;
  const s = await openTarget(requireFile(parseStoreTarget(fd), ''));
  assert.equal(s.format, 'edk2');
  await s.save([...s.variables, v('B', [2, 3])]);
  const back = readFileSync(fd);
  assert.equal(detectFormat(back), 'edk2');
  assert.equal(back.length, size, 'the same image geometry');
  assert.deepEqual((await readTarget(parseStoreTarget(fd))).variables.map((x) => [...x.data]), [[1], [2, 3]]);
  assert.deepEqual(readdirSync(dir).sort(), ['vars.fd'], 'no temporary file left');

  const broken = join(dir, 'broken.json');
  const text = '{"version": 2, "variables": [ {"guid": "not-a-guid"';
  writeFileSync(broken, text);
  await assert.rejects(openTarget(requireFile(parseStoreTarget(broken), '')), (e: Error) => e instanceof StoreFileError && e.message.startsWith(`${broken}: `));
  assert.equal(readFileSync(broken, 'utf8'), text);
});

test('openTarget refuses a store while a daemon holds it or its state directory', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'vm1.json');
  writeFileSync(path, encodeQemuJson([]));
  for (const lockPath of [storeLockPath(path), stateDirLockPath(dir)]) {
    const lock = await StoreLock.acquire(lockPath, path);
    try {
      for (const target of [parseStoreTarget(path), parseStoreTarget('vm1', { stateDir: dir })]) {
        await assert.rejects(openTarget(requireFile(target, '')), (e: Error) => e instanceof StoreInUseError && e.message.startsWith(`${path}: in use`));
        await assert.rejects(checkNewTarget(target, 'json'), StoreInUseError);
      }
    } finally {
      await lock.release();
    }
  }
  assert.equal((await openTarget(requireFile(parseStoreTarget('vm1', { stateDir: dir }), ''))).format, 'json');
});

test('an efivarfs directory opens read-only and its save refuses', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, `Boot0000-${GUID}`), Uint8Array.of(7, 0, 0, 0, 1, 2));
  const s = await openTarget(requireFile(parseStoreTarget(dir), ''));
  assert.equal(s.readOnly, true);
  assert.equal(s.format, 'efivarfs');
  await assert.rejects(s.save([]), (e: Error) => e instanceof StoreFileError && /read-only/.test(e.message));
  assert.deepEqual(readdirSync(dir), [`Boot0000-${GUID}`]);
});

test('checkNewTarget refuses a file of another format before anything is read', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'out.bin');
  writeFileSync(path, encodeQemuJson([]));
  await assert.rejects(checkNewTarget(parseStoreTarget(path), 'edk2'), (e: Error) => e instanceof StoreFileError && /holds a store in json format/.test(e.message));
  await checkNewTarget(parseStoreTarget(join(dir, 'new.aws')), 'aws');
});

test('a PostgreSQL VM: written new once, read back as it stands, refused as new again', { skip: noPostgres }, async (t) => {
  const url = await testDatabase(t);
  const target = parseStoreTarget(`${url}#vm-a`);
  await writeTarget(target, undefined, [v('A', [9])]);
  const r = await readTarget(target);
  assert.equal(r.format, 'postgres');
  assert.deepEqual(r.variables.map((x) => [...x.data]), [[9]]);
  await assert.rejects(writeTarget(target, undefined, []));
  await assert.rejects(readTarget(parseStoreTarget(`${url}#vm-none`)), /no such VM/);
});
