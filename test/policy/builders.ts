/**
 * Test-side encoders for VarCheckPolicy messages and VARIABLE_POLICY_ENTRY,
 * written from the layouts in spec §5.1/§5.3 and edk2 VarCheckPolicyMmi.h,
 * independently of src/policy (so a layout slip there cannot hide here).
 */
import type { GuidText } from '../../src/wire/guid.js';
import { writeGuid } from '../../src/wire/guid.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { makeVariable, variableKey, type Variable } from '../../src/store/variable.js';
import type { PolicyContext, PolicyCheck, PolicyDecision, VariablePolicy } from '../../src/policy/engine.js';
import type { PolicyReason } from '../../src/policy/reasons.js';
import { answerPolicyMessage, type PolicyAnswer } from '../../src/service/policy-functions.js';
import { statusOf } from '../../src/service/reasons.js';

// edk2 VariablePolicyUnitTest GUIDs and names
export const GUID1: GuidText = 'f955ba2d-4a2c-480c-bfd1-3cc522610592';
export const GUID2: GuidText = '2dea799e-5e73-43b9-870e-c945ce82af3a';
export const GUID3: GuidText = '698a2bfd-a616-482d-b88c-7100bd6682a9';

export const NO_LOCK = 0;
export const LOCK_NOW = 1;
export const LOCK_ON_CREATE = 2;
export const LOCK_ON_VAR_STATE = 3;

export const NV = 0x01, BS = 0x02, RT = 0x04, AT = 0x20, AP = 0x40;

export interface EntrySpec {
  namespace?: GuidText;
  /** undefined → whole namespace (no name bytes at all). */
  name?: string | undefined;
  version?: number;
  minSize?: number;
  maxSize?: number;
  mustHave?: number;
  cantHave?: number;
  lockType?: number;
  state?: { namespace: GuidText; value: number; name: string };
  padding?: number;
  /** Field overrides written after layout (the byte length stays the computed one). */
  size?: number;
  offsetToName?: number;
}

/** A VARIABLE_POLICY_ENTRY, packed as edk2 lays it out (state name at 62). */
export function entry(spec: EntrySpec = {}): Uint8Array {
  const name = spec.name === undefined ? new Uint8Array(0) : encodeName(spec.name);
  const stateName = spec.state ? encodeName(spec.state.name) : new Uint8Array(0);
  const lockPart = spec.state ? 18 + stateName.length : 0;
  const offsetToName = 44 + lockPart;
  const size = offsetToName + name.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, spec.version ?? 0x00010000, true);
  v.setUint16(4, spec.size ?? size, true);
  v.setUint16(6, spec.offsetToName ?? offsetToName, true);
  writeGuid(spec.namespace ?? GUID1, out, 8);
  v.setUint32(24, spec.minSize ?? 0, true);
  v.setUint32(28, spec.maxSize ?? 0xffffffff, true);
  v.setUint32(32, spec.mustHave ?? 0, true);
  v.setUint32(36, spec.cantHave ?? 0, true);
  out[40] = spec.lockType ?? (spec.state ? LOCK_ON_VAR_STATE : NO_LOCK);
  out.fill(spec.padding ?? 0, 41, 44);
  if (spec.state) {
    writeGuid(spec.state.namespace, out, 44);
    out[60] = spec.state.value;
    out.set(stateName, 62);
  }
  out.set(name, offsetToName);
  return out;
}

export interface MsgOptions {
  /** MessageLength (bytes after the MM header); the params are truncated or zero-padded to fit. */
  length?: number;
  signature?: number;
  revision?: number;
  /** Initial Result field, to prove it is overwritten. */
  result?: bigint;
}

/** A VarCheckPolicy message (after the 24-byte MM header). */
export function policyMsg(command: number, params: Uint8Array = new Uint8Array(0), o: MsgOptions = {}): Uint8Array {
  const length = o.length ?? 20 + params.length;
  const out = new Uint8Array(length);
  const whole = new Uint8Array(Math.max(length, 20 + params.length));
  const v = new DataView(whole.buffer);
  v.setUint32(0, o.signature ?? 0x43504356, true);
  v.setUint32(4, o.revision ?? 1, true);
  v.setUint32(8, command, true);
  v.setBigUint64(12, o.result ?? 0xafafafafafafafafn, true);
  whole.set(params, 20);
  out.set(whole.subarray(0, length));
  return out;
}

export const Cmd = { DISABLE: 1, IS_ENABLED: 2, REGISTER: 3, DUMP: 4, LOCK: 5, GET_INFO: 6, GET_LOCK_VAR_STATE_INFO: 7 } as const;
/** What edk2's VariablePolicySmmDxe sends for DUMP and GET_INFO: a 16384-byte MM buffer. */
export const FULL_MESSAGE = 16384 - 24;
export const DUMP_PAGE = 16327;
export const INFO_ROOM = 16272;

export const registerMsg = (e: Uint8Array, o: MsgOptions = {}): Uint8Array => policyMsg(Cmd.REGISTER, e, o);
export const isEnabledMsg = (length = 21): Uint8Array => policyMsg(Cmd.IS_ENABLED, new Uint8Array(1), { length });
export const lockMsg = (): Uint8Array => policyMsg(Cmd.LOCK);
export const disableMsg = (): Uint8Array => policyMsg(Cmd.DISABLE);

export function dumpMsg(page: number, length = FULL_MESSAGE): Uint8Array {
  const p = new Uint8Array(13);
  new DataView(p.buffer).setUint32(0, page, true);
  return policyMsg(Cmd.DUMP, p, { length });
}

export interface InfoRequest {
  command?: number;
  guid: GuidText;
  name: string;
  /** Capacity the caller offers for the returned name. */
  capacity: number;
  /** Override InputVariableNameSize (default: StrSize(name)). */
  inputNameSize?: number;
  /** Raw input name bytes instead of `name`. */
  nameBytes?: Uint8Array;
  length?: number;
}

export function infoMsg(r: InfoRequest): Uint8Array {
  const nameBytes = r.nameBytes ?? encodeName(r.name);
  const p = new Uint8Array(68 + nameBytes.length);
  const v = new DataView(p.buffer);
  writeGuid(r.guid, p, 0);
  v.setUint32(16, r.inputNameSize ?? nameBytes.length, true);
  v.setUint32(20, r.capacity, true);
  p.fill(0x5a, 24, 68); // junk in OutputPolicyEntry: must come back zeroed or filled
  p.set(nameBytes, 68);
  return policyMsg(r.command ?? Cmd.GET_INFO, p, { length: r.length ?? FULL_MESSAGE });
}

export function result(msg: Uint8Array): bigint {
  return new DataView(msg.buffer, msg.byteOffset, msg.byteLength).getBigUint64(12, true);
}

export function readDump(msg: Uint8Array): { totalSize: number; pageSize: number; hasMore: number; data: Uint8Array } {
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const pageSize = v.getUint32(28, true);
  return { totalSize: v.getUint32(24, true), pageSize, hasMore: msg[32]!, data: msg.slice(33, 33 + pageSize) };
}

export function readInfo(msg: Uint8Array): { policyEntry: Uint8Array; outputNameSize: number; name: (n: number) => Uint8Array } {
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const inputSize = v.getUint32(36, true);
  return {
    policyEntry: msg.slice(44, 88),
    outputNameSize: v.getUint32(40, true),
    name: (n: number) => msg.slice(88 + inputSize, 88 + inputSize + n),
  };
}

/** A tiny variable table for LOCK_ON_VAR_STATE probes. */
export class Vars {
  readonly map = new Map<string, Variable>();
  set(guid: GuidText, name: string, data: Uint8Array, attributes = NV | BS | RT): this {
    const n = encodeName(name);
    this.map.set(variableKey(guid, n), makeVariable({ guid, name: n, attributes, data }));
    return this;
  }
  delete(guid: GuidText, name: string): void { this.map.delete(variableKey(guid, encodeName(name))); }
  has(guid: GuidText, name: string): boolean { return this.map.has(variableKey(guid, encodeName(name))); }
}

export function ctx(o: { endOfDxe?: boolean; vars?: Vars; getVariable?: PolicyContext['getVariable'] } = {}): PolicyContext {
  const vars = o.vars ?? new Vars();
  return {
    endOfDxe: o.endOfDxe ?? false,
    readyToBoot: false,
    exitBootServices: false,
    getVariable: o.getVariable ?? ((guid, name) => vars.map.get(variableKey(guid, name))),
  };
}

export const DXE = ctx();
export const AFTER_EOD = ctx({ endOfDxe: true });

/** The EFI status the service edge gives a policy decision (service/reasons.ts statusOf). */
export function st(d: { readonly reason: PolicyReason | undefined }): bigint {
  return statusOf(d.reason);
}

/** One policy message as the service answers it: the engine decides, the edge writes Result (in place). */
export function answer(p: VariablePolicy, msg: Uint8Array, c: PolicyContext = DXE): PolicyAnswer {
  return answerPolicyMessage(p, msg, c);
}

/** Run one policy message; returns its Result (the message is modified in place). */
export function send(p: VariablePolicy, msg: Uint8Array, c: PolicyContext = DXE): bigint {
  const len = msg.length;
  const dev = answer(p, msg, c).deviceStatus;
  if (dev !== 0 || msg.length !== len) throw new Error(`device status ${dev}, length ${msg.length}`);
  return result(msg);
}

export interface WriteSpec { guid?: GuidText; name: string; attributes?: number; dataSize?: number; exists?: boolean }

/** checkSetVariable for one write (after EndOfDxe unless a context says otherwise): its EFI status. */
export function write(p: VariablePolicy, w: WriteSpec, c: PolicyContext = AFTER_EOD): bigint {
  return st(judge(p, w, c));
}

/** checkSetVariable for one write: the engine's decision (reason and deviation). */
export function judge(p: VariablePolicy, w: WriteSpec, c: PolicyContext = AFTER_EOD): PolicyDecision {
  const check: PolicyCheck = {
    guid: w.guid ?? GUID1,
    name: encodeName(w.name),
    attributes: w.attributes ?? (NV | BS | RT),
    dataSize: w.dataSize ?? 4,
    isDelete: (w.dataSize ?? 4) === 0,
    exists: w.exists ?? false,
  };
  return p.checkSetVariable(check, c);
}

/** The registered table as DUMP returns it (pages 0..n). */
export function dumpAll(p: VariablePolicy, c: PolicyContext = DXE): Uint8Array {
  const first = dumpMsg(0);
  if (send(p, first, c) !== 0n) throw new Error('dump page 0 failed');
  const { totalSize } = readDump(first);
  const out = new Uint8Array(totalSize);
  let at = 0;
  for (let page = 1; at < totalSize; page++) {
    const m = dumpMsg(page);
    if (send(p, m, c) !== 0n) throw new Error(`dump page ${page} failed`);
    const d = readDump(m);
    out.set(d.data, at);
    at += d.pageSize;
  }
  return out;
}

/** A variable-protocol message for functions 9/10 (Function @0, ReturnStatus @8, payload @16). */
export function propertyMsg(fn: number, guid: GuidText, name: string, prop: {
  revision?: number; property?: number; attributes?: number; minSize?: bigint; maxSize?: bigint;
} = {}, o: { nameSize?: number; length?: number; nameBytes?: Uint8Array } = {}): Uint8Array {
  const nameBytes = o.nameBytes ?? encodeName(name);
  const length = o.length ?? 64 + nameBytes.length;
  const whole = new Uint8Array(Math.max(length, 64 + nameBytes.length));
  const v = new DataView(whole.buffer);
  v.setBigUint64(0, BigInt(fn), true);
  writeGuid(guid, whole, 16);
  v.setBigUint64(32, BigInt(o.nameSize ?? nameBytes.length), true);
  v.setUint16(40, prop.revision ?? 1, true);
  v.setUint16(42, prop.property ?? 0, true);
  v.setUint32(44, prop.attributes ?? 0, true);
  v.setBigUint64(48, prop.minSize ?? 0n, true);
  v.setBigUint64(56, prop.maxSize ?? 0xffffffffffffffffn, true);
  whole.set(nameBytes, 64);
  return whole.slice(0, length);
}
