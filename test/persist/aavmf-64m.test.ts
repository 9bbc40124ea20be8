import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { cli, tempDir, SHARED } from '../helpers/cli.js';
import { decodeEdk2Fd, encodeEdk2Fd, defaultEdk2Geometry } from '../../src/persist/edk2-fd.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { toHex } from '../../src/wire/hex.js';
import type { Variable } from '../../src/store/variable.js';

/**
 * Debian's AAVMF_VARS.ms.fd / .snakeoil.fd shape (issue 17 item 3): a 64 MiB image whose
 * FV header was written by VirtNorFlashDxe, so the block map describes the whole flash
 * (256 x 0x40000) while FvLength is 0xC0000 (variables + FTW working + spare).
 */
const MIB64 = 64 * 1024 * 1024;
const FV_LENGTH = 0xc0000;
const WORKING = 0x40000;
const SPARE = 0x80000;
const DBX_UPDATE = join(SHARED, 'vectors/signed/dbx/DBXUpdate_arm64.bin');
const SECURITY = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';

const ovmfVars = (name: string): Variable[] =>
  decodeEdk2Fd(new Uint8Array(readFileSync(join(SHARED, 'vectors/varstores/ovmf', name)))).variables;

/** A deterministic, non-uniform byte pattern (xorshift), so "preserved" cannot pass by luck of a fill value. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; out[i] = x & 0xff; }
  return out;
}

/**
 * The image, built here: the ArmVirt template layout with the Debian variables, then the
 * header edited by hand as VirtNorFlashDxe writes it (NumBlocks 256, checksum recomputed
 * with a plain word sum), one completed FTW write in the working queue, stale bytes in the
 * spare block, and a non-uniform tail past FvLength.
 */
function debianAavmf(vars: Variable[], opts: { pendingWrite?: boolean } = {}): Uint8Array {
  const img = encodeEdk2Fd(vars, defaultEdk2Geometry('aavmf'));
  const view = new DataView(img.buffer);
  view.setUint32(0x38, 256, true);
  view.setUint16(0x32, 0, true);
  let sum = 0;
  for (let i = 0; i < 0x48; i += 2) sum = (sum + view.getUint16(i, true)) & 0xffff;
  view.setUint16(0x32, (0x10000 - sum) & 0xffff, true);
  // EFI_FAULT_TOLERANT_WRITE_HEADER: HeaderAllocated, WritesAllocated (and Complete unless pending) programmed to 0.
  const q = WORKING + 32;
  img[q] = opts.pendingWrite ? 0xfc : 0xf8;
  img.set(pattern(16, 7), q + 4);
  view.setUint32(q + 24, 1, true); view.setUint32(q + 28, 0, true); // NumberOfWrites 1
  view.setUint32(q + 32, 0, true); view.setUint32(q + 36, 0, true); // PrivateDataSize 0
  // EFI_FAULT_TOLERANT_WRITE_RECORD: SpareComplete and DestinationComplete programmed, Lba 0, Offset 0, Length 0x40000.
  img[q + 40] = 0xf9;
  img.fill(0, q + 41, q + 80);
  view.setUint32(q + 40 + 24, 0x40000, true);
  img.set(pattern(0x1000, 11), SPARE);
  img.set(pattern(MIB64 - FV_LENGTH, 23), FV_LENGTH);
  return img;
}

test('a 64 MiB AAVMF image whose block map (256 x 0x40000) is wider than FvLength 0xC0000 loads; FvLength bounds the store', () => {
  const vars = ovmfVars('OVMF_VARS_4M.ms.fd');
  const { variables, geometry } = decodeEdk2Fd(debianAavmf(vars));
  assert.deepEqual(variables, vars);
  assert.equal(geometry.fvLength, FV_LENGTH);
  assert.deepEqual(geometry.blockMap, [{ numBlocks: 256, length: 0x40000 }]);
  assert.deepEqual(geometry.ftw, { workingOffset: WORKING, workingSize: 0x40000, spareOffset: SPARE, spareSize: 0x40000 });
});

test('the other FV checks still hold on that shape: a map narrower than FvLength, wider than the file, or an FvLength inside a block is refused', () => {
  const img = debianAavmf(ovmfVars('OVMF_VARS_4M.ms.fd'));
  const refix = (b: Uint8Array): Uint8Array => {
    const v = new DataView(b.buffer);
    v.setUint16(0x32, 0, true);
    let sum = 0;
    for (let i = 0; i < 0x48; i += 2) sum = (sum + v.getUint16(i, true)) & 0xffff;
    v.setUint16(0x32, (0x10000 - sum) & 0xffff, true);
    return b;
  };
  const withBlocks = (n: number): Uint8Array => { const b = img.slice(); new DataView(b.buffer).setUint32(0x38, n, true); return refix(b); };
  assert.throws(() => decodeEdk2Fd(withBlocks(2)), (e: unknown) => e instanceof StoreFormatError && /less than FvLength/.test(e.message));
  assert.throws(() => decodeEdk2Fd(withBlocks(257)), (e: unknown) => e instanceof StoreFormatError && /more than the file holds/.test(e.message));
  const mid = img.slice();
  new DataView(mid.buffer).setUint32(0x20, FV_LENGTH + 0x1000, true);
  assert.throws(() => decodeEdk2Fd(refix(mid)), (e: unknown) => e instanceof StoreFormatError && /ends inside a block/.test(e.message));
  // And the header checksum is still checked.
  const bad = img.slice();
  bad[0x38] = 255;
  assert.throws(() => decodeEdk2Fd(bad), (e: unknown) => e instanceof StoreFormatError && /checksum/.test(e.message));
});

test('AAVMF .ms shape takes DBXUpdate_arm64.bin through `set` and is saved at 67,108,864 bytes, tail and FTW working block unchanged', (t) => {
  const path = join(tempDir(t), 'AAVMF_VARS.ms.fd');
  const before = debianAavmf(ovmfVars('OVMF_VARS_4M.ms.fd'));
  writeFileSync(path, before);
  const r = cli('set', path, 'dbx', SECURITY, 'NV|BS|RT|AT|AP', '--data-file', DBX_UPDATE);
  assert.equal(r.lines[0], 'EFI_SUCCESS', r.stderr);
  assert.equal(r.code, 0);
  const after = new Uint8Array(readFileSync(path));
  assert.equal(after.length, 67_108_864);
  assert.ok(Buffer.from(after.subarray(FV_LENGTH)).equals(Buffer.from(before.subarray(FV_LENGTH))), 'bytes past FvLength preserved');
  assert.ok(Buffer.from(after.subarray(WORKING, FV_LENGTH)).equals(Buffer.from(before.subarray(WORKING, FV_LENGTH))), 'FTW working block and spare unchanged');
  assert.ok(Buffer.from(after.subarray(0, 0x48)).equals(Buffer.from(before.subarray(0, 0x48))), 'FV header unchanged (block map 256 x 0x40000)');
  // The 26 arm64 hashes are now in dbx, after the store's one dummy entry (an EFI_SIGNATURE_LIST append).
  const dbx = decodeEdk2Fd(after).variables.find((v) => nameKey(v.name) === 'dbx' && v.guid === SECURITY);
  assert.ok(dbx);
  const payload = readFileSync(DBX_UPDATE);
  const listAt = 16 + new DataView(payload.buffer, payload.byteOffset).getUint32(16, true);
  assert.ok(toHex(dbx.data).endsWith(toHex(payload.subarray(listAt + 28 + 16))), 'the update\'s hashes are stored');
  assert.equal(dbx.attributes, 0x27);
});

test('AAVMF .snakeoil shape: the Microsoft-signed dbx update is refused (snakeoil KEK), and the image is left byte for byte', (t) => {
  const path = join(tempDir(t), 'AAVMF_VARS.snakeoil.fd');
  const before = debianAavmf(ovmfVars('OVMF_VARS_4M.snakeoil.fd'));
  writeFileSync(path, before);
  const r = cli('set', path, 'dbx', SECURITY, 'NV|BS|RT|AT|AP', '--data-file', DBX_UPDATE);
  assert.equal(r.lines[0], 'EFI_SECURITY_VIOLATION', r.stderr);
  assert.equal(r.code, 2);
  assert.ok(Buffer.from(readFileSync(path)).equals(Buffer.from(before)));
  // An accepted write on the same image keeps the tail and the FTW regions too.
  const ok = cli('set', path, 'Probe', '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', 'NV|BS|RT', '--hex', '01');
  assert.equal(ok.lines[0], 'EFI_SUCCESS', ok.stderr);
  const after = new Uint8Array(readFileSync(path));
  assert.equal(after.length, MIB64);
  assert.ok(Buffer.from(after.subarray(WORKING)).equals(Buffer.from(before.subarray(WORKING))));
});

test('an FTW queue holding an unfinished write is not carried over: fresh working header, erased queue and spare; the tail is still kept', () => {
  const before = debianAavmf(ovmfVars('OVMF_VARS_4M.ms.fd'), { pendingWrite: true });
  const { variables, geometry } = decodeEdk2Fd(before);
  const after = encodeEdk2Fd(variables, geometry);
  assert.equal(after.length, MIB64);
  assert.ok(Buffer.from(after.subarray(FV_LENGTH)).equals(Buffer.from(before.subarray(FV_LENGTH))));
  assert.ok(Buffer.from(after.subarray(WORKING, WORKING + 32)).equals(Buffer.from(before.subarray(WORKING, WORKING + 32))), 'same working block header');
  assert.ok(after.subarray(WORKING + 32, FV_LENGTH).every((x) => x === 0xff), 'queue and spare erased');
});

test('the real Debian AAVMF_VARS.fd (gunzipped here, 64 MiB of zeros) takes DBXUpdate_arm64.bin in Setup Mode and stays 64 MiB with a zero tail', (t) => {
  const blank = zlib.gunzipSync(readFileSync(join(SHARED, 'vectors/varstores/aavmf/AAVMF_VARS.fd.gz')));
  assert.equal(blank.length, MIB64);
  const path = join(tempDir(t), 'AAVMF_VARS.fd');
  writeFileSync(path, blank);
  const r = cli('set', path, 'dbx', SECURITY, 'NV|BS|RT|AT|AP', '--data-file', DBX_UPDATE);
  assert.equal(r.lines[0], 'EFI_SUCCESS', r.stderr);
  const after = new Uint8Array(readFileSync(path));
  assert.equal(after.length, MIB64);
  assert.ok(after.subarray(FV_LENGTH).every((x) => x === 0), 'the zero padding past FvLength stays');
  const d = decodeEdk2Fd(after);
  assert.equal(d.geometry.fvLength, FV_LENGTH);
  assert.ok(d.variables.some((v) => nameKey(v.name) === 'dbx' && v.guid === SECURITY));
  // Saved again: the image read back is what is written (nothing drifts on a second save).
  assert.ok(Buffer.from(encodeEdk2Fd(d.variables, d.geometry)).equals(Buffer.from(after)));
});
