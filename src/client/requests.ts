import { Guids, guidBytes, writeGuid, type GuidText } from '../wire/guid.js';
import { encodeName } from '../wire/ucs2.js';
import { MM_HEADER_SIZE, VarFunction, Access, GetNext, writeMmHeader } from '../wire/mm.js';
import { ACCESS_VARIABLE_FIXED } from '../wire/variable-messages.js';

/**
 * Guest-side request builder: the buffers edk2's VariableSmmRuntimeDxe and
 * VirtMmCommunicationDxe send (spec §2, traces/qemu-conformance/README.md).
 * Used by the CLI, tests and the conformance suite.
 */
const SMM_VARIABLE = guidBytes(Guids.smmVariable);

function variableMessage(fn: number, payloadSize: number): { buf: Uint8Array; view: DataView } {
  const ml = 16 + payloadSize;
  const buf = new Uint8Array(MM_HEADER_SIZE + ml);
  writeMmHeader(buf, SMM_VARIABLE, ml);
  const view = new DataView(buf.buffer);
  view.setBigUint64(MM_HEADER_SIZE, BigInt(fn), true);
  return { buf, view };
}

const O = MM_HEADER_SIZE; // message offsets below are relative to the MM header end

export interface NameArg { name: string | Uint8Array; guid: GuidText }
const rawName = (n: string | Uint8Array): Uint8Array => (typeof n === 'string' ? encodeName(n) : n);

/** GetVariable with a caller buffer of `dataSize` bytes (edk2 trims it to the payload). */
export function getVariableRequest(a: NameArg & { dataSize: number }): Uint8Array {
  const name = rawName(a.name);
  const { buf, view } = variableMessage(VarFunction.GET_VARIABLE, ACCESS_VARIABLE_FIXED + name.length + a.dataSize);
  writeGuid(a.guid, buf, O + Access.guid);
  view.setBigUint64(O + Access.dataSize, BigInt(a.dataSize), true);
  view.setBigUint64(O + Access.nameSize, BigInt(name.length), true);
  buf.set(name, O + Access.name);
  return buf;
}

export function setVariableRequest(a: NameArg & { attributes: number; data: Uint8Array }): Uint8Array {
  const name = rawName(a.name);
  const { buf, view } = variableMessage(VarFunction.SET_VARIABLE, 36 + name.length + a.data.length);
  writeGuid(a.guid, buf, O + Access.guid);
  view.setBigUint64(O + Access.dataSize, BigInt(a.data.length), true);
  view.setBigUint64(O + Access.nameSize, BigInt(name.length), true);
  view.setUint32(O + Access.attributes, a.attributes >>> 0, true);
  buf.set(name, O + Access.name);
  buf.set(a.data, O + Access.name + name.length);
  return buf;
}

/** edk2: MessageLength = 16 + 24 + max(caller buffer, StrSize(current)). */
export function getNextRequest(a: { name: string | Uint8Array; guid: GuidText; bufferSize: number }): Uint8Array {
  const name = rawName(a.name);
  const room = Math.max(a.bufferSize, name.length);
  const { buf, view } = variableMessage(VarFunction.GET_NEXT_VARIABLE_NAME, 24 + room);
  writeGuid(a.guid, buf, O + GetNext.guid);
  view.setBigUint64(O + GetNext.nameSize, BigInt(a.bufferSize), true);
  buf.set(name, O + GetNext.name);
  return buf;
}

export function queryVariableInfoRequest(attributes: number): Uint8Array {
  const { buf, view } = variableMessage(VarFunction.QUERY_VARIABLE_INFO, 32);
  view.setUint32(O + 40, attributes >>> 0, true);
  return buf;
}

export function getPayloadSizeRequest(): Uint8Array {
  return variableMessage(VarFunction.GET_PAYLOAD_SIZE, 8).buf;
}

export function lockVariableRequest(a: NameArg): Uint8Array {
  const name = rawName(a.name);
  const { buf, view } = variableMessage(VarFunction.LOCK_VARIABLE, 24 + name.length);
  writeGuid(a.guid, buf, O + GetNext.guid);
  view.setBigUint64(O + GetNext.nameSize, BigInt(name.length), true);
  buf.set(name, O + GetNext.name);
  return buf;
}

/** Functions 5 and 6 with MessageLength 16, as VariableSmmRuntimeDxe sends them. */
export function functionOnlyRequest(fn: number): Uint8Array {
  return variableMessage(fn, 0).buf;
}

/** Event group messages as VirtMmCommunicationDxe sends them: MessageLength 1, one zero byte. */
export function eventRequest(event: 'endOfDxe' | 'readyToBoot' | 'exitBootServices'): Uint8Array {
  const buf = new Uint8Array(MM_HEADER_SIZE + 1);
  writeMmHeader(buf, guidBytes(Guids[event]), 1);
  return buf;
}

/** Read the ReturnStatus of a variable-protocol reply. */
export function replyStatus(reply: Uint8Array): bigint {
  return new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getBigUint64(MM_HEADER_SIZE + 8, true);
}

/** The data of a successful GetVariable reply. */
export function replyData(reply: Uint8Array): { attributes: number; data: Uint8Array } {
  const v = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const size = Number(v.getBigUint64(O + Access.dataSize, true));
  const nameSize = Number(v.getBigUint64(O + Access.nameSize, true));
  const at = O + Access.name + nameSize;
  return { attributes: v.getUint32(O + Access.attributes, true), data: reply.slice(at, at + size) };
}
