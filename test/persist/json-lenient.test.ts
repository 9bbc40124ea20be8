import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, SHARED } from '../helpers/cli.js';
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { VmRegistry, SINGLE_VM_ID } from '../../src/daemon/server/registry.js';
import { VariableService } from '../../src/service/variable-service.js';
import { replayTrace } from '../../src/replay/replay.js';
import { parsePcap } from '../../src/wire/pcap.js';
import { toHex } from '../../src/wire/hex.js';
import type { Variable } from '../../src/store/variable.js';

const EDGE = join(SHARED, 'traces/qemu-conformance/deviations/json-store-edge');
const G = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
const enc = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));
const store = (...variables: object[]): Uint8Array => enc({ version: 2, variables });

/** UCS-2 LE units of a name as stored (NUL included). */
const units = (v: Variable): number[] => Array.from({ length: v.name.length / 2 }, (_, i) => v.name[2 * i]! | (v.name[2 * i + 1]! << 8));

function lenient(bytes: Uint8Array): { vars: Variable[]; warnings: string[] } {
  const warnings: string[] = [];
  const vars = decodeQemuJson(bytes, { lenient: true, warn: (where, what) => warnings.push(`${where}: ${what}`) });
  return { vars, warnings };
}

test('by default a store QEMU would have to repair is refused with one line naming the field', () => {
  const refused = (bytes: Uint8Array, where: string): void => {
    assert.throws(() => decodeQemuJson(bytes), (e: unknown) => e instanceof StoreFormatError && e.where === where && !e.message.includes('\n'));
  };
  refused(store({ name: 'A', guid: 'not-a-guid', attr: 7, data: '01' }), 'variables[0].guid');
  refused(store({ name: 'A', guid: G, attr: 7, data: '0g' }), 'variables[0].data');
  refused(store({ name: 'A', guid: G, attr: 7, data: '012' }), 'variables[0].data');
  // A time of the wrong length is ignored in both modes (spec §8 item 69); only --lenient-json says so.
  assert.equal(toHex(decodeQemuJson(store({ name: 'A', guid: G, attr: 39, data: '01', time: 'e907' }))[0]!.time), '0'.repeat(32));
  // Upper-case GUID text is standard text: read exactly (as lower case), in both modes.
  assert.equal(decodeQemuJson(store({ name: 'A', guid: G.toUpperCase(), attr: 7, data: '01' }))[0]!.guid, G);
});

test('--lenient-json: an invalid GUID is the nil GUID, one warning', () => {
  const { vars, warnings } = lenient(store({ name: 'A', guid: 'not-a-guid', attr: 7, data: '01' }, { name: 'B', guid: G.toUpperCase(), attr: 7, data: '02' }));
  assert.deepEqual(vars.map((v) => v.guid), ['00000000-0000-0000-0000-000000000000', G]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^variables\[0\]\.guid: /);
});

test('--lenient-json: each UTF-8 byte of a name is one code unit, sign-extended as on x86 (é = C3 A9 -> FFC3 FFA9)', () => {
  const { vars, warnings } = lenient(store(
    { name: 'Caf\u00e9', guid: G, attr: 7, data: '01' },
    { name: '\u65e5x', guid: G, attr: 7, data: '02' }, // E6 97 A5
    { name: 'Plain', guid: G, attr: 7, data: '03' },
  ));
  assert.deepEqual(units(vars[0]!), [0x43, 0x61, 0x66, 0xffc3, 0xffa9, 0]);
  assert.deepEqual(units(vars[1]!), [0xffe6, 0xff97, 0xffa5, 0x78, 0]);
  assert.deepEqual(units(vars[2]!), [...'Plain'].map((c) => c.charCodeAt(0)).concat(0));
  assert.deepEqual(warnings.map((w) => w.split(':')[0]), ['variables[0].name', 'variables[1].name']);
});

test('--lenient-json: a time that is not 32 characters is ignored (zero time), one warning; 32 digits are used', () => {
  const { vars, warnings } = lenient(store(
    { name: 'Short', guid: G, attr: 39, data: '01', time: 'e907' },
    { name: 'Long', guid: G, attr: 39, data: '01', time: 'e9070101000000000000000000000000' },
  ));
  assert.equal(toHex(vars[0]!.time), '0'.repeat(32));
  assert.equal(toHex(vars[1]!.time), 'e9070101000000000000000000000000');
  assert.deepEqual(warnings.map((w) => w.split(':')[0]), ['variables[0].time']);
});

test('--lenient-json: hex as parse_hexstr reads it, checked against a byte-wise model on random strings', () => {
  // Model: strlen/2 bytes; each character of the C string that is not [0-9a-fA-F] is nibble 0.
  const model = (s: string): number[] => {
    const b = new TextEncoder().encode(s);
    const n = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : 0);
    return Array.from({ length: b.length >> 1 }, (_, i) => (n(b[2 * i]!) << 4) | n(b[2 * i + 1]!));
  };
  const alphabet = '0123456789abcdefABCDEFgz-\u00e9 ';
  let seed = 12345;
  const rnd = (k: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % k; };
  for (let i = 0; i < 300; i++) {
    const s = Array.from({ length: rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
    const { vars, warnings } = lenient(store({ name: 'H', guid: G, attr: 7, data: s }));
    assert.deepEqual([...vars[0]!.data], model(s), JSON.stringify(s));
    const clean = /^([0-9a-fA-F]{2})*$/.test(s);
    assert.equal(warnings.length, clean ? 0 : 1, JSON.stringify(s));
    // Where strict mode reads it, both modes agree.
    if (clean) assert.deepEqual(decodeQemuJson(store({ name: 'H', guid: G, attr: 7, data: s }))[0]!.data, vars[0]!.data);
  }
});

test('--lenient-json keeps refusing what QEMU refuses too (unknown key, missing member) and an empty name', () => {
  for (const bad of [
    store({ name: 'A', guid: G, attr: 7, data: '01', extra: 1 }),
    store({ name: 'A', guid: G, attr: 7 }),
    enc({ variables: [] }),
    store({ name: '', guid: G, attr: 7, data: '01' }),
  ]) assert.throws(() => lenient(bad), StoreFormatError);
});

test('json-store-edge replays exact with --lenient-json, and ends with QEMU\'s store (names compared as QEMU writes them)', async () => {
  const { vars, warnings } = lenient(readFileSync(EDGE + '.initial.json'));
  assert.equal(warnings.length, 3, warnings.join('\n'));
  const svc = await VariableService.create({ variables: vars, options: {} });
  const report = await replayTrace(parsePcap(readFileSync(EDGE + '.pcap')), svc);
  assert.equal(report.requests, 53);
  assert.deepEqual(report.differences, []);
  // QEMU writes every code unit >= 0x80 as '?' (spec §6.2); apply the same to ours to compare.
  const asQemu = (v: Variable): string =>
    `${v.guid}/${units(v).slice(0, -1).map((u) => (u < 0x80 ? String.fromCharCode(u) : '?')).join('')}/${v.attributes}/${toHex(v.data)}`;
  const expected = decodeQemuJson(readFileSync(EDGE + '.final.json'));
  assert.deepEqual(svc.nonVolatileVariables().map(asQemu).sort(), expected.map(asQemu).sort());
  // What we write back reads back exactly without --lenient-json (nothing lost)...
  const written = encodeQemuJson(svc.nonVolatileVariables());
  assert.deepEqual(decodeQemuJson(written), svc.nonVolatileVariables());
  // ...and with it, the names QEMU's reading produced stay as they are; only the real U+00E9
  // name the guest created (seq 38) is read the way QEMU would read it.
  const again = lenient(written);
  assert.deepEqual(again.warnings.map((w) => w.split(':')[0]), ['variables[7].name']);
  assert.deepEqual(again.vars.filter((v, i) => i !== 7), svc.nonVolatileVariables().filter((v, i) => i !== 7));
});

test('CLI: print refuses the edge store (exit 1, one line); print/convert/replay --lenient-json load it with one warning per field', (t) => {
  const dir = tempDir(t);
  const strict = cli('print', EDGE + '.initial.json');
  assert.equal(strict.code, 1);
  assert.equal(strict.stderr.trim().split('\n').length, 1);
  assert.match(strict.stderr, /json-store-edge\.initial\.json: variables\[0\]\.guid: not a GUID/);

  const p = cli('print', EDGE + '.initial.json', '--lenient-json', '--json');
  assert.equal(p.code, 0, p.stderr);
  assert.equal((JSON.parse(p.stdout) as { variables: unknown[] }).variables.length, 5);
  const warnings = p.stderr.trim().split('\n');
  assert.equal(warnings.length, 3);
  assert.ok(warnings.every((w) => w.startsWith('uefi-vars: warning: ') && w.includes('json-store-edge.initial.json')));

  const out = join(dir, 'out.json');
  const c = cli('convert', EDGE + '.initial.json', out, '--lenient-json');
  assert.equal(c.code, 0, c.stderr);
  assert.equal(decodeQemuJson(readFileSync(out)).length, 5, 'the converted store loads without --lenient-json');

  const r = cli('replay', EDGE + '.pcap', '--store', EDGE + '.initial.json', '--lenient-json');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.lines.at(-1)!, /^53 requests, 0 mismatches/);
  assert.equal(cli('replay', EDGE + '.pcap', '--store', EDGE + '.initial.json').code, 1);
});

test('serve --lenient-json: the registry loads the store as QEMU does and reports each repair for the VM; without it the store is unavailable', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'vm.json');
  copyFileSync(EDGE + '.initial.json', path);
  const seen: string[] = [];
  const base = { layout: { kind: 'single' as const, path }, options: {}, rateLimit: { ratePerSecond: 0, burst: 0 } };
  await assert.rejects(new VmRegistry(base).get(SINGLE_VM_ID, true), /variables\[0\]\.guid/);
  assert.deepEqual(readFileSync(path), readFileSync(EDGE + '.initial.json'), 'a refused store is not written');
  const vm = await new VmRegistry({ ...base, lenientJson: (id, line) => seen.push(`${id} ${line}`) }).get(SINGLE_VM_ID, true);
  assert.equal(seen.length, 3);
  assert.ok(seen.every((l) => l.startsWith(`${SINGLE_VM_ID} ${path}: variables[`)));
  assert.ok(vm.service.variables().some((v) => v.guid === '00000000-0000-0000-0000-000000000000'));
  writeFileSync(join(dir, 'done'), '');
});
