/**
 * GuestClient: the calls edk2's VariableSmmRuntimeDxe (and OVMF's
 * VirtMmCommunicationDxe for events) make, over any Transport. Each method
 * returns the EFI status and the fields the reply carries; nothing is thrown
 * for an EFI error. Transport failures (device status other than 0, target
 * gone) are reported, not hidden: see `MmCallError`.
 */
import { type GuidText } from '../wire/guid.js';
import { encodeName } from '../wire/ucs2.js';
import { VarFunction, decodeVariableMessage, tryDecodeMmMessage, type VariablePayload } from '../wire/mm.js';
import { EfiStatus, statusName } from '../wire/status.js';
import {
  getVariableRequest, setVariableRequest, getNextRequest, queryVariableInfoRequest, getPayloadSizeRequest,
  lockVariableRequest, functionOnlyRequest, eventRequest, replyStatus,
} from './requests.js';
import { PolicyCommand, encodePolicyEntry, policyRequest, policyResult, type PolicyEntry } from './policy-requests.js';
import type { MmExchange, Transport } from './transport.js';

/** The device answered an MM call with CMD_STS ≠ 0, or wrote nothing back. */
export class MmCallError extends Error {
  override readonly name = 'MmCallError';
  constructor(readonly exchange: MmExchange, what: string) {
    super(`${what}: device status 0x${exchange.deviceStatus.toString(16)}${exchange.reply ? '' : ', nothing written back'}`);
  }
}

export type Name = string | Uint8Array;
const raw = (n: Name): Uint8Array => (typeof n === 'string' ? encodeName(n) : n);

export interface GetResult { status: bigint; dataSize: number; attributes: number; data: Uint8Array }
export interface NextResult { status: bigint; guid: GuidText; nameSize: number; name: Uint8Array }
export interface QueryResult { status: bigint; maximumStorage: bigint; remainingStorage: bigint; maximumVariableSize: bigint; attributes: number }
export interface VariableId { guid: GuidText; name: Uint8Array }

export class GuestClient {
  constructor(readonly transport: Transport) {}

  /** Send bytes as they are; the raw exchange. */
  call(request: Uint8Array): Promise<MmExchange> {
    return this.transport.send(request);
  }

  /** A variable-protocol call that must reach the service: returns the reply (ReturnStatus at 32). */
  async variableCall(request: Uint8Array, what: string): Promise<Uint8Array> {
    const x = await this.transport.send(request);
    if (x.deviceStatus !== 0 || !x.reply) throw new MmCallError(x, what);
    return x.reply;
  }

  /** One GetVariable with a caller buffer of `dataSize` bytes. */
  async getVariableWith(name: Name, guid: GuidText, dataSize: number): Promise<GetResult> {
    const n = raw(name);
    const r = await this.variableCall(getVariableRequest({ name: n, guid, dataSize }), 'GetVariable');
    const status = replyStatus(r);
    const p = payloadOf(r, 'access-variable', 'GetVariable');
    const size = Number(p.dataSize);
    const data = status === EfiStatus.SUCCESS ? p.data.slice(0, size) : new Uint8Array(0);
    return { status, dataSize: size, attributes: p.attributes, data };
  }

  /** The usual two-call GetVariable: ask with an empty buffer, then with the size the service named. */
  async getVariable(name: Name, guid: GuidText): Promise<GetResult> {
    const first = await this.getVariableWith(name, guid, 0);
    if (first.status !== EfiStatus.BUFFER_TOO_SMALL) return first;
    return this.getVariableWith(name, guid, first.dataSize);
  }

  async setVariable(name: Name, guid: GuidText, attributes: number, data: Uint8Array): Promise<bigint> {
    return replyStatus(await this.variableCall(setVariableRequest({ name: raw(name), guid, attributes, data }), 'SetVariable'));
  }

  /** One GetNextVariableName with a caller buffer of `bufferSize` bytes (edk2's request shape). */
  async getNextVariableName(name: Name, guid: GuidText, bufferSize: number): Promise<NextResult> {
    const r = await this.variableCall(getNextRequest({ name: raw(name), guid, bufferSize }), 'GetNextVariableName');
    const p = payloadOf(r, 'variable-name', 'GetNextVariableName');
    return { status: replyStatus(r), guid: p.guid, nameSize: Number(p.nameSize), name: p.name };
  }

  /**
   * Enumerate the store the way an OS does: start with `initialBuffer` bytes,
   * grow the name buffer to the size the service asks for on
   * EFI_BUFFER_TOO_SMALL. Stops at EFI_NOT_FOUND; any other status ends the
   * walk and is returned. `limit` bounds the walk (an implementation that loops).
   */
  async listVariables(initialBuffer = 16, limit = 4096): Promise<{ status: bigint; variables: VariableId[] }> {
    const variables: VariableId[] = [];
    let cur: VariableId = { guid: '00000000-0000-0000-0000-000000000000', name: new Uint8Array(2) };
    let size = initialBuffer;
    while (variables.length < limit) {
      const r = await this.getNextVariableName(cur.name, cur.guid, size);
      if (r.status === EfiStatus.BUFFER_TOO_SMALL && r.nameSize > size) { size = r.nameSize; continue; }
      if (r.status !== EfiStatus.SUCCESS) return { status: r.status, variables };
      cur = { guid: r.guid, name: r.name.slice(0, r.nameSize) };
      variables.push(cur);
    }
    return { status: EfiStatus.ABORTED, variables };
  }

  async queryVariableInfo(attributes: number): Promise<QueryResult> {
    const r = await this.variableCall(queryVariableInfoRequest(attributes), 'QueryVariableInfo');
    const p = payloadOf(r, 'query-variable-info', 'QueryVariableInfo');
    return {
      status: replyStatus(r), maximumStorage: p.maximumStorageSize, remainingStorage: p.remainingStorageSize,
      maximumVariableSize: p.maximumVariableSize, attributes: p.attributes,
    };
  }

  async getPayloadSize(): Promise<{ status: bigint; size: bigint }> {
    const r = await this.variableCall(getPayloadSizeRequest(), 'GET_PAYLOAD_SIZE');
    return { status: replyStatus(r), size: payloadOf(r, 'payload-size', 'GET_PAYLOAD_SIZE').payloadSize };
  }

  async lockVariable(name: Name, guid: GuidText): Promise<bigint> {
    return replyStatus(await this.variableCall(lockVariableRequest({ name: raw(name), guid }), 'LOCK_VARIABLE'));
  }

  /** Variable function without payload (5 READY_TO_BOOT, 6 EXIT_BOOT_SERVICE, or any id for probing). */
  async functionCall(fn: number): Promise<bigint> {
    return replyStatus(await this.variableCall(functionOnlyRequest(fn), `function ${fn}`));
  }

  /** Boot-phase event message as VirtMmCommunicationDxe sends it; resolves to CMD_STS. */
  async event(e: 'endOfDxe' | 'readyToBoot' | 'exitBootServices'): Promise<number> {
    return (await this.transport.send(eventRequest(e))).deviceStatus;
  }

  /** EndOfDxe then ExitBootServices (function 6), as a booted OS finds the service. */
  async toRuntime(): Promise<void> {
    await this.event('endOfDxe');
    const s = await this.functionCall(VarFunction.EXIT_BOOT_SERVICE);
    if (s !== EfiStatus.SUCCESS) throw new Error(`EXIT_BOOT_SERVICE answered ${statusName(s)}`);
  }

  /** A policy command; resolves to Result and the reply. */
  async policy(command: number, params?: Uint8Array): Promise<{ status: bigint; reply: Uint8Array }> {
    const r = await this.variableCall(policyRequest(command, params), `policy command ${command}`);
    return { status: policyResult(r), reply: r };
  }

  async registerPolicy(e: PolicyEntry): Promise<bigint> {
    return (await this.policy(PolicyCommand.REGISTER, encodePolicyEntry(e))).status;
  }

  /** IS_ENABLED: Result and the State byte. */
  async policyIsEnabled(): Promise<{ status: bigint; state: number }> {
    const { status, reply } = await this.policy(PolicyCommand.IS_ENABLED, new Uint8Array(1));
    const m = tryDecodeMmMessage(reply);
    return { status, state: (m.kind === 'policy' ? m.params[0] : undefined)! };
  }
}

/** The reply's payload in the layout `kind`, read by the codec; a reply without it is a transport fault. */
function payloadOf<K extends VariablePayload['kind']>(reply: Uint8Array, kind: K, what: string): Extract<VariablePayload, { kind: K }> {
  const p = decodeVariableMessage(reply)?.payload;
  if (p?.kind !== kind) throw new RangeError(`${what}: a reply of ${reply.length} bytes without the ${kind} payload`);
  return p as Extract<VariablePayload, { kind: K }>;
}
