/**
 * Byte layout of an edk2 non-volatile variable flash image ("NvVars" FV, the
 * OVMF_VARS.fd / AAVMF_VARS.fd files): offsets and constants from the edk2 headers
 * named at each item, and the geometry a writer needs to reproduce an image.
 * Pure data, no I/O.
 */
import type { GuidText } from '../../wire/guid.js';

/** EFI_SYSTEM_NV_DATA_FV_GUID (MdeModulePkg/Include/Guid/SystemNvDataGuid.h): FileSystemGuid of an NV store FV. */
export const NV_DATA_FV_GUID: GuidText = 'fff12b8d-7696-4c8b-a985-2747075b4f50';
/** gEfiAuthenticatedVariableGuid (Guid/VariableFormat.h): store of AUTHENTICATED_VARIABLE_HEADER records. */
export const AUTH_VARIABLE_STORE_GUID: GuidText = 'aaf32c78-947b-439a-a180-2e144ec37792';
/** gEfiVariableGuid (Guid/VariableFormat.h): store of plain VARIABLE_HEADER records. */
export const PLAIN_VARIABLE_STORE_GUID: GuidText = 'ddcf3616-3275-4164-98b6-fe85707ffe7d';
/** gEdkiiWorkingBlockSignatureGuid (Guid/SystemNvDataGuid.h): signature of the FTW working block header. */
export const FTW_WORKING_BLOCK_GUID: GuidText = '9e58292b-7c68-497d-a0ce-6500fd9f1b95';

/**
 * EFI_FIRMWARE_VOLUME_HEADER (PI spec vol. 3, MdePkg/Include/Pi/PiFirmwareVolume.h).
 * The structure is 0x38 bytes up to the block map; each EFI_FV_BLOCK_MAP_ENTRY is
 * 8 bytes and the map ends with a {0, 0} entry inside HeaderLength.
 */
export const FV = {
  zeroVector: 0x00,       // UINT8[16]
  fileSystemGuid: 0x10,   // EFI_GUID
  fvLength: 0x20,         // UINT64
  signature: 0x28,        // UINT32 "_FVH"
  attributes: 0x2c,       // EFI_FVB_ATTRIBUTES_2 (UINT32)
  headerLength: 0x30,     // UINT16
  checksum: 0x32,         // UINT16: all UINT16 words of the header sum to 0
  extHeaderOffset: 0x34,  // UINT16
  reserved: 0x36,         // UINT8
  revision: 0x37,         // UINT8, EFI_FVH_REVISION = 2
  blockMap: 0x38,         // EFI_FV_BLOCK_MAP_ENTRY[]
} as const;
export const FV_SIGNATURE = 0x4856465f; // "_FVH" read as a little-endian UINT32
export const FV_REVISION = 2;
export const BLOCK_MAP_ENTRY_SIZE = 8;

/** VARIABLE_STORE_HEADER (Guid/VariableFormat.h): 28 bytes at FV + HeaderLength. */
export const STORE = {
  signature: 0,  // EFI_GUID
  size: 16,      // UINT32, covers this header and the variable area
  format: 20,    // UINT8, VARIABLE_STORE_FORMATTED
  state: 21,     // UINT8, VARIABLE_STORE_HEALTHY
  reserved: 22,  // UINT16
  reserved1: 24, // UINT32
  headerSize: 28,
} as const;
export const VARIABLE_STORE_FORMATTED = 0x5a;
export const VARIABLE_STORE_HEALTHY = 0xfe;

/** HEADER_ALIGNMENT (Guid/VariableFormat.h): every record header starts on a 4-byte boundary; name and data are not padded (ALIGNMENT 1). */
export const HEADER_ALIGNMENT = 4;
export const alignHeader = (n: number): number => Math.ceil(n / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;

/** VARIABLE_DATA: StartId of a record. Erased flash (0xFFFF) ends the list. */
export const VARIABLE_START_ID = 0x55aa;

/**
 * Record state bits (Guid/VariableFormat.h). Flash programming only clears bits,
 * so a record moves 0xFF -> VAR_HEADER_VALID_ONLY 0x7F -> VAR_ADDED 0x3F, then
 * on update VAR_IN_DELETED_TRANSITION (bit 0) and finally VAR_DELETED (bit 1) are
 * cleared: 0x3E, 0x3C / 0x3D.
 */
export const VAR_HEADER_VALID_ONLY = 0x7f;
export const VAR_ADDED = 0x3f;
export const VAR_IN_DELETED_TRANSITION = 0xfe;
export const VAR_DELETED = 0xfd;
export const VAR_ADDED_IN_DELETED_TRANSITION = VAR_ADDED & VAR_IN_DELETED_TRANSITION; // 0x3E

/** AUTHENTICATED_VARIABLE_HEADER (60 bytes) and VARIABLE_HEADER (32 bytes) field offsets. */
export interface RecordLayout {
  headerSize: number;
  state: number;
  attributes: number;
  /** EFI_TIME TimeStamp; undefined in the plain format. */
  timeStamp?: number;
  monotonicCount?: number;
  pubKeyIndex?: number;
  nameSize: number;
  dataSize: number;
  vendorGuid: number;
}
export const AUTH_RECORD: RecordLayout = {
  headerSize: 60, state: 2, attributes: 4, monotonicCount: 8, timeStamp: 16, pubKeyIndex: 32,
  nameSize: 36, dataSize: 40, vendorGuid: 44,
};
export const PLAIN_RECORD: RecordLayout = {
  headerSize: 32, state: 2, attributes: 4, nameSize: 8, dataSize: 12, vendorGuid: 16,
};

/**
 * EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER (Guid/SystemNvDataGuid.h), 32 bytes,
 * followed by the write queue. Flag bits use inverted logic: WorkingBlockValid
 * (bit 0) is "set" when cleared to 0, WorkingBlockInvalid (bit 1) when cleared.
 */
export const FTW = {
  signature: 0,        // EFI_GUID
  crc: 16,             // UINT32
  flags: 20,           // UINT8: WorkingBlockValid:1, WorkingBlockInvalid:1, Reserved:6
  reserved: 21,        // UINT8[3]
  writeQueueSize: 24,  // UINT64
  headerSize: 32,
} as const;
/** Header flags of a fresh working block: valid (bit 0 = 0), not invalid (bit 1 = 1). */
export const FTW_FLAGS_VALID = 0xfe;

export type StoreFormat = 'authenticated' | 'plain';

export interface BlockMapEntry {
  readonly numBlocks: number;
  readonly length: number;
}

/** Where the fault-tolerant-write regions sit inside the FV (FaultTolerantWriteDxe). */
export interface FtwGeometry {
  /** Offset of EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER. */
  readonly workingOffset: number;
  /** Header + write queue (32 + WriteQueueSize). */
  readonly workingSize: number;
  /** The spare block: from the end of the working area to the end of the FV. */
  readonly spareOffset: number;
  readonly spareSize: number;
}

/**
 * Everything needed to write an image of the same shape back. Sizes come from
 * the headers, never from the file size, except `fileSize`, which keeps any
 * padding after the FV (Debian/Fedora pad the 768 KiB aarch64 store to the
 * 64 MiB pflash size).
 */
export interface Edk2Geometry {
  /** Bytes in the image file (>= fvLength). */
  readonly fileSize: number;
  /** EFI_FIRMWARE_VOLUME_HEADER.FvLength. */
  readonly fvLength: number;
  /** EFI_FVB_ATTRIBUTES_2 as stored (0x0004FEFF in the OVMF/ArmVirt templates). */
  readonly fvAttributes: number;
  /** EFI_FIRMWARE_VOLUME_HEADER.Revision (2). */
  readonly fvRevision: number;
  /** Block map without its {0,0} terminator; HeaderLength = 0x38 + 8 * (entries + 1). */
  readonly blockMap: readonly BlockMapEntry[];
  /** Record format, chosen by the VARIABLE_STORE_HEADER signature GUID. */
  readonly storeFormat: StoreFormat;
  /** VARIABLE_STORE_HEADER offset (= HeaderLength). */
  readonly storeOffset: number;
  /** VARIABLE_STORE_HEADER.Size. */
  readonly storeSize: number;
  /** FTW regions, or null when the image has no working block after the store. */
  readonly ftw: FtwGeometry | null;
  /** Byte value of the padding between the end of the FV and the end of the file. */
  readonly tailFill: number;
  /**
   * The bytes from the end of the variable store to FvLength as read (event-log area,
   * FTW working block with its queue, spare block), written back unchanged; absent
   * for a fresh image, or when the FTW queue held an unfinished write: then these
   * regions are written erased with a fresh working block header.
   */
  readonly afterStore?: Uint8Array;
  /** The bytes past FvLength as read, when they are not all `tailFill`; written back unchanged. */
  readonly tail?: Uint8Array;
}

export type Edk2Kind = 'ovmf-4m' | 'ovmf-2m' | 'aavmf';

export function fvHeaderLength(blockMapEntries: number): number {
  return FV.blockMap + BLOCK_MAP_ENTRY_SIZE * (blockMapEntries + 1);
}

/**
 * The layouts of the Debian/upstream templates:
 * - ovmf-4m: OvmfPkg/VarStore.fdf.inc with FD_SIZE_4MB (OVMF_VARS_4M.fd, 528 KiB):
 *   variables 0x40000, event log 0x1000, FTW working 0x1000, spare 0x42000.
 * - ovmf-2m: the same file for FD_SIZE_2MB (OVMF_VARS.fd, 128 KiB): variables 0xE000,
 *   event log 0x1000, working 0x1000, spare 0x10000.
 * - aavmf: ArmVirtPkg/VarStore.fdf.inc (FD.QEMU_VARS, 3 blocks of 0x40000: variables,
 *   working, spare), padded with zeros to the 64 MiB QEMU virt pflash size.
 */
export function defaultEdk2Geometry(kind: Edk2Kind): Edk2Geometry {
  const common = { fvAttributes: 0x0004feff, fvRevision: FV_REVISION, storeFormat: 'authenticated' as const, storeOffset: fvHeaderLength(1) };
  switch (kind) {
    case 'ovmf-4m':
      return {
        ...common, fileSize: 0x84000, fvLength: 0x84000, blockMap: [{ numBlocks: 132, length: 0x1000 }],
        storeSize: 0x40000 - 0x48,
        ftw: { workingOffset: 0x41000, workingSize: 0x1000, spareOffset: 0x42000, spareSize: 0x42000 },
        tailFill: 0xff,
      };
    case 'ovmf-2m':
      return {
        ...common, fileSize: 0x20000, fvLength: 0x20000, blockMap: [{ numBlocks: 32, length: 0x1000 }],
        storeSize: 0xe000 - 0x48,
        ftw: { workingOffset: 0xf000, workingSize: 0x1000, spareOffset: 0x10000, spareSize: 0x10000 },
        tailFill: 0xff,
      };
    case 'aavmf':
      return {
        ...common, fileSize: 0x4000000, fvLength: 0xc0000, blockMap: [{ numBlocks: 3, length: 0x40000 }],
        storeSize: 0x40000 - 0x48,
        ftw: { workingOffset: 0x40000, workingSize: 0x40000, spareOffset: 0x80000, spareSize: 0x40000 },
        tailFill: 0x00,
      };
  }
}

/** `offset 0x1a4`: the `where` of a StoreFormatError in a binary image. */
export const at = (offset: number): string => `offset 0x${offset.toString(16)}`;
export const hex = (n: number): string => `0x${n.toString(16)}`;
