import { guidAt } from './guid.js';
import { u64NumAt } from './reader.js';

/**
 * EFI_MM_COMMUNICATE_HEADER (spec §2.1): HeaderGuid (16) ‖ MessageLength u64 ‖ message.
 * SMM_VARIABLE_COMMUNICATE_HEADER (spec §2.3): Function u64 ‖ ReturnStatus u64 ‖ payload.
 */
export const MM_HEADER_SIZE = 24;
export const VAR_HEADER_SIZE = 16;

export const VarFunction = {
  GET_VARIABLE: 1,
  GET_NEXT_VARIABLE_NAME: 2,
  SET_VARIABLE: 3,
  QUERY_VARIABLE_INFO: 4,
  READY_TO_BOOT: 5,
  EXIT_BOOT_SERVICE: 6,
  GET_STATISTICS: 7,
  LOCK_VARIABLE: 8,
  VAR_CHECK_VARIABLE_PROPERTY_SET: 9,
  VAR_CHECK_VARIABLE_PROPERTY_GET: 10,
  GET_PAYLOAD_SIZE: 11,
  INIT_RUNTIME_VARIABLE_CACHE_CONTEXT: 12,
  SYNC_RUNTIME_CACHE: 13,
  GET_RUNTIME_CACHE_INFO: 14,
} as const;

/** The largest communicate buffer the device takes: QEMU clamps BUFFER_SIZE here (spec §1.2, §3.8). */
export const MAX_BUFFER_SIZE = 65536;

/**
 * The function id of the variable-protocol message starting at `offset` (spec §2.4):
 * the low half of the u64 Function field, or -1 when the high half is set, so an id
 * of 2^32 + 1 can never alias 1. Caller guarantees 8 bytes at `offset`.
 */
export function functionIdOf(b: Uint8Array, offset = 0): number {
  const v = new DataView(b.buffer, b.byteOffset + offset, 8);
  return v.getUint32(4, true) === 0 ? v.getUint32(0, true) : -1;
}

const FN_NAMES = new Map<number, string>(Object.entries(VarFunction).map(([k, v]) => [v, k]));
export function functionName(fn: number): string {
  return FN_NAMES.get(fn) ?? `function ${fn}`;
}

export interface MmHeader {
  guid: string;
  /** MessageLength as a double (exact to 2^53; larger values only ever fail size checks). */
  messageLength: number;
}

/** Caller guarantees b.length >= 24. */
export function readMmHeader(b: Uint8Array): MmHeader {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { guid: guidAt(b, 0), messageLength: u64NumAt(v, 16) };
}

export function writeMmHeader(out: Uint8Array, guid: Uint8Array, messageLength: number): void {
  out.set(guid, 0);
  new DataView(out.buffer, out.byteOffset).setBigUint64(16, BigInt(messageLength), true);
}

/**
 * Offsets inside the variable-protocol message (after the MM header), spec §2.5.
 * ACCESS_VARIABLE (Get/Set): Guid @16, DataSize @32, NameSize @40, Attributes @48, Name @52.
 * GET_NEXT_VARIABLE_NAME / LOCK_VARIABLE: Guid @16, NameSize @32, Name @40.
 * QUERY_VARIABLE_INFO: MaxStorage @16, Remaining @24, MaxVariableSize @32, Attributes @40.
 * GET_PAYLOAD_SIZE: VariablePayloadSize @16.
 */
export const Access = { guid: 16, dataSize: 32, nameSize: 40, attributes: 48, name: 52 } as const;
export const GetNext = { guid: 16, nameSize: 32, name: 40 } as const;
export const Qvi = { maxStorage: 16, remaining: 24, maxVariableSize: 32, attributes: 40, end: 44 } as const;
export const PayloadSize = { size: 16, end: 24 } as const;
