/**
 * Reads an edk2 NV variable flash image into the live variables and the geometry
 * needed to write it back. Strict: anything edk2 would have to repair (bad
 * checksum, stray bytes after the last record, a broken FTW header) is a
 * StoreFormatError naming the byte offset, never a guess. The input is read in
 * place; only the live variables' names, data and time stamps are copied out.
 */
import { guidAt } from '../../wire/guid.js';
import { makeVariable, variableKey, type Variable } from '../../store/variable.js';
import { StoreFormatError } from '../format-error.js';
import { crc32, sum16 } from './checksum.js';
import { freshAfterStore, hasPendingWrite } from './ftw.js';
import {
  AUTH_RECORD, AUTH_VARIABLE_STORE_GUID, BLOCK_MAP_ENTRY_SIZE, FTW, FTW_FLAGS_VALID, FTW_WORKING_BLOCK_GUID, FV,
  FV_REVISION, FV_SIGNATURE, NV_DATA_FV_GUID, PLAIN_RECORD, PLAIN_VARIABLE_STORE_GUID, STORE, VARIABLE_START_ID,
  VARIABLE_STORE_FORMATTED, VARIABLE_STORE_HEALTHY, VAR_ADDED, VAR_ADDED_IN_DELETED_TRANSITION,
  alignHeader, at, hex, type BlockMapEntry, type Edk2Geometry, type FtwGeometry, type RecordLayout, type StoreFormat,
} from './layout.js';

export interface DecodedEdk2 {
  variables: Variable[];
  geometry: Edk2Geometry;
}

/**
 * A fresh copy of b[start, end). Not b.slice(): on a Node Buffer that is a view, which
 * would keep the whole image alive and let edits to it leak into the variables.
 */
const copy = (b: Uint8Array, start: number, end: number): Uint8Array => new Uint8Array(b.subarray(start, end));

const fail = (offset: number, problem: string): never => {
  throw new StoreFormatError(at(offset), problem);
};

interface FvHeader {
  fvLength: number;
  fvAttributes: number;
  fvRevision: number;
  headerLength: number;
  blockMap: BlockMapEntry[];
}

/** EFI_FIRMWARE_VOLUME_HEADER checks, in the order edk2's FVB drivers (ValidateFvHeader) make them, plus the PI rules on the block map. */
function readFvHeader(b: Uint8Array, view: DataView): FvHeader {
  if (b.length < FV.blockMap) fail(0, `file too short for a firmware volume header (${b.length} bytes)`);
  if (view.getUint32(FV.signature, true) !== FV_SIGNATURE) {
    fail(FV.signature, 'no firmware volume signature "_FVH" (not an edk2 flash store, or unformatted flash)');
  }
  const headerLength = view.getUint16(FV.headerLength, true);
  // edk2: "HeaderLength cannot be an odd number"; it must at least hold one block map entry and the terminator.
  if (headerLength % 2 !== 0 || headerLength < FV.blockMap + 2 * BLOCK_MAP_ENTRY_SIZE) {
    fail(FV.headerLength, `bad FV HeaderLength ${hex(headerLength)}`);
  }
  if (headerLength > b.length) fail(FV.headerLength, `FV HeaderLength ${hex(headerLength)} runs past the end of the file (${hex(b.length)} bytes)`);
  if (sum16(b, 0, headerLength) !== 0) fail(FV.checksum, 'bad FV header checksum');
  const fvRevision = b[FV.revision]!;
  if (fvRevision !== FV_REVISION) fail(FV.revision, `unsupported FV revision ${fvRevision} (expected ${FV_REVISION})`);
  const fsGuid = guidAt(b, FV.fileSystemGuid);
  if (fsGuid !== NV_DATA_FV_GUID) fail(FV.fileSystemGuid, `not a variable store firmware volume (FileSystemGuid ${fsGuid})`);
  for (let i = 0; i < 16; i++) if (b[FV.zeroVector + i] !== 0) fail(FV.zeroVector + i, 'FV ZeroVector is not zero');
  if (view.getUint16(FV.extHeaderOffset, true) !== 0) fail(FV.extHeaderOffset, 'FV extension header in a variable store');
  const fvLength = view.getUint32(FV.fvLength, true) + view.getUint32(FV.fvLength + 4, true) * 0x1_0000_0000;
  if (fvLength > b.length) fail(FV.fvLength, `FvLength ${hex(fvLength)} runs past the end of the file (${hex(b.length)} bytes)`);

  // Block map: {NumBlocks, Length} entries, ended by {0, 0}, which must close the header exactly.
  const blockMap: BlockMapEntry[] = [];
  let covered = 0;
  let o = FV.blockMap;
  for (;; o += BLOCK_MAP_ENTRY_SIZE) {
    if (o + BLOCK_MAP_ENTRY_SIZE > headerLength) fail(o, 'FV block map has no {0, 0} terminator inside HeaderLength');
    const numBlocks = view.getUint32(o, true);
    const length = view.getUint32(o + 4, true);
    if (numBlocks === 0 && length === 0) break;
    if (numBlocks === 0 || length === 0) fail(o, `bad FV block map entry {${numBlocks}, ${hex(length)}}`);
    blockMap.push({ numBlocks, length });
    covered += numBlocks * length;
  }
  if (o + BLOCK_MAP_ENTRY_SIZE !== headerLength) {
    fail(FV.headerLength, `FV HeaderLength ${hex(headerLength)} does not match the block map (ends at ${hex(o + BLOCK_MAP_ENTRY_SIZE)})`);
  }
  // The block map may describe the whole flash device rather than the FV: ArmVirtPkg's
  // VirtNorFlashDxe formats a 64 MiB AAVMF pflash with NumBlocks = LastBlock + 1 (256 x
  // 0x40000) and FvLength = variables + FTW working + spare (0xC0000), and its
  // ValidateFvHeader, like virt-fw-vars, compares FvLength only. FvLength bounds the
  // store; the map must still cover the FV and describe no more than the file holds.
  if (covered < fvLength) fail(FV.blockMap, `FV block map covers ${hex(covered)} bytes, less than FvLength ${hex(fvLength)}`);
  if (covered > fvLength) {
    if (covered > b.length) fail(FV.blockMap, `FV block map covers ${hex(covered)} bytes, more than the file holds (${hex(b.length)} bytes)`);
    if (!endsOnBlock(blockMap, fvLength)) fail(FV.fvLength, `FvLength ${hex(fvLength)} ends inside a block of the FV block map`);
  }
  return { fvLength, fvAttributes: view.getUint32(FV.attributes, true), fvRevision, headerLength, blockMap };
}

/** Whether `length` bytes from the start of the FV end exactly on a block boundary of `map`. */
function endsOnBlock(map: readonly BlockMapEntry[], length: number): boolean {
  let at = 0;
  for (const e of map) {
    const span = e.numBlocks * e.length;
    if (length <= at + span) return (length - at) % e.length === 0;
    at += span;
  }
  return length === at;
}

interface StoreHeader {
  format: StoreFormat;
  size: number;
}

/** VARIABLE_STORE_HEADER checks of edk2 GetVariableStoreStatus (signature, Format, State) plus its extent. */
function readStoreHeader(b: Uint8Array, view: DataView, storeOffset: number, fvLength: number): StoreHeader {
  if (storeOffset + STORE.headerSize > fvLength) fail(storeOffset, 'no room for the variable store header inside the firmware volume');
  const sig = guidAt(b, storeOffset + STORE.signature);
  let format: StoreFormat;
  if (sig === AUTH_VARIABLE_STORE_GUID) format = 'authenticated';
  else if (sig === PLAIN_VARIABLE_STORE_GUID) format = 'plain';
  else if (sig === 'ffffffff-ffff-ffff-ffff-ffffffffffff') return fail(storeOffset, 'variable store is not formatted (erased flash)');
  else return fail(storeOffset, `unknown variable store signature ${sig}`);
  const size = view.getUint32(storeOffset + STORE.size, true);
  if (size < STORE.headerSize) fail(storeOffset + STORE.size, `variable store Size ${hex(size)} is smaller than its header`);
  if (storeOffset + size > fvLength) {
    fail(storeOffset + STORE.size, `variable store runs past the firmware volume (Size ${hex(size)}, FV ends at ${hex(fvLength)})`);
  }
  const fmt = b[storeOffset + STORE.format]!;
  if (fmt !== VARIABLE_STORE_FORMATTED) fail(storeOffset + STORE.format, `variable store Format ${hex(fmt)} is not formatted (0x5a)`);
  const state = b[storeOffset + STORE.state]!;
  if (state !== VARIABLE_STORE_HEALTHY) fail(storeOffset + STORE.state, `variable store State ${hex(state)} is not healthy (0xfe)`);
  return { format, size };
}

interface LiveRecord {
  offset: number;
  state: number;
  key: string;
}

/**
 * Walks the records from HEADER_ALIGN(store + 28) to HEADER_ALIGN(store + Size)
 * (edk2 GetStartPointer / GetEndPointer) and resolves the live set the way edk2
 * FindVariableEx and VariableServiceGetNextVariableInternal do:
 * - a record is live only when its State is exactly VAR_ADDED (0x3F) or
 *   VAR_ADDED & VAR_IN_DELETED_TRANSITION (0x3E); every other value (0x7F header
 *   only, 0x3D/0x3C deleted, 0xFF, any other bit pattern) is skipped;
 * - a 0x3E record counts only when no 0x3F record has the same name and GUID,
 *   and among several 0x3E copies the last one wins (FindVariableEx keeps the
 *   last in-transition match);
 * - of two 0x3F copies (edk2 never leaves them) the first wins, as GetVariable sees it.
 * Sizes follow NameSizeOfVariable/DataSizeOfVariable: a header with State 0xFF or
 * any of NameSize, DataSize, Attributes all-ones has sizes 0 (a half-written header).
 */
function readRecords(b: Uint8Array, view: DataView, storeOffset: number, store: StoreHeader): Variable[] {
  const layout: RecordLayout = store.format === 'authenticated' ? AUTH_RECORD : PLAIN_RECORD;
  const end = alignHeader(storeOffset + store.size);
  const limit = Math.min(end, b.length);
  let pos = alignHeader(storeOffset + STORE.headerSize);
  const records: LiveRecord[] = [];
  const variables = new Map<number, Variable>();

  while (pos + 2 <= limit) {
    const startId = view.getUint16(pos, true);
    if (startId === 0xffff) break;
    if (startId !== VARIABLE_START_ID) fail(pos, `bad variable StartId ${hex(startId)} (expected 0x55aa or erased 0xffff)`);
    if (pos + layout.headerSize > limit) fail(pos, 'variable header runs past the store end');
    const state = b[pos + layout.state]!;
    const attributes = view.getUint32(pos + layout.attributes, true);
    let nameSize = view.getUint32(pos + layout.nameSize, true);
    let dataSize = view.getUint32(pos + layout.dataSize, true);
    if (state === 0xff || nameSize === 0xffffffff || dataSize === 0xffffffff || attributes === 0xffffffff) {
      nameSize = 0;
      dataSize = 0;
    }
    const nameAt = pos + layout.headerSize;
    const dataAt = nameAt + nameSize;
    const recordEnd = dataAt + dataSize;
    if (recordEnd > limit) {
      fail(pos, `variable record runs past the store end (NameSize ${hex(nameSize)}, DataSize ${hex(dataSize)}, store ends at ${hex(end)})`);
    }
    if (state === VAR_ADDED || state === VAR_ADDED_IN_DELETED_TRANSITION) {
      checkName(b, nameAt, nameSize);
      const guid = guidAt(b, pos + layout.vendorGuid);
      const name = copy(b, nameAt, dataAt);
      const time = layout.timeStamp === undefined ? undefined : copy(b, pos + layout.timeStamp, pos + layout.timeStamp + 16);
      records.push({ offset: pos, state, key: variableKey(guid, name) });
      variables.set(pos, makeVariable({ guid, name, attributes, data: copy(b, dataAt, recordEnd), time }));
    }
    pos = alignHeader(recordEnd);
  }
  // Erased flash after the last record: edk2 reclaims a store whose free space is not all 0xFF.
  for (let i = pos; i < limit; i++) {
    if (b[i] !== 0xff) fail(i, 'data after the end of the variable list (free space is not erased)');
  }

  const added = new Set<string>();
  const lastInTransition = new Map<string, number>();
  const keep = new Set<number>();
  for (const r of records) {
    if (r.state === VAR_ADDED) {
      if (!added.has(r.key)) keep.add(r.offset);
      added.add(r.key);
    } else {
      lastInTransition.set(r.key, r.offset);
    }
  }
  for (const [key, offset] of lastInTransition) if (!added.has(key)) keep.add(offset);
  return records.filter((r) => keep.has(r.offset)).map((r) => variables.get(r.offset)!);
}

/**
 * A live record's name must be what edk2 SetVariable stores: StrSize(name) bytes of
 * UCS-2, so an even NameSize of at least 4, no NUL before the last unit, and a NUL there.
 */
function checkName(b: Uint8Array, nameAt: number, nameSize: number): void {
  if (nameSize % 2 !== 0) fail(nameAt, `odd variable NameSize ${nameSize}`);
  if (nameSize < 4) fail(nameAt, `variable name is empty (NameSize ${nameSize})`);
  const last = nameAt + nameSize - 2;
  for (let o = nameAt; o < last; o += 2) {
    if (b[o] === 0 && b[o + 1] === 0) fail(o, 'variable name has a NUL before its end');
  }
  if (b[last] !== 0 || b[last + 1] !== 0) fail(last, 'variable name is not NUL-terminated');
}

/**
 * The FTW working block (FaultTolerantWriteDxe) sits on a block boundary after the
 * variable store, possibly after an event-log area (OVMF: one 0x1000 block). It is
 * searched for by its signature; when found, it must be the header edk2's
 * IsValidWorkSpace accepts: CRC-32 over the header with Crc and the flag byte
 * erased (0xFFFFFFFF, 0xFF), flags 0xFE (valid, not invalid), reserved bytes
 * erased, and the write queue inside the FV. The spare block runs from the end of
 * the working area to the end of the FV.
 */
function findFtw(b: Uint8Array, view: DataView, storeEnd: number, fv: FvHeader): FtwGeometry | null {
  const block = fv.blockMap[0]!.length;
  const sig = FTW_WORKING_BLOCK_GUID;
  for (let o = Math.ceil(storeEnd / block) * block; o + FTW.headerSize <= fv.fvLength; o += block) {
    if (b[o] !== 0x2b || guidAt(b, o) !== sig) continue;
    const header = copy(b, o, o + FTW.headerSize);
    header.fill(0xff, FTW.crc, FTW.flags + 1);
    const computed = crc32(header);
    const stored = view.getUint32(o + FTW.crc, true);
    if (computed !== stored) fail(o + FTW.crc, `bad FTW working block CRC (stored ${hex(stored)}, computed ${hex(computed)})`);
    const flags = b[o + FTW.flags]!;
    if (flags !== FTW_FLAGS_VALID) fail(o + FTW.flags, `FTW working block is not marked valid (flags ${hex(flags)}, expected 0xfe)`);
    for (let i = 0; i < 3; i++) if (b[o + FTW.reserved + i] !== 0xff) fail(o + FTW.reserved + i, 'FTW working block reserved byte is not 0xff');
    const queue = view.getUint32(o + FTW.writeQueueSize, true) + view.getUint32(o + FTW.writeQueueSize + 4, true) * 0x1_0000_0000;
    const workingSize = FTW.headerSize + queue;
    if (o + workingSize > fv.fvLength) fail(o + FTW.writeQueueSize, `FTW write queue (${hex(queue)} bytes) runs past the firmware volume`);
    const spareOffset = o + workingSize;
    return { workingOffset: o, workingSize, spareOffset, spareSize: fv.fvLength - spareOffset };
  }
  return null;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether b[start, end) holds one byte value throughout (then the value is enough to write it back). */
function uniform(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start + 1; i < end; i++) if (b[i] !== b[start]) return false;
  return true;
}

export function decodeEdk2Fd(bytes: Uint8Array): DecodedEdk2 {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fv = readFvHeader(bytes, view);
  const storeOffset = fv.headerLength;
  const store = readStoreHeader(bytes, view, storeOffset, fv.fvLength);
  const variables = readRecords(bytes, view, storeOffset, store);
  const storeEnd = alignHeader(storeOffset + store.size);
  const ftw = findFtw(bytes, view, storeEnd, fv);
  // What lies after the variable store inside the FV (event-log area, FTW working block
  // and its queue, spare block) is written back as it was, as virt-fw-vars does, unless
  // the queue holds an unfinished write that would replay over the rewritten store.
  const keepAfterStore = storeEnd < fv.fvLength && !(ftw && hasPendingWrite(bytes, view, ftw))
    && !sameBytes(bytes.subarray(storeEnd, fv.fvLength), freshAfterStore(storeEnd, fv.fvLength, ftw));
  const keepTail = bytes.length > fv.fvLength && !uniform(bytes, fv.fvLength, bytes.length);
  const geometry: Edk2Geometry = {
    fileSize: bytes.length,
    fvLength: fv.fvLength,
    fvAttributes: fv.fvAttributes,
    fvRevision: fv.fvRevision,
    blockMap: fv.blockMap,
    storeFormat: store.format,
    storeOffset,
    storeSize: store.size,
    ftw,
    tailFill: bytes.length > fv.fvLength ? bytes[fv.fvLength]! : 0xff,
    ...(keepAfterStore ? { afterStore: copy(bytes, storeEnd, fv.fvLength) } : {}),
    ...(keepTail ? { tail: copy(bytes, fv.fvLength, bytes.length) } : {}),
  };
  return { variables, geometry };
}
