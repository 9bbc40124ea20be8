import type { GuidText } from '../wire/guid.js';
import { encodeName } from '../wire/ucs2.js';
import {
  VarFunction, QUERY_VARIABLE_INFO_STRUCT, QUERY_VARIABLE_INFO_FIXED, encodeVariableRequest, encodeMmMessage,
  decodeVariableMessage, replyStatusOf,
} from '../wire/mm.js';

/**
 * Guest-side request builder: the buffers edk2's VariableSmmRuntimeDxe and
 * VirtMmCommunicationDxe send (spec §2, traces/qemu-conformance/README.md),
 * written by the MM codec (wire/mm.ts). Used by the CLI, tests and the
 * conformance suite.
 */
export interface NameArg { name: string | Uint8Array; guid: GuidText }
const rawName = (n: string | Uint8Array): Uint8Array => (typeof n === 'string' ? encodeName(n) : n);
const NONE = new Uint8Array(0);

/** GetVariable with a caller buffer of `dataSize` bytes (edk2 trims it to the payload). */
export function getVariableRequest(a: NameArg & { dataSize: number }): Uint8Array {
  const name = rawName(a.name);
  return encodeVariableRequest(VarFunction.GET_VARIABLE, {
    kind: 'access-variable', guid: a.guid, dataSize: BigInt(a.dataSize), nameSize: BigInt(name.length), attributes: 0,
    name, data: new Uint8Array(a.dataSize), trailing: NONE,
  });
}

export function setVariableRequest(a: NameArg & { attributes: number; data: Uint8Array }): Uint8Array {
  const name = rawName(a.name);
  return encodeVariableRequest(VarFunction.SET_VARIABLE, {
    kind: 'access-variable', guid: a.guid, dataSize: BigInt(a.data.length), nameSize: BigInt(name.length), attributes: a.attributes >>> 0,
    name, data: a.data, trailing: NONE,
  });
}

/** edk2: MessageLength = 16 + 24 + max(caller buffer, StrSize(current)). */
export function getNextRequest(a: { name: string | Uint8Array; guid: GuidText; bufferSize: number }): Uint8Array {
  const name = rawName(a.name);
  const room = new Uint8Array(Math.max(a.bufferSize, name.length));
  room.set(name);
  const cut = Math.min(a.bufferSize, room.length);
  return encodeVariableRequest(VarFunction.GET_NEXT_VARIABLE_NAME, {
    kind: 'variable-name', guid: a.guid, nameSize: BigInt(a.bufferSize), name: room.subarray(0, cut), trailing: room.subarray(cut),
  });
}

/** edk2's struct with its 4 bytes of padding after Attributes. */
export function queryVariableInfoRequest(attributes: number): Uint8Array {
  return encodeVariableRequest(VarFunction.QUERY_VARIABLE_INFO, {
    kind: 'query-variable-info', maximumStorageSize: 0n, remainingStorageSize: 0n, maximumVariableSize: 0n, attributes: attributes >>> 0,
    trailing: new Uint8Array(QUERY_VARIABLE_INFO_STRUCT - QUERY_VARIABLE_INFO_FIXED),
  });
}

export function getPayloadSizeRequest(): Uint8Array {
  return encodeVariableRequest(VarFunction.GET_PAYLOAD_SIZE, { kind: 'payload-size', payloadSize: 0n, trailing: NONE });
}

export function lockVariableRequest(a: NameArg): Uint8Array {
  const name = rawName(a.name);
  return encodeVariableRequest(VarFunction.LOCK_VARIABLE, { kind: 'variable-name', guid: a.guid, nameSize: BigInt(name.length), name, trailing: NONE });
}

/** Functions 5 and 6 with MessageLength 16, as VariableSmmRuntimeDxe sends them. */
export function functionOnlyRequest(fn: number): Uint8Array {
  return encodeVariableRequest(fn, { kind: 'raw', bytes: NONE });
}

/** Event group messages as VirtMmCommunicationDxe sends them: MessageLength 1, one zero byte. */
export function eventRequest(event: 'endOfDxe' | 'readyToBoot' | 'exitBootServices'): Uint8Array {
  return encodeMmMessage({ kind: 'event', event: EVENTS[event], body: new Uint8Array(1) });
}
const EVENTS = { endOfDxe: 'end-of-dxe', readyToBoot: 'ready-to-boot', exitBootServices: 'exit-boot-services' } as const;

/** Read the ReturnStatus of a variable-protocol reply (a buffer too short for it reads as a RangeError). */
export function replyStatus(reply: Uint8Array): bigint {
  const st = replyStatusOf(reply, 'variable');
  if (st === undefined) throw new RangeError(`reply of ${reply.length} bytes has no ReturnStatus`);
  return st;
}

/** The data of a successful GetVariable reply. */
export function replyData(reply: Uint8Array): { attributes: number; data: Uint8Array } {
  const m = decodeVariableMessage(reply);
  if (m?.payload.kind !== 'access-variable') throw new RangeError(`reply of ${reply.length} bytes is not a GetVariable reply`);
  return { attributes: m.payload.attributes, data: m.payload.data.slice(0, Number(m.payload.dataSize)) };
}
