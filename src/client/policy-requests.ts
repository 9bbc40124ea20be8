/**
 * VarCheckPolicy messages (spec §5.1–§5.3, edk2 VarCheckPolicyMmi.h): the packed
 * 20-byte comm header and VARIABLE_POLICY_ENTRY in edk2's layout (the
 * LOCK_ON_VAR_STATE state name at entry offset 62).
 */
import { Guids, guidBytes, writeGuid, type GuidText } from '../wire/guid.js';
import { encodeName } from '../wire/ucs2.js';
import { MM_HEADER_SIZE, writeMmHeader } from '../wire/mm.js';

export const PolicyCommand = { DISABLE: 1, IS_ENABLED: 2, REGISTER: 3, DUMP: 4, LOCK: 5 } as const;
export const LockPolicy = { NO_LOCK: 0, LOCK_NOW: 1, LOCK_ON_CREATE: 2, LOCK_ON_VAR_STATE: 3 } as const;

/** 'VCPC' (spec §5.1). */
const SIGNATURE = 0x43504356;

/** A policy message with `params` after the comm header; `messageLength` overrides the real length (malformed tests). */
export function policyRequest(command: number, params: Uint8Array = new Uint8Array(0), messageLength?: number): Uint8Array {
  const ml = 20 + params.length;
  const buf = new Uint8Array(MM_HEADER_SIZE + ml);
  writeMmHeader(buf, guidBytes(Guids.varCheckPolicy), messageLength ?? ml);
  const v = new DataView(buf.buffer);
  v.setUint32(MM_HEADER_SIZE, SIGNATURE, true);
  v.setUint32(MM_HEADER_SIZE + 4, 1, true);
  v.setUint32(MM_HEADER_SIZE + 8, command, true);
  buf.set(params, MM_HEADER_SIZE + 20);
  return buf;
}

/** Result (EFI_STATUS at message offset 12, unaligned). */
export function policyResult(reply: Uint8Array): bigint {
  return new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getBigUint64(MM_HEADER_SIZE + 12, true);
}

export interface PolicyEntry {
  namespace: GuidText;
  /** Omitted: a namespace-only policy. `#` matches one hex digit (spec §5.4). */
  name?: string;
  minSize?: number;
  maxSize?: number;
  mustHave?: number;
  cantHave?: number;
  lockType?: number;
  /** LOCK_ON_VAR_STATE: locks once the 1-byte variable (namespace, name) holds `value`. */
  state?: { namespace: GuidText; name: string; value: number };
  /** Raw field overrides (malformed-entry cases). */
  size?: number;
  offsetToName?: number;
  version?: number;
}

export function encodePolicyEntry(e: PolicyEntry): Uint8Array {
  const name = e.name === undefined ? new Uint8Array(0) : encodeName(e.name);
  const stateName = e.state ? encodeName(e.state.name) : new Uint8Array(0);
  const offsetToName = 44 + (e.state ? 18 + stateName.length : 0);
  const out = new Uint8Array(offsetToName + name.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, e.version ?? 0x00010000, true);
  v.setUint16(4, e.size ?? out.length, true);
  v.setUint16(6, e.offsetToName ?? offsetToName, true);
  writeGuid(e.namespace, out, 8);
  v.setUint32(24, e.minSize ?? 0, true);
  v.setUint32(28, e.maxSize ?? 0xffffffff, true);
  v.setUint32(32, e.mustHave ?? 0, true);
  v.setUint32(36, e.cantHave ?? 0, true);
  out[40] = e.lockType ?? (e.state ? LockPolicy.LOCK_ON_VAR_STATE : LockPolicy.NO_LOCK);
  if (e.state) {
    writeGuid(e.state.namespace, out, 44);
    out[60] = e.state.value;
    out.set(stateName, 62);
  }
  out.set(name, offsetToName);
  return out;
}
