/**
 * Writes a compacted edk2 NV variable flash image: what edk2's Reclaim() leaves
 * behind, laid out like the OVMF/ArmVirt templates. Every variable becomes one
 * VAR_ADDED record and the free space is erased flash (0xFF). What follows the
 * store (event-log area, FTW working block, spare block) and the padding past
 * FvLength are written back as the geometry kept them from the image read; a
 * fresh geometry has them erased, with an empty FTW write queue.
 *
 * Not stored, by design: the private-authenticated-variable `digest` (edk2 keeps
 * that signer information in its own "certdb" variable, so a flash record has no
 * field for it), MonotonicCount and PubKeyIndex (written 0: edk2 ignores them for
 * time-based variables and rejects count-based ones).
 */
import { writeGuid } from '../../wire/guid.js';
import { displayName } from '../../wire/ucs2.js';
import { isZeroTime } from '../../wire/time.js';
import { Attr } from '../../wire/attributes.js';
import { variableKey, type Variable } from '../../store/variable.js';
import { StoreFormatError } from '../format-error.js';
import { sum16 } from './checksum.js';
import { writeFreshWorkingHeader } from './ftw.js';
import {
  AUTH_RECORD, AUTH_VARIABLE_STORE_GUID, BLOCK_MAP_ENTRY_SIZE, FTW, FV,
  FV_SIGNATURE, NV_DATA_FV_GUID, PLAIN_RECORD, PLAIN_VARIABLE_STORE_GUID, STORE, VARIABLE_START_ID,
  VARIABLE_STORE_FORMATTED, VARIABLE_STORE_HEALTHY, VAR_ADDED, alignHeader, fvHeaderLength, hex,
  type Edk2Geometry, type RecordLayout,
} from './layout.js';

const bad = (field: string, problem: string): never => {
  throw new StoreFormatError(`geometry.${field}`, problem);
};

/** A geometry that would produce an image our own decoder (or edk2) rejects is refused up front. */
function checkGeometry(g: Edk2Geometry): void {
  const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!Number.isSafeInteger(g.fileSize) || !Number.isSafeInteger(g.fvLength) || g.fvLength > g.fileSize) {
    bad('fvLength', `FvLength ${hex(g.fvLength)} does not fit the file size ${hex(g.fileSize)}`);
  }
  if (g.blockMap.length === 0) bad('blockMap', 'empty block map');
  let covered = 0;
  for (const e of g.blockMap) {
    if (!isU32(e.numBlocks) || !isU32(e.length) || e.numBlocks === 0 || e.length === 0) bad('blockMap', 'bad block map entry');
    covered += e.numBlocks * e.length;
  }
  // A map wider than the FV describes the flash device (AAVMF: 256 x 0x40000 for FvLength 0xC0000); decode.ts.
  if (covered < g.fvLength || covered > Math.max(g.fvLength, g.fileSize)) {
    bad('blockMap', `block map covers ${hex(covered)} bytes, FvLength is ${hex(g.fvLength)}, the file ${hex(g.fileSize)}`);
  }
  const headerLength = fvHeaderLength(g.blockMap.length);
  if (headerLength > 0xffff) bad('blockMap', 'too many block map entries');
  if (g.storeOffset !== headerLength) bad('storeOffset', `must equal the FV HeaderLength ${hex(headerLength)}`);
  if (!isU32(g.storeSize) || g.storeSize < STORE.headerSize || g.storeOffset + g.storeSize > g.fvLength) {
    bad('storeSize', `variable store of ${hex(g.storeSize)} bytes does not fit the firmware volume`);
  }
  if (!isU32(g.fvAttributes)) bad('fvAttributes', 'not a 32-bit value');
  if (g.fvRevision !== 2) bad('fvRevision', 'must be 2');
  if (!Number.isInteger(g.tailFill) || g.tailFill < 0 || g.tailFill > 0xff) bad('tailFill', 'not a byte value');
  const storeEnd = alignHeader(g.storeOffset + g.storeSize);
  if (g.afterStore && g.afterStore.length !== g.fvLength - storeEnd) bad('afterStore', `holds ${g.afterStore.length} bytes, the FV has ${hex(g.fvLength - storeEnd)} after the store`);
  if (g.tail && g.tail.length !== g.fileSize - g.fvLength) bad('tail', `holds ${g.tail.length} bytes, the file has ${hex(g.fileSize - g.fvLength)} past the FV`);
  const f = g.ftw;
  if (f) {
    const block = g.blockMap[0]!.length;
    if (f.workingOffset < storeEnd || f.workingOffset % block !== 0) bad('ftw.workingOffset', 'must be a block boundary after the variable store');
    if (f.workingSize < FTW.headerSize || f.workingOffset + f.workingSize !== f.spareOffset || f.spareOffset + f.spareSize !== g.fvLength) {
      bad('ftw', 'working area and spare block must follow each other up to the end of the FV');
    }
  }
}

interface Prepared {
  v: Variable;
  size: number;
}

/** Checks each variable against what a flash record can hold and returns the records' sizes. */
function prepare(variables: readonly Variable[], layout: RecordLayout, plain: boolean): Prepared[] {
  const seen = new Set<string>();
  return variables.map((v, i) => {
    const where = `variables[${i}]`;
    const label = `${displayName(v.name)} (${v.guid})`;
    const n = v.name;
    if (n.length < 4 || n.length % 2 !== 0 || n[n.length - 1] !== 0 || n[n.length - 2] !== 0) {
      throw new StoreFormatError(`${where}.name`, `${label}: name must be non-empty UCS-2 ending in one NUL`);
    }
    for (let o = 0; o < n.length - 2; o += 2) {
      if (n[o] === 0 && n[o + 1] === 0) throw new StoreFormatError(`${where}.name`, `${label}: name has a NUL before its end`);
    }
    // Flash holds non-volatile variables only (spec §6.1); a volatile one here is a caller bug, not something to persist.
    if ((v.attributes & Attr.NV) === 0) throw new StoreFormatError(where, `${label}: volatile variable (no NV attribute) cannot be written to flash`);
    if (plain && !isZeroTime(v.time)) throw new StoreFormatError(`${where}.time`, `${label}: a non-authenticated store has no time stamp field`);
    const key = variableKey(v.guid, n);
    if (seen.has(key)) throw new StoreFormatError(where, `${label}: duplicate variable`);
    seen.add(key);
    return { v, size: alignHeader(layout.headerSize + n.length + v.data.length) };
  });
}

export function encodeEdk2Fd(variables: readonly Variable[], geometry: Edk2Geometry): Uint8Array {
  const g = geometry;
  checkGeometry(g);
  const plain = g.storeFormat === 'plain';
  const layout = plain ? PLAIN_RECORD : AUTH_RECORD;
  const records = prepare(variables, layout, plain);
  const first = alignHeader(g.storeOffset + STORE.headerSize);
  const end = alignHeader(g.storeOffset + g.storeSize);
  let need = 0;
  for (const r of records) need += r.size;
  if (first + need > end) throw new StoreFormatError('store', `variables need ${need} bytes, the store holds ${end - first}`);

  const out = new Uint8Array(g.fileSize);
  out.fill(0xff, 0, g.fvLength);
  if (g.tail) out.set(g.tail, g.fvLength);
  else if (g.fileSize > g.fvLength) out.fill(g.tailFill, g.fvLength);
  const view = new DataView(out.buffer);

  // EFI_FIRMWARE_VOLUME_HEADER: ZeroVector, FileSystemGuid, FvLength, "_FVH", Attributes, HeaderLength,
  // Checksum, ExtHeaderOffset 0, Reserved 0, Revision, block map + {0,0}.
  const headerLength = g.storeOffset;
  out.fill(0, 0, headerLength);
  writeGuid(NV_DATA_FV_GUID, out, FV.fileSystemGuid);
  view.setUint32(FV.fvLength, g.fvLength % 0x1_0000_0000, true);
  view.setUint32(FV.fvLength + 4, Math.floor(g.fvLength / 0x1_0000_0000), true);
  view.setUint32(FV.signature, FV_SIGNATURE, true);
  view.setUint32(FV.attributes, g.fvAttributes, true);
  view.setUint16(FV.headerLength, headerLength, true);
  out[FV.revision] = g.fvRevision;
  g.blockMap.forEach((e, i) => {
    view.setUint32(FV.blockMap + i * BLOCK_MAP_ENTRY_SIZE, e.numBlocks, true);
    view.setUint32(FV.blockMap + i * BLOCK_MAP_ENTRY_SIZE + 4, e.length, true);
  });
  view.setUint16(FV.checksum, (0x10000 - sum16(out, 0, headerLength)) & 0xffff, true);

  // VARIABLE_STORE_HEADER: signature, Size, Format 0x5A, State 0xFE, Reserved 0, Reserved1 0.
  const s = g.storeOffset;
  writeGuid(plain ? PLAIN_VARIABLE_STORE_GUID : AUTH_VARIABLE_STORE_GUID, out, s + STORE.signature);
  view.setUint32(s + STORE.size, g.storeSize, true);
  out[s + STORE.format] = VARIABLE_STORE_FORMATTED;
  out[s + STORE.state] = VARIABLE_STORE_HEALTHY;
  out.fill(0, s + STORE.reserved, s + STORE.headerSize);

  // Records: header, name, data; the alignment padding stays erased (0xFF), as flash leaves it.
  let pos = first;
  for (const { v, size } of records) {
    out.fill(0, pos, pos + layout.headerSize);
    view.setUint16(pos, VARIABLE_START_ID, true);
    out[pos + layout.state] = VAR_ADDED;
    view.setUint32(pos + layout.attributes, v.attributes, true);
    if (layout.timeStamp !== undefined) out.set(v.time.subarray(0, 16), pos + layout.timeStamp);
    view.setUint32(pos + layout.nameSize, v.name.length, true);
    view.setUint32(pos + layout.dataSize, v.data.length, true);
    writeGuid(v.guid, out, pos + layout.vendorGuid);
    out.set(v.name, pos + layout.headerSize);
    out.set(v.data, pos + layout.headerSize + v.name.length);
    pos += size;
  }

  // After the store: what the image read held there, else erased flash and a fresh FTW working block.
  if (g.afterStore) out.set(g.afterStore, end);
  else if (g.ftw) writeFreshWorkingHeader(out, g.ftw.workingOffset, g.ftw.workingSize);
  return out;
}
