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
import { FV, FV_SIGNATURE, NV_DATA_FV_GUID, defaultEdk2Geometry, type Edk2Geometry } from './edk2/layout.js';
import { decodeEdk2Fd } from './edk2/decode.js';
import { encodeEdk2Fd } from './edk2/encode.js';
import type { StoreCodec } from './codec.js';

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

/**
 * A never-booted pflash vars image: all zeros (Debian's 64 MiB AAVMF_VARS.fd)
 * or all 0xFF (erased flash). edk2 formats it on first boot, so it is an empty
 * store with the layout the firmware will give it.
 */
function blankFlashGeometry(bytes: Uint8Array): Edk2Geometry | undefined {
  const kinds = (['aavmf', 'ovmf-4m', 'ovmf-2m'] as const).map((k) => defaultEdk2Geometry(k));
  const g = kinds.find((k) => k.fileSize === bytes.length);
  if (!g) return undefined;
  const fill = bytes[0];
  if (fill !== 0x00 && fill !== 0xff) return undefined;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== fill) return undefined;
  return g;
}

/** edk2 flash images as a store codec (codec.ts; the list: formats.ts). */
export const edk2Codec = {
  name: 'edk2',
  aliases: ['fd'],
  title: 'edk2 flash volume',
  label: 'edk2 .fd',
  extensions: ['.fd', '.raw', '.bin'],
  detect: (b) => isEdk2Fd(b) || blankFlashGeometry(b) !== undefined,
  decode: async (b) => {
    const blank = isEdk2Fd(b) ? undefined : blankFlashGeometry(b);
    if (blank) return { variables: [], layout: blank };
    const d = decodeEdk2Fd(b);
    return { variables: d.variables, layout: d.geometry };
  },
  // Without a layout (converting from another format) the OVMF 4 MiB layout is used.
  encode: async (v, layout) => encodeEdk2Fd(v, (layout as Edk2Geometry | undefined) ?? defaultEdk2Geometry('ovmf-4m')),
  emptyLayout: () => defaultEdk2Geometry('ovmf-4m'),
} as const satisfies StoreCodec<'edk2'>;
