/** `uefi-vars conformance` as a user runs it: table, --json, --junit, --only, exit codes; `qtest-serve --help`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { ALL_CASES } from '../../src/conformance/cases/index.js';
import { tempDir } from './helpers.js';

test('conformance inproc --only … --json: the selected cases, exit 0', () => {
  const r = cli('conformance', 'inproc', '--only', 'magic,21', '--only', 'policy-dup', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { ok: boolean; cases: Array<{ id: string; item: string; outcome: string }>; counts: Record<string, number> };
  assert.equal(j.ok, true);
  assert.deepEqual(j.cases.map((c) => c.id), ['magic', 'get-buffer-too-small', 'policy-duplicate']);
  assert.equal(j.counts['pass'], 3);
});

test('conformance inproc: a table with every case and a summary; --junit writes one testcase per case', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'junit.xml');
  const r = cli('conformance', 'inproc', '-q', '--junit', file);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.lines[0]!, /^case\s+spec\s+result\s+detail$/);
  assert.match(r.stdout, new RegExp(`inproc: ${ALL_CASES.length} cases, \\d+ passed, 0 failed`));
  assert.match(r.stdout, /attributes-zero-with-data\s+§8\.28 \[DIFF\]\s+known QEMU difference/);
  const xml = readFileSync(file, 'utf8');
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  assert.equal(xml.match(/<testcase /g)?.length, ALL_CASES.length);
  assert.match(xml, /<testcase classname="conformance\.§8\.15" name="fw-cfg-hardware-info" time="[\d.]+">\n\s+<skipped message="/);
  assert.match(xml, / failures="0" errors="0"/);
});

test('a target that cannot be reached: every case is a suite error, exit 2', (t) => {
  const r = cli('conformance', `socket-mm:${join(tempDir(t), 'nobody.sock')}`, '--only', 'payload-size', '--json');
  assert.equal(r.code, 2);
  const j = JSON.parse(r.stdout) as { cases: Array<{ outcome: string; detail: string }> };
  assert.equal(j.cases[0]!.outcome, 'error');
  assert.match(j.cases[0]!.detail, /while starting the target/);
});

test('usage errors exit 1 with one line; --help prints the spec', () => {
  const bad = cli('conformance', 'floppy:/dev/fd0');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown target kind "floppy"/);
  const none = cli('conformance', 'inproc', '--only', 'no-such-case');
  assert.equal(none.code, 1);
  const help = cli('conformance', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /uefi-vars conformance TARGET/);
  const qs = cli('qtest-serve', '--help');
  assert.equal(qs.code, 0);
  assert.match(qs.stdout, /qtest-serve -machine q35 -accel qtest -qtest unix:PATH/);
});
