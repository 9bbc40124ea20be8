import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { decodeEdk2Fd } from '../../src/persist/edk2-fd.js';
import { StoreFormatError } from '../../src/persist/format-error.js';

/**
 * Damaged copies of every Debian store: each must fail with a StoreFormatError that
 * names the byte offset of the damage and says what is wrong, never with another
 * exception or a silently different variable list.
 */

const VECTORS = path.resolve(process.cwd(), '../shared/vectors');

interface RefRecord { offset: string; State: string; NameSize: number; DataSize: number }
interface RefParse {
  size: number;
  variable_store_header: { Size: number };
  first_free_offset: string;
  records: RefRecord[];
  ftw_working_block_header: { offset: string };
}
interface Rec { offset: number; nameSize: number; dataSize: number }
interface Info {
  size: number;
  storeEnd: number;
  firstFree: number;
  ftw: number;
  /** A live record that has another record after it. */
  rec: Rec;
  /** The record after `rec`. */
  next: Rec;
  /** A record in the middle of the list. */
  mid: Rec;
}

const HDR = 60; // AUTHENTICATED_VARIABLE_HEADER
const align4 = (n: number): number => Math.ceil(n / 4) * 4;
const hex = (n: number): string => `offset 0x${n.toString(16)}`;
const u16 = (b: Uint8Array, o: number, v: number): void => { new DataView(b.buffer, b.byteOffset).setUint16(o, v, true); };
const u32 = (b: Uint8Array, o: number, v: number): void => { new DataView(b.buffer, b.byteOffset).setUint32(o, v, true); };
const u32get = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
const get32 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint32(o, true);

/** Recomputes the FV header checksum (so a header edit reaches the check it is aimed at). */
function fixFv(b: Uint8Array): Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset);
  let len = Math.min(view.getUint16(0x30, true), b.length) & ~1;
  if (len < 0x34) len = 0x48;
  view.setUint16(0x32, 0, true);
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum = (sum + view.getUint16(i, true)) & 0xffff;
  view.setUint16(0x32, (0x10000 - sum) & 0xffff, true);
  return b;
}

/** Recomputes the FTW working block CRC the edk2 way (Crc and flags erased), with node's zlib.crc32. */
function fixFtw(b: Uint8Array, ftw: number): Uint8Array {
  const h = b.slice(ftw, ftw + 32);
  h.fill(0xff, 16, 21);
  u32(b, ftw + 16, zlib.crc32(h));
  return b;
}

/** Writes a live 0x3f record by hand (an empty template has none to damage). */
function writeRecord(b: Uint8Array, at: number, name: string, data: number[]): Rec {
  b.fill(0, at, at + HDR);
  u16(b, at, 0x55aa);
  b[at + 2] = 0x3f;
  u32(b, at + 4, 7);
  const nameSize = 2 * name.length + 2;
  u32(b, at + 36, nameSize);
  u32(b, at + 40, data.length);
  b.set([0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c], at + 44);
  for (let i = 0; i < name.length; i++) { b[at + HDR + 2 * i] = name.charCodeAt(i); b[at + HDR + 2 * i + 1] = 0; }
  b[at + HDR + nameSize - 2] = 0;
  b[at + HDR + nameSize - 1] = 0;
  b.set(data, at + HDR + nameSize);
  return { offset: at, nameSize, dataSize: data.length };
}

function load(file: string, parse: string): { bytes: Uint8Array; info: Info } {
  const bytes = new Uint8Array(readFileSync(path.join(VECTORS, 'varstores/ovmf', file)));
  const ref = JSON.parse(readFileSync(path.join(VECTORS, 'reference/varstore-parse', parse), 'utf8')) as RefParse;
  const base = {
    size: ref.size,
    storeEnd: 0x48 + ref.variable_store_header.Size,
    ftw: Number(ref.ftw_working_block_header.offset),
  };
  const recs = ref.records.map((r) => ({ offset: Number(r.offset), nameSize: r.NameSize, dataSize: r.DataSize, live: r.State === '0x3f' }));
  if (recs.length === 0) {
    // Empty template: add two records, so record-level damage has something to hit.
    const a = writeRecord(bytes, 0x64, 'Test', [1, 2, 3, 4, 5]);
    const nextAt = align4(a.offset + HDR + a.nameSize + a.dataSize);
    const b = writeRecord(bytes, nextAt, 'Tesu', [6, 7, 8]);
    assert.equal(decodeEdk2Fd(bytes).variables.length, 2, 'the two added records are valid');
    return { bytes, info: { ...base, firstFree: align4(b.offset + HDR + b.nameSize + b.dataSize), rec: a, next: b, mid: b } };
  }
  const i = recs.findIndex((r, k) => r.live && k + 1 < recs.length);
  return { bytes, info: { ...base, firstFree: Number(ref.first_free_offset), rec: recs[i]!, next: recs[i + 1]!, mid: recs[recs.length >> 1]! } };
}

interface Case {
  name: string;
  damage: (b: Uint8Array, s: Info) => Uint8Array;
  where: (s: Info) => string;
  problem: RegExp;
}

const CASES: Case[] = [
  { name: 'empty file', damage: (b) => b.subarray(0, 0), where: () => 'offset 0x0', problem: /too short for a firmware volume header/ },
  { name: 'truncated inside the FV header (0x30 bytes)', damage: (b) => b.subarray(0, 0x30), where: () => 'offset 0x0', problem: /too short/ },
  { name: 'truncated inside the block map (0x47 bytes)', damage: (b) => b.subarray(0, 0x47), where: () => 'offset 0x30', problem: /HeaderLength 0x48 runs past the end of the file/ },
  { name: 'truncated inside the variable store header', damage: (b) => b.subarray(0, 0x60), where: () => 'offset 0x20', problem: /FvLength 0x[0-9a-f]+ runs past the end of the file \(0x60 bytes\)/ },
  { name: 'truncated inside the variable area', damage: (b, s) => b.subarray(0, s.firstFree - 4), where: () => 'offset 0x20', problem: /FvLength .* runs past the end of the file/ },
  { name: 'truncated inside the FTW header', damage: (b, s) => b.subarray(0, s.ftw + 0x10), where: () => 'offset 0x20', problem: /FvLength .* runs past the end of the file/ },
  { name: 'one byte short', damage: (b) => b.subarray(0, b.length - 1), where: () => 'offset 0x20', problem: /FvLength .* runs past the end of the file/ },
  { name: 'wrong FV magic', damage: (b) => { b[0x2b] = 0x58; return b; }, where: () => 'offset 0x28', problem: /no firmware volume signature "_FVH"/ },
  { name: 'bad FV header checksum', damage: (b) => { b[0x32]! ^= 0x01; return b; }, where: () => 'offset 0x32', problem: /bad FV header checksum/ },
  { name: 'FV attributes changed without the checksum', damage: (b) => { b[0x2c] = 0x00; return b; }, where: () => 'offset 0x32', problem: /bad FV header checksum/ },
  { name: 'bad FileSystemGuid', damage: (b) => { b[0x10] = 0x8e; return fixFv(b); }, where: () => 'offset 0x10', problem: /not a variable store firmware volume \(FileSystemGuid fff12b8e-/ },
  { name: 'FvLength larger than the file', damage: (b, s) => { u32(b, 0x20, s.size + 0x1000); return fixFv(b); }, where: () => 'offset 0x20', problem: /FvLength 0x[0-9a-f]+ runs past the end of the file/ },
  // A block map wider than FvLength is accepted (AAVMF, issue 17); then the store no longer fits the FV.
  { name: 'FvLength smaller than the block map and the store', damage: (b) => { u32(b, 0x20, 0x1000); return fixFv(b); }, where: () => 'offset 0x58', problem: /variable store runs past the firmware volume/ },
  { name: 'block map smaller than FvLength', damage: (b) => { u32(b, 0x38, u32get(b, 0x38) - 1); return fixFv(b); }, where: () => 'offset 0x38', problem: /block map covers 0x[0-9a-f]+ bytes, less than FvLength/ },
  { name: 'block map wider than the file', damage: (b) => { u32(b, 0x38, u32get(b, 0x38) + 1); return fixFv(b); }, where: () => 'offset 0x38', problem: /more than the file holds/ },
  { name: 'odd HeaderLength', damage: (b) => { u16(b, 0x30, 0x49); return fixFv(b); }, where: () => 'offset 0x30', problem: /bad FV HeaderLength 0x49/ },
  { name: 'HeaderLength past the block map', damage: (b) => { u16(b, 0x30, 0x50); return fixFv(b); }, where: () => 'offset 0x30', problem: /HeaderLength 0x50 does not match the block map/ },
  { name: 'FV Revision 1', damage: (b) => { b[0x37] = 1; return fixFv(b); }, where: () => 'offset 0x37', problem: /unsupported FV revision 1/ },
  { name: 'block map terminator overwritten', damage: (b) => { u32(b, 0x40, 1); u32(b, 0x44, 0x1000); return fixFv(b); }, where: () => 'offset 0x48', problem: /no \{0, 0\} terminator/ },
  { name: 'non-zero ZeroVector', damage: (b) => { b[5] = 0xea; return fixFv(b); }, where: () => 'offset 0x5', problem: /ZeroVector is not zero/ },
  { name: 'FV extension header offset', damage: (b) => { u16(b, 0x34, 0x48); return fixFv(b); }, where: () => 'offset 0x34', problem: /extension header/ },
  { name: 'bad variable store signature', damage: (b) => { b[0x48] = 0x79; return b; }, where: () => 'offset 0x48', problem: /unknown variable store signature aaf32c79-/ },
  { name: 'erased variable store header', damage: (b) => { b.fill(0xff, 0x48, 0x64); return b; }, where: () => 'offset 0x48', problem: /not formatted \(erased flash\)/ },
  { name: 'store Format not 0x5a', damage: (b) => { b[0x5c] = 0x00; return b; }, where: () => 'offset 0x5c', problem: /Format 0x0 is not formatted/ },
  { name: 'store State not 0xfe', damage: (b) => { b[0x5d] = 0xff; return b; }, where: () => 'offset 0x5d', problem: /State 0xff is not healthy/ },
  { name: 'store Size past the FV', damage: (b, s) => { u32(b, 0x58, s.size); return b; }, where: () => 'offset 0x58', problem: /variable store runs past the firmware volume/ },
  { name: 'store Size smaller than its header', damage: (b) => { u32(b, 0x58, 0x10); return b; }, where: () => 'offset 0x58', problem: /smaller than its header/ },
  {
    name: 'record NameSize runs past the store end',
    damage: (b, s) => { u32(b, s.rec.offset + 36, 0x7ffffff0); return b; },
    where: (s) => hex(s.rec.offset), problem: /variable record runs past the store end \(NameSize 0x7ffffff0/,
  },
  {
    name: 'record DataSize runs past the store end',
    damage: (b, s) => { u32(b, s.rec.offset + 40, s.storeEnd); return b; },
    where: (s) => hex(s.rec.offset), problem: /variable record runs past the store end/,
  },
  {
    name: 'oversized record overlapping the next header',
    damage: (b, s) => { u32(b, s.rec.offset + 40, s.rec.dataSize + 8); return b; },
    where: (s) => hex(s.next.offset + 8), problem: /bad variable StartId 0x[0-9a-f]+ \(expected 0x55aa/,
  },
  {
    name: 'bad StartId in the middle of the list',
    damage: (b, s) => { u16(b, s.mid.offset, 0x1234); return b; },
    where: (s) => hex(s.mid.offset), problem: /bad variable StartId 0x1234/,
  },
  {
    name: 'live name without its NUL',
    damage: (b, s) => { b[s.rec.offset + HDR + s.rec.nameSize - 2] = 0x58; return b; },
    where: (s) => hex(s.rec.offset + HDR + s.rec.nameSize - 2), problem: /variable name is not NUL-terminated/,
  },
  {
    name: 'odd NameSize (record length unchanged)',
    damage: (b, s) => { u32(b, s.rec.offset + 36, s.rec.nameSize - 1); u32(b, s.rec.offset + 40, s.rec.dataSize + 1); return b; },
    where: (s) => hex(s.rec.offset + HDR), problem: /odd variable NameSize/,
  },
  {
    name: 'empty name (NameSize 2)',
    damage: (b, s) => { u32(b, s.rec.offset + 36, 2); u32(b, s.rec.offset + 40, s.rec.dataSize + s.rec.nameSize - 2); return b; },
    where: (s) => hex(s.rec.offset + HDR), problem: /variable name is empty/,
  },
  {
    name: 'NUL inside the name',
    damage: (b, s) => { b[s.rec.offset + HDR] = 0; b[s.rec.offset + HDR + 1] = 0; return b; },
    where: (s) => hex(s.rec.offset + HDR), problem: /NUL before its end/,
  },
  {
    name: 'record header cut by the store end',
    damage: (b, s) => { u16(b, s.firstFree, 0x55aa); u32(b, 0x58, s.firstFree + 12 - 0x48); return b; },
    where: (s) => hex(s.firstFree), problem: /variable header runs past the store end/,
  },
  {
    name: 'stray byte in the erased free space',
    damage: (b, s) => { b[s.storeEnd - 7] = 0x00; return b; },
    where: (s) => hex(s.storeEnd - 7), problem: /free space is not erased/,
  },
  { name: 'bad FTW CRC', damage: (b, s) => { b[s.ftw + 16]! ^= 0x80; return b; }, where: (s) => hex(s.ftw + 16), problem: /bad FTW working block CRC/ },
  { name: 'FTW header field changed without the CRC', damage: (b, s) => { b[s.ftw + 24] = 0xe1; return b; }, where: (s) => hex(s.ftw + 16), problem: /bad FTW working block CRC/ },
  { name: 'FTW working block not marked valid', damage: (b, s) => { b[s.ftw + 20] = 0xff; return b; }, where: (s) => hex(s.ftw + 20), problem: /not marked valid \(flags 0xff/ },
  { name: 'FTW reserved byte programmed', damage: (b, s) => { b[s.ftw + 22] = 0x00; return fixFtw(b, s.ftw); }, where: (s) => hex(s.ftw + 22), problem: /reserved byte is not 0xff/ },
  {
    name: 'FTW write queue past the FV',
    damage: (b, s) => { u32(b, s.ftw + 24, s.size); return fixFtw(b, s.ftw); },
    where: (s) => hex(s.ftw + 24), problem: /FTW write queue \(0x[0-9a-f]+ bytes\) runs past the firmware volume/,
  },
];

const DEBIAN = [
  ['OVMF_VARS_4M.fd', 'OVMF_VARS_4M.fd.json'],
  ['OVMF_VARS_4M.ms.fd', 'OVMF_VARS_4M.ms.fd.json'],
  ['OVMF_VARS_4M.snakeoil.fd', 'OVMF_VARS_4M.snakeoil.fd.json'],
  ['OVMF_VARS.fd', 'OVMF_VARS.fd.json'],
  ['OVMF_VARS.ms.fd', 'OVMF_VARS.ms.fd.json'],
] as const;

describe('every Debian store, damaged in each way, is a StoreFormatError naming the offset', () => {
  assert.ok(CASES.length >= 20);
  for (const [file, parse] of DEBIAN) {
    describe(file, () => {
      for (const c of CASES) {
        test(c.name, () => {
          const { bytes, info } = load(file, parse);
          decodeEdk2Fd(bytes); // the undamaged fixture decodes
          const damaged = c.damage(bytes.slice(), info);
          assert.throws(() => decodeEdk2Fd(damaged), (e: unknown) => {
            assert.ok(e instanceof StoreFormatError, `StoreFormatError, got ${String(e)}`);
            assert.equal(e.where, c.where(info));
            assert.match(e.problem, c.problem);
            return true;
          });
        });
      }
    });
  }
});

describe('property: random damage decodes or is a StoreFormatError, nothing else', () => {
  for (const [file, parse] of DEBIAN) {
    test(file, () => {
      const { bytes, info } = load(file, parse);
      const hot = fc.oneof(
        fc.nat({ max: 0x80 }), // FV and store headers
        fc.integer({ min: 0x64, max: info.firstFree + 0x40 }), // records
        fc.integer({ min: info.ftw, max: info.ftw + 0x3f }), // FTW header
        fc.nat({ max: bytes.length - 1 }),
      );
      fc.assert(fc.property(
        fc.array(fc.record({ at: hot, value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 6 }),
        fc.boolean(), // also fix the FV checksum and FTW CRC, so the damage gets past them
        fc.option(fc.nat({ max: bytes.length }), { nil: undefined }),
        (edits, fix, cut) => {
          let b = bytes.slice();
          for (const e of edits) b[e.at] = e.value;
          if (fix) { fixFv(b); if (get32(b, info.ftw) !== 0xffffffff) fixFtw(b, info.ftw); }
          if (cut !== undefined) b = b.subarray(0, cut);
          try {
            decodeEdk2Fd(b);
          } catch (e) {
            if (!(e instanceof StoreFormatError)) throw e;
            assert.match(e.where, /^offset 0x[0-9a-f]+$/);
          }
        },
      ), { numRuns: 400 });
    });
  }
});
