import { guidAt } from '../guid.js';
import { u64NumAt } from '../reader.js';

/**
 * The layouts of the MM variable messages (spec §2, §5.1): every size and field
 * offset the codec reads or writes is named here and nowhere else.
 *
 * EFI_MM_COMMUNICATE_HEADER (spec §2.1): HeaderGuid (16) ‖ MessageLength u64 ‖ message.
 * SMM_VARIABLE_COMMUNICATE_HEADER (spec §2.3): Function u64 ‖ ReturnStatus u64 ‖ payload.
 */
export const MM_HEADER_SIZE = 24;
export const VAR_HEADER_SIZE = 16;
/** Where MessageLength sits in the MM header (spec §2.1). */
export const MESSAGE_LENGTH_OFFSET = 16;
/** Function header fields, offsets in the message (spec §2.3). */
export const VarHeader = { function: 0, returnStatus: 8 } as const;

/** The largest communicate buffer the device takes: QEMU clamps BUFFER_SIZE here (spec §1.2, §3.8). */
export const MAX_BUFFER_SIZE = 65536;

/** Payload layouts a function uses (spec §2.5); 'raw' for functions without one. */
export type PayloadKind = 'access-variable' | 'variable-name' | 'query-variable-info' | 'payload-size' | 'raw';

/** The function ids of spec §2.4 (a plain literal: the service's dispatch switch reads it per request). */
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
export type VarFunctionName = keyof typeof VarFunction;

/** The payload layout of every function id (spec §2.5): one entry per id, checked complete by the type. */
const PAYLOAD_OF: { readonly [K in VarFunctionName]: PayloadKind } = {
  GET_VARIABLE: 'access-variable',
  GET_NEXT_VARIABLE_NAME: 'variable-name',
  SET_VARIABLE: 'access-variable',
  QUERY_VARIABLE_INFO: 'query-variable-info',
  READY_TO_BOOT: 'raw',
  EXIT_BOOT_SERVICE: 'raw',
  GET_STATISTICS: 'raw',
  // LOCK_VARIABLE's payload is the GET_NEXT_VARIABLE_NAME layout (spec §2.5.5).
  LOCK_VARIABLE: 'variable-name',
  VAR_CHECK_VARIABLE_PROPERTY_SET: 'raw',
  VAR_CHECK_VARIABLE_PROPERTY_GET: 'raw',
  GET_PAYLOAD_SIZE: 'payload-size',
  INIT_RUNTIME_VARIABLE_CACHE_CONTEXT: 'raw',
  SYNC_RUNTIME_CACHE: 'raw',
  GET_RUNTIME_CACHE_INFO: 'raw',
};

export interface FunctionEntry { readonly id: number; readonly name: VarFunctionName; readonly payload: PayloadKind }

/** One row per function id of spec §2.4: its edk2 name and its payload layout. */
export const FUNCTIONS: readonly FunctionEntry[] = (Object.keys(VarFunction) as VarFunctionName[])
  .map((name) => ({ id: VarFunction[name], name, payload: PAYLOAD_OF[name] }));

const BY_ID: ReadonlyArray<FunctionEntry | undefined> = (() => {
  const t: (FunctionEntry | undefined)[] = [];
  for (const f of FUNCTIONS) t[f.id] = f;
  return t;
})();

/**
 * The function id of the variable-protocol message starting at `offset` (spec §2.4):
 * the low half of the u64 Function field, or -1 when the high half is set, so an id
 * of 2^32 + 1 can never alias 1. Caller guarantees 8 bytes at `offset`.
 */
export function functionIdOf(b: Uint8Array | DataView, offset = 0): number {
  const v = b instanceof DataView ? b : new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(offset + 4, true) === 0 ? v.getUint32(offset, true) : -1;
}

/** The spec's name of a function id (`function N` for ids without one). */
export function functionName(fn: number): string {
  return BY_ID[fn]?.name ?? `function ${fn}`;
}

/** True for the ids of spec §2.4's table (1..14). */
export function isKnownFunction(fn: number): boolean {
  return BY_ID[fn] !== undefined;
}

/** The payload layout a function id uses; 'raw' for functions without one and unknown ids. */
export function payloadKindOf(fn: bigint | number): PayloadKind {
  const n = typeof fn === 'bigint' ? (fn <= 0xffffffffn ? Number(fn) : -1) : fn;
  return BY_ID[n]?.payload ?? 'raw';
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

/** Fixed part of SMM_VARIABLE_COMMUNICATE_ACCESS_VARIABLE (spec §2.5.1): Guid, DataSize, NameSize, Attributes. */
export const ACCESS_VARIABLE_FIXED = Access.name - VAR_HEADER_SIZE;
/** Fixed part of SMM_VARIABLE_COMMUNICATE_GET_NEXT_VARIABLE_NAME (spec §2.5.2), also LOCK_VARIABLE (§2.5.5). */
export const VARIABLE_NAME_FIXED = GetNext.name - VAR_HEADER_SIZE;
/** The 28 bytes QEMU writes for QUERY_VARIABLE_INFO (spec §2.5.4); edk2's struct has 4 more bytes of padding. */
export const QUERY_VARIABLE_INFO_FIXED = Qvi.end - VAR_HEADER_SIZE;
/** edk2's SMM_VARIABLE_COMMUNICATE_QUERY_VARIABLE_INFO with its trailing padding (what VariableSmmRuntimeDxe sends). */
export const QUERY_VARIABLE_INFO_STRUCT = QUERY_VARIABLE_INFO_FIXED + 4;
/** GET_PAYLOAD_SIZE: VariablePayloadSize u64 (spec §2.5.6). */
export const PAYLOAD_SIZE_FIXED = PayloadSize.end - VAR_HEADER_SIZE;

/**
 * SMM_VARIABLE_COMMUNICATE_VAR_CHECK_VARIABLE_PROPERTY (functions 9, 10; edk2
 * SmmVariableCommon.h), offsets in the message: Guid @16, NameSize UINTN @32,
 * VAR_CHECK_VARIABLE_PROPERTY @40 (24 bytes), Name @64.
 */
export const PropertyMsg = { guid: 16, nameSize: 32, property: 40, name: 64 } as const;

/**
 * VAR_CHECK_POLICY_COMM_HEADER (spec §5.1; edk2 Guid/VarCheckPolicyMmi.h, packed):
 * Signature u32 @0, Revision u32 @4, Command u32 @8, Result u64 @12 (unaligned),
 * parameters @20.
 */
export const PolicyHeader = { signature: 0, revision: 4, command: 8, result: 12, size: 20 } as const;
export const POLICY_HEADER_SIZE = PolicyHeader.size;
export const POLICY_SIGNATURE = 0x43504356; // 'V','C','P','C'
export const POLICY_REVISION = 1;

/** VarCheckPolicy commands (spec §5.2; 6 and 7 from newer edk2). */
export const PolicyCommand = {
  DISABLE: 1, IS_ENABLED: 2, REGISTER: 3, DUMP: 4, LOCK: 5, GET_INFO: 6, GET_LOCK_VAR_STATE_INFO: 7,
} as const;

export interface MmHeader {
  guid: string;
  /** MessageLength as a double (exact to 2^53; larger values only ever fail size checks). */
  messageLength: number;
}

/** Caller guarantees b.length >= 24. */
export function readMmHeader(b: Uint8Array): MmHeader {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { guid: guidAt(b, 0), messageLength: u64NumAt(v, MESSAGE_LENGTH_OFFSET) };
}

/** MessageLength as a double; caller guarantees b.length >= 24. */
export function messageLengthOf(b: Uint8Array): number {
  return u64NumAt(new DataView(b.buffer, b.byteOffset, b.byteLength), MESSAGE_LENGTH_OFFSET);
}

/** MessageLength exactly, as the u64 it is; caller guarantees b.length >= 24. */
export function messageLengthField(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(MESSAGE_LENGTH_OFFSET, true);
}

export function writeMmHeader(out: Uint8Array, guid: Uint8Array, messageLength: number | bigint): void {
  out.set(guid, 0);
  new DataView(out.buffer, out.byteOffset).setBigUint64(MESSAGE_LENGTH_OFFSET, BigInt(messageLength), true);
}
