/**
 * VarCheckPolicy messages (spec §5.1–§5.3, edk2 VarCheckPolicyMmi.h): the packed
 * 20-byte comm header and VARIABLE_POLICY_ENTRY in edk2's layout (the
 * LOCK_ON_VAR_STATE state name at entry offset 62).
 */
import { writeGuid, type GuidText } from '../wire/guid.js';
import { encodeName } from '../wire/ucs2.js';
import {
  MESSAGE_LENGTH_OFFSET, POLICY_REVISION, POLICY_SIGNATURE, PolicyCommand, encodeMmMessage, replyStatusOf,
} from '../wire/mm.js';

export { PolicyCommand };
export const LockPolicy = { NO_LOCK: 0, LOCK_NOW: 1, LOCK_ON_CREATE: 2, LOCK_ON_VAR_STATE: 3 } as const;

/** A policy message with `params` after the comm header; `messageLength` overrides the real length (malformed tests). */
export function policyRequest(command: number, params: Uint8Array = new Uint8Array(0), messageLength?: number): Uint8Array {
  const buf = encodeMmMessage({ kind: 'policy', signature: POLICY_SIGNATURE, revision: POLICY_REVISION, command, result: 0n, params });
  if (messageLength !== undefined) new DataView(buf.buffer, buf.byteOffset).setBigUint64(MESSAGE_LENGTH_OFFSET, BigInt(messageLength), true);
  return buf;
}

/** Result (EFI_STATUS at message offset 12, unaligned); a buffer too short for it reads as a RangeError. */
export function policyResult(reply: Uint8Array): bigint {
  const st = replyStatusOf(reply, 'policy');
  if (st === undefined) throw new RangeError(`reply of ${reply.length} bytes has no policy Result`);
  return st;
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
