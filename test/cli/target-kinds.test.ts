/**
 * Every command that takes a STORE accepts each kind of target it did before
 * StoreTarget (docs/cli.md, Arguments): a store file; a state directory's VM
 * (DIR/<vm>.json, guarded by the directory's daemon lock); a PostgreSQL VM
 * (read by print, get, diff, convert, replay --store; refused by set, delete
 * and enroll, which write files only). A malformed postgresql:// argument is a
 * usage error (exit 1) that never prints the password, and writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, SHARED } from '../helpers/cli.js';
import { noPostgres, testDatabase } from '../helpers/postgres.js';
import { StoreLock, stateDirLockPath } from '../../src/persist/store-lock.js';
import { encodeQemuJson } from '../../src/persist/json-qemu.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';

const GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
const TRACE = join(SHARED, 'traces/qemu-conformance/get-malformed.pcap');
const store = (): Uint8Array => encodeQemuJson([makeVariable({ guid: GUID, name: encodeName('Timeout'), attributes: 7, data: Uint8Array.of(5, 0), time: new Uint8Array(16) })]);

test('a state directory\'s VM file is a STORE for print, get, set, delete and diff; a daemon holding the directory stops the writes', async (t) => {
  const dir = tempDir(t);
  const vm = join(dir, 'vm1.json');
  writeFileSync(vm, store());
  assert.match(cli('print', vm).lines[0]!, /^.*vm1\.json: json store, 1 variables$/);
  assert.equal(cli('get', vm, 'Timeout').stdout.trim(), '0500');
  assert.equal(cli('set', vm, 'Timeout', '7', '--hex', '0600').lines[0], 'EFI_SUCCESS');
  assert.equal(cli('get', vm, 'Timeout').stdout.trim(), '0600');
  const lock = await StoreLock.acquire(stateDirLockPath(dir), dir);
  try {
    const before = readFileSync(vm);
    for (const args of [['set', vm, 'Timeout', '7', '--hex', '0700'], ['delete', vm, 'Timeout']]) {
      const r = cli(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /in use by a running uefi-vars daemon/);
    }
    assert.deepEqual(readFileSync(vm), before, 'nothing written while the daemon holds the directory');
    // Reading needs no claim.
    assert.equal(cli('diff', vm, vm).code, 0);
  } finally {
    await lock.release();
  }
  assert.equal(cli('delete', vm, 'Timeout').lines[0], 'EFI_SUCCESS');
});

test('a malformed postgresql:// STORE is a usage error naming the URL without its password, for every command', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.json');
  writeFileSync(file, store());
  const bad = 'postgresql://vars:s3cret@127.0.0.1:1/fleet';
  const runs: string[][] = [
    ['print', bad], ['get', bad, 'Timeout'], ['diff', file, bad], ['diff', bad, file],
    ['convert', bad, join(dir, 'out.json')], ['convert', file, `${bad}#`],
    ['set', bad, 'Timeout', '7', '--hex', '00'], ['delete', bad, 'Timeout'],
    ['replay', TRACE, '--store', bad],
    ['apply', join(SHARED, 'vectors/signed/dbx/DBXUpdate_amd64.bin'), bad],
  ];
  for (const args of runs) {
    const r = cli(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /name the VM after a '#'/, args.join(' '));
    assert.ok(!r.stderr.includes('s3cret') && !r.stdout.includes('s3cret'), args.join(' '));
  }
});

test('set, delete and enroll refuse a PostgreSQL VM (exit 1, one line, no password), before connecting', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'x'));
  const vm = 'postgresql://vars:s3cret@127.0.0.1:1/fleet#vm1';
  const runs: Array<[string[], RegExp]> = [
    [['set', vm, 'Timeout', '7', '--hex', '00'], /set and delete work on store files/],
    [['delete', vm, 'Timeout'], /set and delete work on store files/],
    [['enroll', vm, '--secure-boot'], /enroll reads and writes store files/],
    [['enroll', '--secure-boot', '--output', vm], /enroll reads and writes store files/],
  ];
  for (const [args, why] of runs) {
    const r = cli(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!r.stderr.includes('s3cret'), r.stderr);
  }
});

test('a PostgreSQL VM is a STORE for print, get, diff, convert (IN and OUT) and replay --store', { skip: noPostgres }, async (t) => {
  const dir = tempDir(t);
  const url = await testDatabase(t);
  const file = join(dir, 'a.json');
  writeFileSync(file, store());
  const vm = `${url}#vm-a`;
  assert.equal(cli('convert', file, vm).code, 0);
  const printed = cli('print', vm);
  assert.equal(printed.code, 0);
  assert.match(printed.lines[0]!, /#vm-a: postgres store, 1 variables$/);
  assert.equal(cli('get', vm, 'Timeout').stdout.trim(), '0500');
  assert.equal(cli('diff', file, vm).code, 0, 'the same variables');
  const back = join(dir, 'back.json');
  assert.equal(cli('convert', vm, back).code, 0);
  assert.deepEqual(readFileSync(back), readFileSync(file));
  const fromFile = cli('replay', TRACE, '--store', file, '--json');
  const fromPg = cli('replay', TRACE, '--store', vm, '--json');
  assert.equal(fromPg.code, fromFile.code);
  assert.equal(fromPg.stdout, fromFile.stdout, 'the same replay from the same variables');
});
