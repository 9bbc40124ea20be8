/**
 * The fault-tolerant-write regions of an NV store FV (MdeModulePkg
 * FaultTolerantWriteDxe): what a fresh working block looks like, and whether a
 * working block read from an image still holds an unfinished write.
 */
import { writeGuid } from '../../wire/guid.js';
import { crc32 } from './checksum.js';
import { FTW, FTW_FLAGS_VALID, FTW_WORKING_BLOCK_GUID, type FtwGeometry } from './layout.js';

/**
 * EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER with an empty (erased) write queue at
 * `at` in `out`: the CRC is taken with Crc and the flag byte erased, then the
 * flags are programmed to "valid" (UpdateWorkingBlock.c).
 */
export function writeFreshWorkingHeader(out: Uint8Array, at: number, workingSize: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  writeGuid(FTW_WORKING_BLOCK_GUID, out, at + FTW.signature);
  const queue = workingSize - FTW.headerSize;
  view.setUint32(at + FTW.writeQueueSize, queue % 0x1_0000_0000, true);
  view.setUint32(at + FTW.writeQueueSize + 4, Math.floor(queue / 0x1_0000_0000), true);
  view.setUint32(at + FTW.crc, crc32(out.subarray(at, at + FTW.headerSize)), true);
  out[at + FTW.flags] = FTW_FLAGS_VALID;
}

/** What a fresh image holds in [storeEnd, fvLength): erased flash and, if any, a fresh working block header. */
export function freshAfterStore(storeEnd: number, fvLength: number, ftw: FtwGeometry | null): Uint8Array {
  const out = new Uint8Array(fvLength - storeEnd).fill(0xff);
  if (ftw) writeFreshWorkingHeader(out, ftw.workingOffset - storeEnd, ftw.workingSize);
  return out;
}

/** EFI_FAULT_TOLERANT_WRITE_HEADER and _RECORD (FaultTolerantWriteDxe/FaultTolerantWrite.h): 40 bytes each, naturally aligned. */
const FTW_WRITE_HEADER_SIZE = 40;
const FTW_WRITE_RECORD_SIZE = 40;

/**
 * Whether the write queue holds a write edk2 has not finished: a header whose
 * HeaderAllocated bit is programmed (0, FTW_VALID_STATE) but whose Complete bit
 * (bit 2) is not. FtwGetLastWriteHeader walks the queue the same way; on the
 * next boot edk2 would finish such a write by copying the spare block over its
 * target, so a rewritten store must not keep it.
 */
export function hasPendingWrite(b: Uint8Array, view: DataView, ftw: FtwGeometry): boolean {
  const end = ftw.workingOffset + ftw.workingSize;
  let o = ftw.workingOffset + FTW.headerSize;
  while (o + FTW_WRITE_HEADER_SIZE <= end) {
    const status = b[o]!;
    if ((status & 0x01) !== 0) return false; // header not allocated: end of the queue
    if ((status & 0x04) !== 0) return true;
    const writes = view.getUint32(o + 24, true) + view.getUint32(o + 28, true) * 0x1_0000_0000;
    const privateSize = view.getUint32(o + 32, true) + view.getUint32(o + 36, true) * 0x1_0000_0000;
    o += FTW_WRITE_HEADER_SIZE + writes * (FTW_WRITE_RECORD_SIZE + privateSize);
  }
  return false;
}

