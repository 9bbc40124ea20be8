import type { DeviationId } from '../store/deviations.js';
import { type GuidText, Guids, guidAt } from '../wire/guid.js';
import { Attr } from '../wire/attributes.js';
import { nameKey } from '../wire/ucs2.js';
import { u64NumAt } from '../wire/reader.js';
import { PropertyMsg } from '../wire/mm.js';
import { isHexDigit } from './match.js';
import type { PolicyReason } from './reasons.js';

/**
 * VarCheck variable properties (edk2 VarCheckLib, Protocol/VarCheck.h): a
 * per-variable READ_ONLY flag, required attributes and a size range, set before
 * EndOfDxe through SMM function 9 and enforced on SetVariable after EndOfDxe.
 *
 * VAR_CHECK_VARIABLE_PROPERTY (natural alignment, 24 bytes):
 * Revision u16 @0, Property u16 @2, Attributes u32 @4, MinSize UINTN @8, MaxSize UINTN @16.
 */
export const PROPERTY_REVISION = 0x0001;
export const PROPERTY_READ_ONLY = 0x0001;
export const PROPERTY_SIZE = 24;

export interface VarCheckProperty {
  readonly revision: number;
  readonly property: number;
  readonly attributes: number;
  readonly minSize: bigint;
  readonly maxSize: bigint;
}

export function decodeProperty(b: Uint8Array, at = 0): VarCheckProperty {
  const v = new DataView(b.buffer, b.byteOffset + at, PROPERTY_SIZE);
  return {
    revision: v.getUint16(0, true),
    property: v.getUint16(2, true),
    attributes: v.getUint32(4, true),
    minSize: v.getBigUint64(8, true),
    maxSize: v.getBigUint64(16, true),
  };
}

export function encodeProperty(p: VarCheckProperty, out: Uint8Array = new Uint8Array(PROPERTY_SIZE), at = 0): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset + at, PROPERTY_SIZE);
  v.setUint16(0, p.revision, true);
  v.setUint16(2, p.property, true);
  v.setUint32(4, p.attributes >>> 0, true);
  v.setBigUint64(8, p.minSize, true);
  v.setBigUint64(16, p.maxSize, true);
  return out;
}

/**
 * Names VarCheckLib treats as wildcard slots (mVarCheckVariableWithWildcardName): a
 * property set on the literal name "Boot####" applies to every Boot + 4 hex digits.
 */
const WILDCARD_SLOTS: readonly { guid: GuidText; pattern: string }[] = [
  { guid: Guids.globalVariable, pattern: 'Boot####' },
  { guid: Guids.globalVariable, pattern: 'Driver####' },
  { guid: Guids.globalVariable, pattern: 'SysPrep####' },
  { guid: Guids.globalVariable, pattern: 'Key####' },
  { guid: Guids.globalVariable, pattern: 'PlatformRecovery####' },
  { guid: Guids.hardwareErrorVariable, pattern: 'HwErrRec####' },
];

function key(guid: GuidText, name: string): string { return guid + '/' + name; }

export interface PropertyRecord { readonly guid: GuidText; readonly name: string; readonly property: VarCheckProperty }

/**
 * Bounds on the property table, the same as the policy table's (docs/policy.md P10,
 * POLICY_TABLE_LIMITS): function 9 is open to the guest until EndOfDxe (spec §2.4),
 * and edk2's VarCheckLibVariablePropertySet grows its table until an allocation
 * fails (then EFI_OUT_OF_RESOURCES), so without a bound a guest could make the
 * service — and every snapshot of it — hold any amount (issue 18: 2,000 properties
 * with 32 KB names kept 84 MB). Bytes count what a record keeps: GUID, property and
 * the UCS-2 name with its NUL.
 */
export const PROPERTY_TABLE_LIMITS = { entries: 1024, bytes: 256 * 1024 } as const;

function recordBytes(name: string): number { return 16 + PROPERTY_SIZE + 2 * (name.length + 1); }

/** The property table, keyed by GUID + name (code units without the NUL). */
export class PropertyTable {
  private readonly byKey = new Map<string, PropertyRecord>();
  private bytes = 0;

  /**
   * VarCheckLibVariablePropertySet: a later set for the same name replaces the
   * earlier one (which never needs room); a new name that would take the table past
   * PROPERTY_TABLE_LIMITS is refused and changes nothing.
   */
  set(guid: GuidText, name: string, property: VarCheckProperty): 'var-check-table-full' | undefined {
    const k = key(guid, name);
    const old = this.byKey.get(k);
    if (!old) {
      const grow = recordBytes(name);
      if (this.byKey.size >= PROPERTY_TABLE_LIMITS.entries || this.bytes + grow > PROPERTY_TABLE_LIMITS.bytes) return 'var-check-table-full';
      this.bytes += grow;
    }
    this.byKey.set(k, { guid, name, property });
    return undefined;
  }

  /**
   * VariablePropertyGetFunction: the exact name first; with `wildcard`, then the
   * slot whose pattern the name fits (prefix equal, last four units hex digits).
   * Only a property of the known revision counts (VarCheckLibVariablePropertyGet).
   */
  get(guid: GuidText, name: string, wildcard: boolean): VarCheckProperty | undefined {
    let hit = this.byKey.get(key(guid, name));
    if (!hit && wildcard) {
      for (const slot of WILDCARD_SLOTS) {
        if (slot.guid !== guid || slot.pattern.length !== name.length) continue;
        const stem = slot.pattern.length - 4;
        if (name.slice(0, stem) !== slot.pattern.slice(0, stem)) continue;
        let hex = true;
        for (let i = stem; i < name.length; i++) hex &&= isHexDigit(name.charCodeAt(i));
        if (!hex) continue;
        hit = this.byKey.get(key(guid, slot.pattern));
        break;
      }
    }
    return hit && hit.property.revision === PROPERTY_REVISION ? hit.property : undefined;
  }

  records(): PropertyRecord[] { return [...this.byKey.values()]; }
  get size(): number { return this.byKey.size; }
  /** What the records keep, as PROPERTY_TABLE_LIMITS counts it. */
  get byteSize(): number { return this.bytes; }
  clear(): void { this.byKey.clear(); this.bytes = 0; }
}

/**
 * VarCheckLibSetVariableCheck, the property part (runs only after EndOfDxe, before
 * the variable-policy handler). A delete is DataSize 0 without APPEND_WRITE, or
 * Attributes 0; READ_ONLY refuses deletes too.
 */
export function checkProperty(p: VarCheckProperty | undefined, attributes: number, dataSize: number): PolicyReason | undefined {
  if (!p) return undefined;
  if (p.property & PROPERTY_READ_ONLY) return 'property-read-only';
  const isDelete = (dataSize === 0 && (attributes & Attr.AP) === 0) || attributes === 0;
  if (isDelete) return undefined;
  if (p.attributes !== 0 && ((attributes & ~Attr.AP) >>> 0) !== p.attributes) return 'property-attributes';
  if (dataSize !== 0 && (BigInt(dataSize) < p.minSize || BigInt(dataSize) > p.maxSize)) return 'property-size';
  return undefined;
}

/** SMM_VARIABLE_COMMUNICATE_VAR_CHECK_VARIABLE_PROPERTY's layout lives in the MM codec. */
export { PropertyMsg };

export interface FunctionOutcome {
  /** spec §2.3's L: header + payload this function produced. */
  responseLength: number;
  reason: PolicyReason | undefined;
  deviation?: DeviationId | undefined;
}

export interface PropertyRequest { guid: GuidText; name: string; nameSize: number }

/**
 * Frame checks for functions 9 and 10, following edk2 SmmVariableHandler's
 * VAR_CHECK_VARIABLE_PROPERTY_GET case: NameSize inside the payload and the name's
 * last unit a NUL, else EFI_ACCESS_DENIED. A payload shorter than the fixed part
 * makes edk2 return without writing ReturnStatus; we answer EFI_BAD_BUFFER_SIZE, as
 * every other short message in this service. Then VarCheckLib refuses an empty name.
 */
export function readPropertyRequest(msg: Uint8Array): PropertyRequest | PolicyReason {
  if (msg.length < PropertyMsg.name) return 'var-check-too-short';
  const nameSize = u64NumAt(new DataView(msg.buffer, msg.byteOffset, msg.byteLength), PropertyMsg.nameSize);
  if (PropertyMsg.name + nameSize > msg.length) return 'var-check-name-past-message';
  const last = PropertyMsg.name + 2 * (Math.floor(nameSize / 2) - 1);
  if (nameSize < 2 || msg[last] !== 0 || msg[last + 1] !== 0) return 'var-check-name-unterminated';
  const name = nameKey(msg, PropertyMsg.name, nameSize);
  if (name.length === 0) return 'var-check-name-empty';
  return { guid: guidAt(msg, PropertyMsg.guid), name, nameSize };
}
