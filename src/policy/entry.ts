import { encodeName } from '../wire/ucs2.js';
import { type GuidText, guidAt, writeGuid } from '../wire/guid.js';
import type { PolicyReason } from './reasons.js';

/**
 * VARIABLE_POLICY_ENTRY (spec §5.3; edk2 Protocol/VariablePolicy.h, packed):
 * a 44-byte header, for LOCK_ON_VAR_STATE an 18-byte VARIABLE_LOCK_ON_VAR_STATE_POLICY
 * and the state variable's NUL-terminated name, then the NUL-terminated variable
 * name (absent when OffsetToName == Size: the policy covers the whole namespace).
 */
export const ENTRY_REVISION = 0x00010000;
export const ENTRY_HEADER_SIZE = 44;
/** VARIABLE_LOCK_ON_VAR_STATE_POLICY is packed: GUID, Value u8, Padding u8 (edk2). */
export const STATE_POLICY_SIZE = 18;
/** The state variable name starts right after the packed state policy (spec §5.3). */
export const STATE_NAME_OFFSET = ENTRY_HEADER_SIZE + STATE_POLICY_SIZE;
/**
 * QEMU's unpacked 20-byte state struct makes it refuse type-3 entries whose
 * OffsetToName is below 64 with EFI_BAD_BUFFER_SIZE (spec §5.3 step 5); its status
 * is kept, and every well-formed edk2 entry satisfies it (the shortest state name,
 * "" = one NUL, ends at 64).
 */
export const QEMU_MIN_STATE_NAME_END = 64;
/** edk2 MATCH_PRIORITY_MIN: more wildcards than this could not be ranked (IsValidVariablePolicyStructure). */
export const MAX_WILDCARDS = 255;
export const NO_MAX_SIZE = 0xffffffff;
/** Size is a UINT16. */
export const MAX_ENTRY_SIZE = 0xffff;

export const EntryField = {
  version: 0, size: 4, offsetToName: 6, namespace: 8, minSize: 24, maxSize: 28,
  mustHave: 32, cantHave: 36, lockType: 40, stateNamespace: 44, stateValue: 60, stateName: 62,
} as const;

export const LockType = { NO_LOCK: 0, LOCK_NOW: 1, LOCK_ON_CREATE: 2, LOCK_ON_VAR_STATE: 3 } as const;

export interface LockOnVarState {
  readonly namespace: GuidText;
  readonly value: number;
  /** The state variable's name as stored: UCS-2 bytes including the NUL ('#' is literal here). */
  readonly name: Uint8Array;
}

/** A validated policy. `raw` is exactly the registered bytes (DUMP returns them unchanged). */
export interface PolicyEntry {
  readonly raw: Uint8Array;
  readonly namespace: GuidText;
  readonly minSize: number;
  readonly maxSize: number;
  readonly mustHave: number;
  readonly cantHave: number;
  readonly lockType: number;
  /** Code units without the NUL; undefined for a namespace-wide policy. */
  readonly name: string | undefined;
  readonly state: LockOnVarState | undefined;
}

function u16(b: Uint8Array, o: number): number { return b[o]! | (b[o + 1]! << 8); }
function u32(b: Uint8Array, o: number): number { return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0; }

/** The Size field of an entry whose first 8 bytes are present. */
export function entrySizeField(b: Uint8Array, at = 0): number { return u16(b, at + EntryField.size); }

/**
 * A UCS-2 string region that edk2 accepts: whole code units, and the first NUL is
 * the last unit, so the string ends exactly at the region's end
 * (IsValidVariablePolicyStructure walks to the NUL and requires the next byte to be
 * the boundary). Returns the units before the NUL, or undefined.
 */
function exactString(b: Uint8Array, start: number, end: number): number[] | undefined {
  const len = end - start;
  if (len < 2 || len % 2 !== 0) return undefined;
  const units: number[] = [];
  for (let o = start; o < end; o += 2) {
    const u = u16(b, o);
    if (u === 0) return o + 2 === end ? units : undefined;
    units.push(u);
  }
  return undefined;
}

/** QEMU uefi_str_is_valid(…, false): no surrogate before the first NUL; a NUL is not required. */
function hasSurrogate(b: Uint8Array, start: number, end: number): boolean {
  for (let o = start; o + 1 < end; o += 2) {
    const u = u16(b, o);
    if (u === 0) return false;
    if (u >= 0xd800 && u <= 0xdfff) return true;
  }
  return false;
}

/**
 * QEMU's framing checks on an entry whose bytes are exactly `raw` (spec §5.3
 * steps 3-6, all EFI_BAD_BUFFER_SIZE), in QEMU's order.
 */
export function framingProblem(raw: Uint8Array): PolicyReason | undefined {
  if (raw.length < ENTRY_HEADER_SIZE) return 'entry-too-small';
  const size = entrySizeField(raw);
  if (size !== raw.length) return 'entry-size-mismatch';
  const offsetToName = u16(raw, EntryField.offsetToName);
  if (offsetToName < ENTRY_HEADER_SIZE) return 'name-offset-in-header';
  if (raw[EntryField.lockType] === LockType.LOCK_ON_VAR_STATE && offsetToName < QEMU_MIN_STATE_NAME_END) return 'name-offset-in-state-policy';
  if (size < offsetToName) return 'name-offset-past-entry';
  return undefined;
}

/**
 * QEMU REGISTER step 7 (uefi_str_is_valid without a required NUL): a surrogate
 * before the first NUL of the variable name is EFI_INVALID_PARAMETER. edk2 has no
 * such rule; it applies to REGISTER only (LOCK_VARIABLE names are not checked by
 * either). Call after framingProblem.
 */
export function nameHasSurrogate(raw: Uint8Array): boolean {
  return hasSurrogate(raw, u16(raw, EntryField.offsetToName), raw.length);
}

/**
 * Validate one entry whose bytes are exactly `raw` (Size bytes). The framing checks
 * come first in QEMU's order with QEMU's statuses (spec §5.3: a recorded trace must
 * replay byte for byte; the REGISTER handler runs the surrogate check in between),
 * then edk2's structural checks
 * (VariablePolicyLib IsValidVariablePolicyStructure), which QEMU lacks.
 */
export function validateEntry(raw: Uint8Array): PolicyEntry | PolicyReason {
  const framing = framingProblem(raw);
  if (framing) return framing;
  const size = raw.length;
  const offsetToName = u16(raw, EntryField.offsetToName);
  const lockType = raw[EntryField.lockType]!;

  if (u32(raw, EntryField.version) !== ENTRY_REVISION) return 'bad-version';
  const maxSize = u32(raw, EntryField.maxSize);
  if (maxSize === 0) return 'max-size-zero';
  if (lockType > LockType.LOCK_ON_VAR_STATE) return 'unknown-lock-type';

  let state: LockOnVarState | undefined;
  if (lockType === LockType.LOCK_ON_VAR_STATE) {
    // The state name must end (with its NUL) exactly where the variable name begins.
    if (!exactString(raw, STATE_NAME_OFFSET, offsetToName)) return 'state-name-malformed';
    state = {
      namespace: guidAt(raw, EntryField.stateNamespace),
      value: raw[EntryField.stateValue]!,
      name: raw.slice(STATE_NAME_OFFSET, offsetToName),
    };
  } else if (offsetToName !== ENTRY_HEADER_SIZE) {
    // No lock sub-structure: nothing may sit between the header and the name.
    return 'name-offset-not-packed';
  }

  let name: string | undefined;
  if (size !== offsetToName) {
    let wildcards = 0;
    for (let o = offsetToName; o + 1 < size; o += 2) {
      const u = u16(raw, o);
      if (u === 0) break;
      if (u === 0x23 && ++wildcards > MAX_WILDCARDS) return 'too-many-wildcards';
    }
    const units = exactString(raw, offsetToName, size);
    if (!units) return 'name-malformed';
    name = units.map((u) => String.fromCharCode(u)).join('');
  }

  return {
    raw,
    namespace: guidAt(raw, EntryField.namespace),
    minSize: u32(raw, EntryField.minSize),
    maxSize,
    mustHave: u32(raw, EntryField.mustHave),
    cantHave: u32(raw, EntryField.cantHave),
    lockType,
    name,
    state,
  };
}

export interface EntryFields {
  namespace: GuidText;
  /** undefined → namespace-wide policy. */
  name?: string | undefined;
  minSize?: number;
  maxSize?: number;
  mustHave?: number;
  cantHave?: number;
  lockType: number;
}

/**
 * Encode a policy without a lock sub-structure, as edk2 CreateBasicVariablePolicy
 * does (padding zeroed). Returns undefined when the entry would not fit the u16 Size.
 */
export function encodeBasicEntry(f: EntryFields): Uint8Array | undefined {
  const nameBytes = f.name === undefined ? new Uint8Array(0) : encodeName(f.name);
  const size = ENTRY_HEADER_SIZE + nameBytes.length;
  if (size > MAX_ENTRY_SIZE) return undefined;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(EntryField.version, ENTRY_REVISION, true);
  v.setUint16(EntryField.size, size, true);
  v.setUint16(EntryField.offsetToName, ENTRY_HEADER_SIZE, true);
  writeGuid(f.namespace, out, EntryField.namespace);
  v.setUint32(EntryField.minSize, f.minSize ?? 0, true);
  v.setUint32(EntryField.maxSize, f.maxSize ?? NO_MAX_SIZE, true);
  v.setUint32(EntryField.mustHave, f.mustHave ?? 0, true);
  v.setUint32(EntryField.cantHave, f.cantHave ?? 0, true);
  out[EntryField.lockType] = f.lockType;
  out.set(nameBytes, ENTRY_HEADER_SIZE);
  return out;
}
