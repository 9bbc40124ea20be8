/**
 * edk2 NV variable flash images (OVMF_VARS*.fd, AAVMF_VARS.fd, pflash "vars"
 * files): EFI_FIRMWARE_VOLUME_HEADER + VARIABLE_STORE_HEADER + variable records
 * + fault-tolerant-write regions. Pure codec: bytes in, bytes out, no I/O.
 *
 * - decodeEdk2Fd: the live variables in flash order and the geometry of the image;
 * - encodeEdk2Fd: a compacted image of the same geometry;
 * - defaultEdk2Geometry: the layout of the upstream/Debian templates, for a fresh image;
 * - isEdk2Fd: cheap content sniffing for format detection.
 */
import { guidAt } from '../wire/guid.js';
import { FV, FV_SIGNATURE, NV_DATA_FV_GUID } from './edk2/layout.js';

export { decodeEdk2Fd, type DecodedEdk2 } from './edk2/decode.js';
export { encodeEdk2Fd } from './edk2/encode.js';
export {
  defaultEdk2Geometry, type Edk2Geometry, type Edk2Kind, type FtwGeometry, type BlockMapEntry, type StoreFormat as Edk2StoreFormat,
} from './edk2/layout.js';

/** "_FVH" at 0x28 and FileSystemGuid = EFI_SYSTEM_NV_DATA_FV: an NV store FV (possibly damaged further in). */
export function isEdk2Fd(bytes: Uint8Array): boolean {
  if (bytes.length < FV.blockMap) return false;
  const sig = bytes[FV.signature]! | (bytes[FV.signature + 1]! << 8) | (bytes[FV.signature + 2]! << 16) | (bytes[FV.signature + 3]! << 24);
  return sig >>> 0 === FV_SIGNATURE && guidAt(bytes, FV.fileSystemGuid) === NV_DATA_FV_GUID;
}
