import { ByteReader } from '../reader.js';
import { ByteWriter } from '../writer.js';
import { WireError } from '../errors.js';
import { Guids, guidAt, guidBytes, type GuidText } from '../guid.js';
import {
  MM_HEADER_SIZE, VAR_HEADER_SIZE, POLICY_HEADER_SIZE, ACCESS_VARIABLE_FIXED, VARIABLE_NAME_FIXED,
  QUERY_VARIABLE_INFO_FIXED, PAYLOAD_SIZE_FIXED, payloadKindOf, type PayloadKind,
} from './layout.js';

/**
 * Typed views of every MM communicate buffer the variable service sees (spec §2):
 * the EFI_MM_COMMUNICATE_HEADER, the SMM_VARIABLE_COMMUNICATE_HEADER and each
 * function's payload, the VarCheckPolicy header and the boot-phase events.
 *
 * Requests and replies share one layout per function, so one decoder reads both.
 * Decoding is lossless: `encodeMmMessage(decodeMmMessage(b))` gives back the
 * 24 + MessageLength bytes of `b`, including malformed messages a guest may send
 * (NameSize past the message end, payloads too short for their function). Only
 * the fixed-size parts are required; a buffer too short for them throws
 * WireError('truncated') (or, inside decodeMmMessage, falls back to a raw payload,
 * because QEMU itself accepts such messages and answers them).
 */

/** Get and Set (functions 1 and 3). */
export interface AccessVariablePayload {
  kind: 'access-variable';
  guid: GuidText;
  dataSize: bigint;
  nameSize: bigint;
  attributes: number;
  /** The NameSize bytes after the fixed part, or fewer when NameSize runs past the message. */
  name: Uint8Array;
  /** The DataSize bytes after the name, or fewer when DataSize runs past the message. */
  data: Uint8Array;
  /** Bytes after name and data up to the message end (caller buffer slack, stale reply bytes). */
  trailing: Uint8Array;
}

/** GetNextVariableName (2) and LockVariable (8). */
export interface VariableNamePayload {
  kind: 'variable-name';
  guid: GuidText;
  nameSize: bigint;
  /** The NameSize bytes after the fixed part, or fewer when NameSize runs past the message. */
  name: Uint8Array;
  trailing: Uint8Array;
}

/** QueryVariableInfo (4). */
export interface QueryVariableInfoPayload {
  kind: 'query-variable-info';
  maximumStorageSize: bigint;
  remainingStorageSize: bigint;
  maximumVariableSize: bigint;
  attributes: number;
  trailing: Uint8Array;
}

/** GetPayloadSize (11). */
export interface PayloadSizePayload {
  kind: 'payload-size';
  payloadSize: bigint;
  trailing: Uint8Array;
}

/** Functions without a payload layout (5, 6, unknown ids), or a payload too short for its layout. */
export interface RawPayload {
  kind: 'raw';
  bytes: Uint8Array;
}

export type VariablePayload =
  | AccessVariablePayload
  | VariableNamePayload
  | QueryVariableInfoPayload
  | PayloadSizePayload
  | RawPayload;

export type { PayloadKind };

/** A message for gEfiSmmVariableProtocolGuid with the 16-byte function header. */
export interface VariableMessage {
  kind: 'variable';
  function: bigint;
  returnStatus: bigint;
  payload: VariablePayload;
}

/** A variable-protocol message shorter than its function header (QEMU: device status 0x12). */
export interface ShortVariableMessage {
  kind: 'variable-short';
  body: Uint8Array;
}

/** A VarCheckPolicy message: the packed 20-byte header, command parameters kept raw. */
export interface PolicyMessage {
  kind: 'policy';
  signature: number;
  revision: number;
  command: number;
  result: bigint;
  params: Uint8Array;
}

/** A VarCheckPolicy message shorter than its header (QEMU: device status 0x12). */
export interface ShortPolicyMessage {
  kind: 'policy-short';
  body: Uint8Array;
}

export type BootEvent = 'end-of-dxe' | 'ready-to-boot' | 'exit-boot-services';

/** A boot-phase event group message (spec §2.2); edk2 sends one zero byte. */
export interface EventMessage {
  kind: 'event';
  event: BootEvent;
  body: Uint8Array;
}

/** Any other header GUID (QEMU echoes the buffer with device status 0x11). */
export interface UnknownMessage {
  kind: 'unknown';
  guid: GuidText;
  body: Uint8Array;
}

export type MmMessage =
  | VariableMessage
  | ShortVariableMessage
  | PolicyMessage
  | ShortPolicyMessage
  | EventMessage
  | UnknownMessage;

const EVENT_GUIDS: ReadonlyArray<[BootEvent, GuidText]> = [
  ['end-of-dxe', Guids.endOfDxe],
  ['ready-to-boot', Guids.readyToBoot],
  ['exit-boot-services', Guids.exitBootServices],
];

const FIXED_SIZE: Record<PayloadKind, number> = {
  'access-variable': ACCESS_VARIABLE_FIXED,
  'variable-name': VARIABLE_NAME_FIXED,
  'query-variable-info': QUERY_VARIABLE_INFO_FIXED,
  'payload-size': PAYLOAD_SIZE_FIXED,
  'raw': 0,
};

/** Take up to `size` bytes (a u64 the guest chose) without running past the end. */
function upTo(r: ByteReader, size: bigint, what: string): Uint8Array {
  const n = size < BigInt(r.remaining) ? Number(size) : r.remaining;
  return r.bytesCopy(n, what);
}

/** SMM_VARIABLE_COMMUNICATE_ACCESS_VARIABLE; throws WireError('truncated') if shorter than 36 bytes. */
export function decodeAccessVariable(payload: Uint8Array): AccessVariablePayload {
  const r = new ByteReader(payload);
  const guid = guidAt(r.bytesView(16, 'AccessVariable.Guid'), 0);
  const dataSize = r.u64('AccessVariable.DataSize');
  const nameSize = r.u64('AccessVariable.NameSize');
  const attributes = r.u32('AccessVariable.Attributes');
  const name = upTo(r, nameSize, 'AccessVariable.Name');
  const data = upTo(r, dataSize, 'AccessVariable.Data');
  return { kind: 'access-variable', guid, dataSize, nameSize, attributes, name, data, trailing: r.bytesCopy(r.remaining) };
}

/** SMM_VARIABLE_COMMUNICATE_GET_NEXT_VARIABLE_NAME; throws WireError('truncated') if shorter than 24 bytes. */
export function decodeVariableName(payload: Uint8Array): VariableNamePayload {
  const r = new ByteReader(payload);
  const guid = guidAt(r.bytesView(16, 'VariableName.Guid'), 0);
  const nameSize = r.u64('VariableName.NameSize');
  const name = upTo(r, nameSize, 'VariableName.Name');
  return { kind: 'variable-name', guid, nameSize, name, trailing: r.bytesCopy(r.remaining) };
}

/** SMM_VARIABLE_COMMUNICATE_QUERY_VARIABLE_INFO; throws WireError('truncated') if shorter than 28 bytes. */
export function decodeQueryVariableInfo(payload: Uint8Array): QueryVariableInfoPayload {
  const r = new ByteReader(payload);
  return {
    kind: 'query-variable-info',
    maximumStorageSize: r.u64('QueryVariableInfo.MaximumVariableStorageSize'),
    remainingStorageSize: r.u64('QueryVariableInfo.RemainingVariableStorageSize'),
    maximumVariableSize: r.u64('QueryVariableInfo.MaximumVariableSize'),
    attributes: r.u32('QueryVariableInfo.Attributes'),
    trailing: r.bytesCopy(r.remaining),
  };
}

/** SMM_VARIABLE_COMMUNICATE_GET_PAYLOAD_SIZE; throws WireError('truncated') if shorter than 8 bytes. */
export function decodePayloadSize(payload: Uint8Array): PayloadSizePayload {
  const r = new ByteReader(payload);
  return { kind: 'payload-size', payloadSize: r.u64('GetPayloadSize.VariablePayloadSize'), trailing: r.bytesCopy(r.remaining) };
}

/** The payload of function `fn`; a payload too short for the function's fixed part stays raw. */
export function decodeVariablePayload(fn: bigint, payload: Uint8Array): VariablePayload {
  const kind = payloadKindOf(fn);
  if (payload.length < FIXED_SIZE[kind]) return { kind: 'raw', bytes: payload.slice() };
  switch (kind) {
    case 'access-variable': return decodeAccessVariable(payload);
    case 'variable-name': return decodeVariableName(payload);
    case 'query-variable-info': return decodeQueryVariableInfo(payload);
    case 'payload-size': return decodePayloadSize(payload);
    case 'raw': return { kind: 'raw', bytes: payload.slice() };
  }
}

/**
 * Decode one MM communicate buffer. Reads the 24-byte header and exactly
 * MessageLength bytes after it (bytes beyond are not part of the message and
 * are ignored). Throws WireError('truncated') when the buffer is shorter than
 * the header or than 24 + MessageLength.
 */
export function decodeMmMessage(bytes: Uint8Array): MmMessage {
  const r = new ByteReader(bytes);
  const guid = guidAt(r.bytesView(16, 'MmHeader.HeaderGuid'), 0);
  const messageLength = r.u64('MmHeader.MessageLength');
  if (messageLength > BigInt(r.remaining)) {
    throw new WireError('truncated', `MM message: MessageLength ${messageLength} but ${r.remaining} bytes follow the header`);
  }
  const body = r.bytesView(Number(messageLength), 'MM message');

  if (guid === Guids.smmVariable) {
    if (body.length < VAR_HEADER_SIZE) return { kind: 'variable-short', body: body.slice() };
    const m = new ByteReader(body);
    const fn = m.u64('SmmVariable.Function');
    const returnStatus = m.u64('SmmVariable.ReturnStatus');
    return { kind: 'variable', function: fn, returnStatus, payload: decodeVariablePayload(fn, m.bytesView(m.remaining)) };
  }
  if (guid === Guids.varCheckPolicy) {
    if (body.length < POLICY_HEADER_SIZE) return { kind: 'policy-short', body: body.slice() };
    const p = new ByteReader(body);
    return {
      kind: 'policy',
      signature: p.u32('VarCheckPolicy.Signature'),
      revision: p.u32('VarCheckPolicy.Revision'),
      command: p.u32('VarCheckPolicy.Command'),
      result: p.u64('VarCheckPolicy.Result'),
      params: p.bytesCopy(p.remaining),
    };
  }
  const event = EVENT_GUIDS.find(([, g]) => g === guid)?.[0];
  if (event) return { kind: 'event', event, body: body.slice() };
  return { kind: 'unknown', guid, body: body.slice() };
}

function encodePayload(fn: bigint, p: VariablePayload, w: ByteWriter): void {
  if (p.kind !== 'raw' && p.kind !== payloadKindOf(fn)) {
    throw new WireError('bad-value', `function ${fn} does not use the ${p.kind} layout`);
  }
  switch (p.kind) {
    case 'access-variable':
      w.bytes(guidBytes(p.guid)).u64(p.dataSize).u64(p.nameSize).u32(p.attributes);
      w.bytes(p.name).bytes(p.data).bytes(p.trailing);
      return;
    case 'variable-name':
      w.bytes(guidBytes(p.guid)).u64(p.nameSize).bytes(p.name).bytes(p.trailing);
      return;
    case 'query-variable-info':
      w.u64(p.maximumStorageSize).u64(p.remainingStorageSize).u64(p.maximumVariableSize).u32(p.attributes).bytes(p.trailing);
      return;
    case 'payload-size':
      w.u64(p.payloadSize).bytes(p.trailing);
      return;
    case 'raw':
      w.bytes(p.bytes);
      return;
  }
}

function payloadLength(p: VariablePayload): number {
  switch (p.kind) {
    case 'access-variable': return ACCESS_VARIABLE_FIXED + p.name.length + p.data.length + p.trailing.length;
    case 'variable-name': return VARIABLE_NAME_FIXED + p.name.length + p.trailing.length;
    case 'query-variable-info': return QUERY_VARIABLE_INFO_FIXED + p.trailing.length;
    case 'payload-size': return PAYLOAD_SIZE_FIXED + p.trailing.length;
    case 'raw': return p.bytes.length;
  }
}

function encodeBody(msg: MmMessage): { guid: GuidText; body: Uint8Array } {
  switch (msg.kind) {
    case 'variable': {
      // Sized exactly up front: the writer is never asked to grow.
      const w = new ByteWriter(VAR_HEADER_SIZE + payloadLength(msg.payload));
      w.u64(msg.function).u64(msg.returnStatus);
      encodePayload(msg.function, msg.payload, w);
      return { guid: Guids.smmVariable, body: w.finish() };
    }
    case 'variable-short':
      if (msg.body.length >= VAR_HEADER_SIZE) throw new WireError('bad-value', 'variable-short message has a full function header');
      return { guid: Guids.smmVariable, body: msg.body };
    case 'policy': {
      const w = new ByteWriter(POLICY_HEADER_SIZE + msg.params.length);
      w.u32(msg.signature).u32(msg.revision).u32(msg.command).u64(msg.result).bytes(msg.params);
      return { guid: Guids.varCheckPolicy, body: w.finish() };
    }
    case 'policy-short':
      if (msg.body.length >= POLICY_HEADER_SIZE) throw new WireError('bad-value', 'policy-short message has a full policy header');
      return { guid: Guids.varCheckPolicy, body: msg.body };
    case 'event': {
      const guid = EVENT_GUIDS.find(([e]) => e === msg.event)![1];
      return { guid, body: msg.body };
    }
    case 'unknown':
      return { guid: msg.guid, body: msg.body };
  }
}

/** The MM communicate buffer for `msg`: exactly 24 + MessageLength bytes, MessageLength = body length. */
export function encodeMmMessage(msg: MmMessage): Uint8Array {
  const { guid, body } = encodeBody(msg);
  const out = new ByteWriter(MM_HEADER_SIZE + body.length);
  out.bytes(guidBytes(guid)).u64(body.length).bytes(body);
  return out.finish();
}

/** A buffer the codec could not read as an MM message: the typed error, never a throw. */
export interface MmDecodeError {
  kind: 'error';
  error: WireError;
}

/**
 * decodeMmMessage without the throw: any bytes give either a typed message or
 * a typed error (a hostile peer's buffer is a value, not an exception).
 */
export function tryDecodeMmMessage(bytes: Uint8Array): MmMessage | MmDecodeError {
  try {
    return decodeMmMessage(bytes);
  } catch (e) {
    if (e instanceof WireError) return { kind: 'error', error: e };
    throw e;
  }
}

/** The variable message of `reply`, or undefined when it is not a full variable-protocol message. */
export function decodeVariableMessage(reply: Uint8Array): VariableMessage | undefined {
  const m = tryDecodeMmMessage(reply);
  return m.kind === 'variable' ? m : undefined;
}

/** The MM buffer of a variable-protocol request: function `fn`, ReturnStatus 0, `payload`. */
export function encodeVariableRequest(fn: number | bigint, payload: VariablePayload): Uint8Array {
  return encodeMmMessage({ kind: 'variable', function: BigInt(fn), returnStatus: 0n, payload });
}
