import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, SHARED } from '../helpers/cli.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { toHex } from '../../src/wire/hex.js';
import { nameKey } from '../../src/wire/ucs2.js';
import type { Variable } from '../../src/store/variable.js';

const OVMF = join(SHARED, 'vectors/varstores/ovmf');
const STORES = readdirSync(OVMF).filter((f) => f.endsWith('.fd')).sort();

const rows = (vars: readonly Variable[]): string[] =>
  vars.map((v) => `${v.guid} ${nameKey(v.name)} ${v.attributes} ${toHex(v.time)} ${toHex(v.data)}`);

for (const f of STORES) {
  test(`${f}: .fd -> json -> .fd -> json is lossless (name, guid, attr, time, data, order)`, (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'a.json'), b = join(dir, 'b.fd'), c = join(dir, 'c.json');
    assert.equal(cli('convert', join(OVMF, f), a).code, 0);
    const tmpl = join(OVMF, f);
    assert.equal(cli('convert', a, b, '--template', tmpl).code, 0);
    assert.equal(readFileSync(b).length, readFileSync(tmpl).length, 'same geometry');
    assert.equal(cli('convert', b, c).code, 0);
    assert.deepEqual(rows(decodeQemuJson(readFileSync(c))), rows(decodeQemuJson(readFileSync(a))));
  });

  test(`${f}: json -> aws -> json is lossless`, (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'a.json'), b = join(dir, 'b.aws'), c = join(dir, 'c.json');
    assert.equal(cli('convert', join(OVMF, f), a).code, 0);
    assert.equal(cli('convert', a, b).code, 0);
    assert.match(readFileSync(b, 'latin1').slice(0, 10), /^QU1aTlVFRk/, 'AWS base64 magic');
    assert.equal(cli('convert', b, c).code, 0);
    const aTimeFree = decodeQemuJson(readFileSync(a)).map((v) => ({ ...v, time: v.attributes & 0x20 ? v.time : new Uint8Array(16) }));
    assert.deepEqual(rows(decodeQemuJson(readFileSync(c))), rows(aTimeFree));
  });
}

test('convert of the gzip-compressed, never-booted AAVMF image gives an empty store', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'aa.json');
  const r = cli('convert', join(SHARED, 'vectors/varstores/aavmf/AAVMF_VARS.fd.gz'), out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(decodeQemuJson(readFileSync(out)), []);
});

test('convert of an efivarfs directory reads every variable with its attributes', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'efi.json');
  const src = join(SHARED, 'vectors/varstores/efivarfs/shim-test-data-efivars-1');
  assert.equal(cli('convert', src, out).code, 0);
  const index = JSON.parse(readFileSync(join(SHARED, 'vectors/reference/efivarfs-shim-test-data-efivars-1.index.json'), 'utf8')) as { name: string; guid: string; attributes: string; data_size: number }[];
  const got = decodeQemuJson(readFileSync(out));
  assert.equal(got.length, index.length);
  for (const e of index) {
    const v = got.find((x) => x.guid === e.guid && nameKey(x.name) === e.name);
    assert.ok(v, e.name);
    assert.equal(v.attributes, Number(e.attributes));
    assert.equal(v.data.length, e.data_size);
  }
  // ...and is never written to.
  assert.equal(cli('set', src, 'X', 'global', '7', '--hex', '00').code, 1);
});

/** Twenty ways to damage an edk2 store, each at a place the reader must notice. */
const CORRUPTIONS: [string, (b: Uint8Array) => Uint8Array][] = [
  ['truncated inside the FV header', (b) => b.slice(0, 0x30)],
  ['truncated before the store header', (b) => b.slice(0, 0x50)],
  ['truncated inside the variable area', (b) => b.slice(0, 0x200)],
  ['truncated to half', (b) => b.slice(0, b.length >> 1)],
  ['FV signature damaged', (b) => set(b, 0x28, 0x5e)],
  ['FV header checksum wrong', (b) => set(b, 0x32, b[0x32]! ^ 0xff)],
  ['FvLength larger than the file', (b) => setU32(b, 0x20, 0x7fffffff)],
  ['HeaderLength too small', (b) => fixChecksum(setU16(b, 0x30, 0x20))],
  ['HeaderLength past the block map', (b) => fixChecksum(setU16(b, 0x30, 0x1000))],
  ['FV revision unknown', (b) => fixChecksum(set(b, 0x37, 9))],
  ['block map does not cover FvLength', (b) => fixChecksum(setU32(b, 0x38, 1))],
  ['variable store signature damaged', (b) => set(b, 0x48, b[0x48]! ^ 0x01)],
  ['variable store not formatted', (b) => set(b, 0x48 + 20, 0x00)],
  ['variable store unhealthy', (b) => set(b, 0x48 + 21, 0x00)],
  ['variable store larger than the FV', (b) => setU32(b, 0x48 + 16, 0x7fff0000)],
  ['variable store smaller than its header', (b) => setU32(b, 0x48 + 16, 4)],
  ['a record whose NameSize runs past the store', (b) => record(b, 0xfffff0, 4)],
  ['a record whose DataSize runs past the store', (b) => record(b, 8, 0x7ffffff0)],
  ['a record with an odd NameSize', (b) => record(b, 7, 4)],
  ['a record name without its NUL', (b) => record(b, 8, 4, true)],
  ['garbage where erased space should be', (b) => { const end = 0x48 + new DataView(b.buffer, b.byteOffset).getUint32(0x48 + 16, true); return set(set(b, end - 16, 0x12), end - 15, 0x34); }],
  ['FTW working block CRC wrong', (b) => ftw(b)],
];

function set(b: Uint8Array, off: number, v: number): Uint8Array { const c = b.slice(); c[off] = v; return c; }
function setU16(b: Uint8Array, off: number, v: number): Uint8Array { const c = b.slice(); new DataView(c.buffer).setUint16(off, v, true); return c; }
function setU32(b: Uint8Array, off: number, v: number): Uint8Array { const c = b.slice(); new DataView(c.buffer).setUint32(off, v, true); return c; }
function fixChecksum(b: Uint8Array): Uint8Array {
  const v = new DataView(b.buffer);
  v.setUint16(0x32, 0, true);
  const len = Math.min(v.getUint16(0x30, true), 0x48);
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum = (sum + v.getUint16(i, true)) & 0xffff;
  v.setUint16(0x32, (0x10000 - sum) & 0xffff, true);
  return b;
}
/** Append one AUTHENTICATED_VARIABLE_HEADER record after the last live record. */
function record(b: Uint8Array, nameSize: number, dataSize: number, noNul = false): Uint8Array {
  const c = b.slice();
  const v = new DataView(c.buffer);
  let off = 0x64;
  while (v.getUint16(off, true) === 0x55aa) {
    const n = v.getUint32(off + 36, true), d = v.getUint32(off + 40, true);
    off = (off + 60 + n + d + 3) & ~3;
  }
  v.setUint16(off, 0x55aa, true); c[off + 2] = 0x3f; c[off + 3] = 0;
  v.setUint32(off + 4, 7, true);
  for (let i = 8; i < 36; i++) c[off + i] = 0;
  v.setUint32(off + 36, nameSize, true); v.setUint32(off + 40, dataSize, true);
  for (let i = 44; i < 60; i++) c[off + i] = 0x11;
  if (nameSize < 64) for (let i = 0; i < nameSize; i++) c[off + 60 + i] = noNul ? 0x41 : (i < nameSize - 2 ? 0x41 : 0);
  return c;
}
function ftw(b: Uint8Array): Uint8Array {
  const work = b.length === 0x84000 ? 0x41000 : 0xf000;
  return set(b, work + 16, b[work + 16]! ^ 0xff);
}

for (const f of STORES) {
  test(`${f}: each of ${CORRUPTIONS.length} corruptions is one error line naming the file and offset, exit 1, nothing written`, (t) => {
    const dir = tempDir(t);
    const good = new Uint8Array(readFileSync(join(OVMF, f)));
    for (const [what, damage] of CORRUPTIONS) {
      const bad = join(dir, 'bad.fd');
      const out = join(dir, 'out.json');
      writeFileSync(bad, damage(good));
      const r = cli('convert', bad, out);
      assert.equal(r.code, 1, `${what}: exit ${r.code} ${r.stdout}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${what}: one line`);
      assert.match(lines[0]!, /bad\.fd: (offset 0x[0-9a-f]+|store|offset 0): /, `${what}: ${lines[0]}`);
      assert.equal(existsSync(out), false, `${what}: no output file`);
      assert.deepEqual(readdirSync(dir).sort(), ['bad.fd'], `${what}: no temp file left`);
    }
  });
}

test('set on a damaged store refuses and leaves the file byte-identical', (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.fd');
  copyFileSync(join(OVMF, 'OVMF_VARS_4M.ms.fd'), bad);
  const damaged = CORRUPTIONS[5]![1](new Uint8Array(readFileSync(bad)));
  writeFileSync(bad, damaged);
  const r = cli('set', bad, 'X', 'global', '7', '--hex', '00');
  assert.equal(r.code, 1);
  assert.deepEqual(new Uint8Array(readFileSync(bad)), damaged);
});
