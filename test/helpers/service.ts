/**
 * Test helpers: a fresh service and guest-side calls that return decoded answers.
 * Requests are built the way edk2 builds them (src/client/requests.ts); replies
 * are read with src/wire/mm/messages.ts (the MM codec), whose field layout is checked
 * against the recorded QEMU traces in test/wire/variable-messages.test.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { VariableService, type ServiceInit, type StoreBackend } from '../../src/service/variable-service.js';
import type { Variable } from '../../src/store/variable.js';
import {
  getVariableRequest, setVariableRequest, getNextRequest, queryVariableInfoRequest,
  getPayloadSizeRequest, lockVariableRequest, functionOnlyRequest, eventRequest,
} from '../../src/client/requests.js';
import { decodeMmMessage, type VariableMessage } from '../../src/wire/mm.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { Guids, type GuidText } from '../../src/wire/guid.js';
import { fromHex, toHex } from '../../src/wire/hex.js';

/** The vendor GUID the QEMU conformance driver used for its own variables. */
export const TEST_GUID: GuidText = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
export const OTHER_GUID: GuidText = '0b6e5233-a65c-44c9-9407-d9ab83bfc8bd';
export const GLOBAL = Guids.globalVariable;

/** Status values spelled out here (spec §2.4), not imported from the code under test. */
export const S = {
  SUCCESS: 0x0n,
  INVALID_PARAMETER: 0x8000000000000002n,
  UNSUPPORTED: 0x8000000000000003n,
  BAD_BUFFER_SIZE: 0x8000000000000004n,
  BUFFER_TOO_SMALL: 0x8000000000000005n,
  DEVICE_ERROR: 0x8000000000000007n,
  WRITE_PROTECTED: 0x8000000000000008n,
  OUT_OF_RESOURCES: 0x8000000000000009n,
  NOT_FOUND: 0x800000000000000En,
  ACCESS_DENIED: 0x800000000000000Fn,
  ALREADY_STARTED: 0x8000000000000014n,
  SECURITY_VIOLATION: 0x800000000000001An,
} as const;

export const NV = 0x01, BS = 0x02, RT = 0x04, HR = 0x08, AW = 0x10, AT = 0x20, AP = 0x40;

/** The shared material folder (../shared from the repository root). */
const here = dirname(fileURLToPath(import.meta.url));
export const SHARED = resolve(here, '../../../../shared');
export const TRACES = resolve(SHARED, 'traces');

export function sharedBytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(resolve(SHARED, ...parts)));
}

export function freshService(init: ServiceInit = {}): Promise<VariableService> {
  return VariableService.create(init);
}

export interface Raw {
  deviceStatus: number;
  reply: Uint8Array | undefined;
  reason: string | undefined;
}

export async function raw(svc: VariableService, request: Uint8Array, bufferSize = 65536): Promise<Raw> {
  const r = await svc.process(request, bufferSize);
  return { deviceStatus: r.deviceStatus, reply: r.reply, reason: r.reason };
}

/** Process a variable-protocol request and decode the reply; fails loudly if there is none. */
export async function call(svc: VariableService, request: Uint8Array, bufferSize = 65536): Promise<VariableMessage & { reason: string | undefined }> {
  const r = await svc.process(request, bufferSize);
  if (r.deviceStatus !== 0 || !r.reply) throw new Error(`device status 0x${r.deviceStatus.toString(16)}, reply ${r.reply ? 'present' : 'absent'}`);
  const m = decodeMmMessage(r.reply);
  if (m.kind !== 'variable') throw new Error(`reply decoded as ${m.kind}`);
  return { ...m, reason: r.reason };
}

export function statusOf(m: { returnStatus: bigint }): bigint {
  return m.returnStatus;
}

export interface Answer {
  status: bigint;
  /** Data (GetVariable SUCCESS) — empty otherwise. */
  data: Uint8Array;
  /** Attributes field of the reply (GetVariable). */
  attributes: number;
  /** DataSize field of the reply (GetVariable) or NameSize (GetNext). */
  size: bigint;
  /** Name text of the reply (GetNext) or of the request (GetVariable). */
  name: string;
  guid: GuidText;
  reason: string | undefined;
}

type NameArg = string | Uint8Array;

export async function setVar(svc: VariableService, name: NameArg, attributes: number, data: Uint8Array | number[] | string, guid: GuidText = TEST_GUID): Promise<bigint> {
  const bytes = typeof data === 'string' ? fromHex(data) : data instanceof Uint8Array ? data : Uint8Array.from(data);
  const m = await call(svc, setVariableRequest({ name, guid, attributes, data: bytes }));
  return m.returnStatus;
}

export async function setVarFull(svc: VariableService, name: NameArg, attributes: number, data: Uint8Array | number[], guid: GuidText = TEST_GUID): Promise<VariableMessage & { reason: string | undefined }> {
  return call(svc, setVariableRequest({ name, guid, attributes, data: data instanceof Uint8Array ? data : Uint8Array.from(data) }));
}

export function deleteVar(svc: VariableService, name: NameArg, guid: GuidText = TEST_GUID, attributes = 0): Promise<bigint> {
  return setVar(svc, name, attributes, new Uint8Array(0), guid);
}

export async function getVar(svc: VariableService, name: NameArg, opts: { guid?: GuidText; dataSize?: number } = {}): Promise<Answer> {
  const guid = opts.guid ?? TEST_GUID;
  const m = await call(svc, getVariableRequest({ name, guid, dataSize: opts.dataSize ?? 4096 }));
  if (m.payload.kind !== 'access-variable') throw new Error(`GetVariable reply payload is ${m.payload.kind}`);
  const p = m.payload;
  return {
    status: m.returnStatus,
    data: m.returnStatus === S.SUCCESS ? p.data : new Uint8Array(0),
    attributes: p.attributes,
    size: p.dataSize,
    name: nameKey(p.name),
    guid: p.guid,
    reason: m.reason,
  };
}

export async function nextVar(svc: VariableService, name: NameArg, guid: GuidText = TEST_GUID, bufferSize = 1024): Promise<Answer> {
  const m = await call(svc, getNextRequest({ name, guid, bufferSize }));
  if (m.payload.kind !== 'variable-name') throw new Error(`GetNext reply payload is ${m.payload.kind}`);
  const p = m.payload;
  return { status: m.returnStatus, data: new Uint8Array(0), attributes: 0, size: p.nameSize, name: nameKey(p.name), guid: p.guid, reason: m.reason };
}

/** Full GetNextVariableName walk from the start, as "name@guid" strings. */
export async function walk(svc: VariableService): Promise<string[]> {
  const out: string[] = [];
  let name = '';
  let guid: GuidText = '00000000-0000-0000-0000-000000000000';
  for (let i = 0; i < 10_000; i++) {
    const n = await nextVar(svc, name, guid);
    if (n.status === S.NOT_FOUND) return out;
    if (n.status !== S.SUCCESS) throw new Error(`GetNext after ${name} answered 0x${n.status.toString(16)}`);
    out.push(`${n.name}@${n.guid}`);
    name = n.name;
    guid = n.guid;
  }
  throw new Error('enumeration does not end');
}

/** Names only, for walks that stay in one GUID or where the GUID is obvious. */
export async function walkNames(svc: VariableService): Promise<string[]> {
  return (await walk(svc)).map((s) => s.slice(0, s.indexOf('@')));
}

export interface QueryInfo { status: bigint; maximumStorageSize: bigint; remainingStorageSize: bigint; maximumVariableSize: bigint; attributes: number }

export async function queryInfo(svc: VariableService, attributes = 7): Promise<QueryInfo> {
  const m = await call(svc, queryVariableInfoRequest(attributes));
  if (m.payload.kind !== 'query-variable-info') throw new Error(`QVI reply payload is ${m.payload.kind}`);
  const { maximumStorageSize, remainingStorageSize, maximumVariableSize } = m.payload;
  return { status: m.returnStatus, maximumStorageSize, remainingStorageSize, maximumVariableSize, attributes: m.payload.attributes };
}

export async function payloadSize(svc: VariableService, bufferSize = 65536): Promise<{ status: bigint; size: bigint }> {
  const m = await call(svc, getPayloadSizeRequest(), bufferSize);
  if (m.payload.kind !== 'payload-size') throw new Error(`GET_PAYLOAD_SIZE reply payload is ${m.payload.kind}`);
  return { status: m.returnStatus, size: m.payload.payloadSize };
}

export async function lockVar(svc: VariableService, name: NameArg, guid: GuidText = TEST_GUID): Promise<bigint> {
  return (await call(svc, lockVariableRequest({ name, guid }))).returnStatus;
}

export async function fn(svc: VariableService, id: number): Promise<bigint> {
  return (await call(svc, functionOnlyRequest(id))).returnStatus;
}

export async function event(svc: VariableService, e: 'endOfDxe' | 'readyToBoot' | 'exitBootServices'): Promise<number> {
  return (await svc.process(eventRequest(e), 65536)).deviceStatus;
}

export function bytes(...b: number[]): Uint8Array {
  return Uint8Array.from(b);
}

export function name(s: string): Uint8Array {
  return encodeName(s);
}

/** A comparable, deep copy of every stored field, in store order. */
export interface VariableImage { guid: string; name: string; attributes: number; data: string; time: string; digest: string | null }

export function image(vars: readonly Variable[]): VariableImage[] {
  return vars.map((v) => ({
    guid: v.guid, name: toHex(v.name), attributes: v.attributes, data: toHex(v.data), time: toHex(v.time),
    digest: v.digest ? toHex(v.digest) : null,
  }));
}

/** A backend that records every save (a copy of the list) and can be told to fail. */
export class RecordingBackend implements StoreBackend {
  readonly saves: VariableImage[][] = [];
  failNext = 0;
  failAlways = false;
  async save(nonVolatile: readonly Variable[]): Promise<void> {
    await Promise.resolve();
    if (this.failAlways || this.failNext > 0) {
      if (this.failNext > 0) this.failNext--;
      throw new Error('disk full');
    }
    this.saves.push(image(nonVolatile));
  }
  get last(): VariableImage[] | undefined {
    return this.saves[this.saves.length - 1];
  }
}

/** Absolute offsets in an MM communicate buffer (spec §2.1, §2.3, §2.5). */
export const OFF = {
  messageLength: 16,
  function: 24,
  status: 32,
  access: { guid: 40, dataSize: 56, nameSize: 64, attributes: 72, name: 76 },
  getNext: { guid: 40, nameSize: 56, name: 64 },
  qvi: { max: 40, remaining: 48, maxVariable: 56, attributes: 64, pad: 68 },
} as const;

/** A copy of `req` with the u64 at `off` replaced. */
export function withU64(req: Uint8Array, off: number, v: bigint | number): Uint8Array {
  const out = req.slice();
  new DataView(out.buffer).setBigUint64(off, BigInt(v), true);
  return out;
}

export function withU32(req: Uint8Array, off: number, v: number): Uint8Array {
  const out = req.slice();
  new DataView(out.buffer).setUint32(off, v >>> 0, true);
  return out;
}

/** A copy of `req` cut or zero-extended to 24 + ml bytes, MessageLength set to ml. */
export function withMessageLength(req: Uint8Array, ml: number): Uint8Array {
  const out = new Uint8Array(24 + ml);
  out.set(req.subarray(0, Math.min(req.length, out.length)));
  new DataView(out.buffer).setBigUint64(16, BigInt(ml), true);
  return out;
}

/** A variable-protocol message with function `fn` and a zero (or given) payload. */
export function variableRequest(fnId: bigint | number, payload: Uint8Array | number = 0): Uint8Array {
  const p = typeof payload === 'number' ? new Uint8Array(payload) : payload;
  const out = new Uint8Array(24 + 16 + p.length);
  out.set(Uint8Array.of(0x33, 0xd5, 0x32, 0xed, 0xe6, 0x99, 0x09, 0x42, 0x9c, 0xc0, 0x2d, 0x72, 0xcd, 0xd9, 0x98, 0xa7), 0);
  const v = new DataView(out.buffer);
  v.setBigUint64(16, BigInt(16 + p.length), true);
  v.setBigUint64(24, BigInt(fnId), true);
  out.set(p, 40);
  return out;
}

/** An MM buffer with an arbitrary header GUID (binary) and body. */
export function mmRequest(guid: Uint8Array, body: Uint8Array | number): Uint8Array {
  const b = typeof body === 'number' ? new Uint8Array(body) : body;
  const out = new Uint8Array(24 + b.length);
  out.set(guid, 0);
  new DataView(out.buffer).setBigUint64(16, BigInt(b.length), true);
  out.set(b, 24);
  return out;
}

export function u64At(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
}
