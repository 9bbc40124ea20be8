/**
 * VariableService.handle / process: the whole request path a hostile guest
 * reaches (MM header, variable functions, policy commands, Secure Boot writes).
 *
 * Input: u8 flags, then up to 8 requests, each u16-length-prefixed. Flags:
 * bit 0 — start from a Secure Boot enrolled store (the x64-sb-authvars trace's
 * final state, user mode) instead of a fresh one; bit 1 — a durable backend;
 * bits 2-4 — which saves of that backend fail (rollback path); bits 5-6 — the
 * negotiated buffer size (65536, 4096, the request's own length, 64).
 *
 * Invariants per request: nothing throws; the reply is exactly the part of the
 * buffer the guest gets back (24 + MessageLength bytes, never more than it sent);
 * any request that is not a successful SET_VARIABLE leaves the store
 * byte-identical; storage accounting stays within the configured size; a
 * failed durable save leaves the store as it was.
 */
import { VariableService, type ServiceSnapshot, type StoreBackend } from '../../src/service/variable-service.js';
import type { Variable } from '../../src/store/variable.js';
import type { MmResult } from '../../src/service/mm-handler.js';
import { encodeQemuJson, decodeQemuJson } from '../../src/persist/json-qemu.js';
import { Guids, guidBytes, guidEqualsAt } from '../../src/wire/guid.js';
import { VarFunction, MM_HEADER_SIZE, writeMmHeader } from '../../src/wire/mm.js';
import { DeviceStatus, EfiStatus } from '../../src/wire/status.js';
import { functionOnlyRequest, eventRequest, setVariableRequest, getVariableRequest, getNextRequest, queryVariableInfoRequest } from '../../src/client/requests.js';
import { PolicyCommand, COMM_SIGNATURE, COMM_REVISION } from '../../src/policy/mm-handler.js';
import { encodeBasicEntry, LockType } from '../../src/policy/entry.js';
import { Cursor, check, timed, bytesEqual, chunk, concat, traceRequests, sharedFiles, readShared } from './harness.js';

const BUFFER_SIZES = [65536, 4096, -1, 64] as const;
const MAX_REQUESTS = 8;

class FlakyBackend implements StoreBackend {
  saves = 0;
  constructor(private readonly failMask: number) {}
  async save(_nv: readonly Variable[]): Promise<void> {
    const n = this.saves++;
    if (n > 0 && (this.failMask >> ((n - 1) % 3)) & 1) throw new Error('injected save failure');
  }
}

let bases: Promise<[ServiceSnapshot, ServiceSnapshot]> | undefined;

function loadBases(): Promise<[ServiceSnapshot, ServiceSnapshot]> {
  bases ??= (async () => {
    const fresh = await VariableService.create();
    const f = sharedFiles('traces', (n) => n === 'x64-sb-authvars.final.json')[0];
    const vars = f ? decodeQemuJson(readShared(f)) : [];
    const enrolled = await VariableService.create({ variables: vars });
    return [fresh.snapshot(), enrolled.snapshot()];
  })();
  return bases;
}

const storeBytes = (s: VariableService): Uint8Array => encodeQemuJson(s.variables());

/**
 * One request through the service with every per-request invariant checked (also
 * used by the device target for what reaches the service through the registers).
 */
export async function processChecked(svc: VariableService, req: Uint8Array, bufferSize: number): Promise<MmResult> {
  const before = storeBytes(svc);
  const policyBefore = JSON.stringify(svc.snapshot().policy);
  const r = await svc.process(req, bufferSize);
  const messageLength = req.length >= MM_HEADER_SIZE ? Number(new DataView(req.buffer, req.byteOffset, req.length).getBigUint64(16, true)) : -1;
  if (r.reply) {
    check(r.reply.length <= req.length, `reply of ${r.reply.length} bytes for a ${req.length}-byte request`);
    check(r.reply.length === MM_HEADER_SIZE + messageLength, `reply of ${r.reply.length} bytes, MessageLength says ${MM_HEADER_SIZE + messageLength}`);
    check(bytesEqual(r.reply.subarray(0, 24), req.subarray(0, 24)), 'reply changed the MM header');
  }
  const isVariable = guidEqualsAt(req, 0, guidBytes(Guids.smmVariable));
  const fn = isVariable && req.length >= 32 ? new DataView(req.buffer, req.byteOffset).getUint32(24, true) : -1;
  const status = r.reply && r.reply.length >= 40 ? new DataView(r.reply.buffer, r.reply.byteOffset).getBigUint64(32, true) : undefined;
  const wrote = r.deviceStatus === DeviceStatus.SUCCESS && isVariable && fn === VarFunction.SET_VARIABLE && status === EfiStatus.SUCCESS;
  if (!wrote) check(bytesEqual(before, storeBytes(svc)), `store changed by a request that did not succeed as SET_VARIABLE (fn ${fn}, status ${status}, ${r.reason})`);
  // LockVariable (8) and VarCheck property set (9) register policy through the variable protocol.
  const registers = fn === VarFunction.LOCK_VARIABLE || fn === VarFunction.VAR_CHECK_VARIABLE_PROPERTY_SET;
  if (isVariable && !(registers && status === EfiStatus.SUCCESS)) {
    check(JSON.stringify(svc.snapshot().policy) === policyBefore, `variable function ${fn} (status ${status}) changed the policy table`);
  }
  check(svc.usedStorage <= svc.options.size, `storage ${svc.usedStorage} over the ${svc.options.size}-byte limit`);
  return r;
}

export async function fuzz(data: Uint8Array): Promise<void> {
  const [fresh, enrolled] = await loadBases();
  await timed(async () => {
    const c = new Cursor(data);
    const flags = c.u8();
    const backend = flags & 2 ? new FlakyBackend((flags >> 2) & 7) : undefined;
    const svc = await VariableService.restore(flags & 1 ? enrolled : fresh, backend);
    for (let i = 0; i < MAX_REQUESTS && c.left > 0; i++) {
      const req = c.chunk();
      const choice = BUFFER_SIZES[(flags >> 5) & 3]!;
      await processChecked(svc, req, choice === -1 ? req.length : choice);
    }
  });
}

function policyRequest(command: number, params: Uint8Array, messageLength = 20 + params.length): Uint8Array {
  const buf = new Uint8Array(MM_HEADER_SIZE + messageLength);
  writeMmHeader(buf, guidBytes(Guids.varCheckPolicy), messageLength);
  const v = new DataView(buf.buffer);
  v.setUint32(24, COMM_SIGNATURE, true);
  v.setUint32(28, COMM_REVISION, true);
  v.setUint32(32, command, true);
  buf.set(params.subarray(0, messageLength - 20), 44);
  return buf;
}

/** Every request of every trace; every function id; every policy command; a few sequences. */
export function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reqs = traceRequests().filter((r) => r.length <= 0xffff);
  reqs.forEach((r, i) => out.push(concat([Uint8Array.of(i & 0x23), chunk(r)])));
  for (let i = 0; i + 4 <= reqs.length; i += 97) out.push(concat([Uint8Array.of(3), ...reqs.slice(i, i + 4).map(chunk)]));
  for (let fn = 0; fn <= 16; fn++) out.push(concat([Uint8Array.of(fn & 1), chunk(functionOnlyRequest(fn))]));
  for (const e of ['endOfDxe', 'readyToBoot', 'exitBootServices'] as const) out.push(concat([Uint8Array.of(0), chunk(eventRequest(e))]));
  const entry = encodeBasicEntry({ namespace: 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70', name: 'Locked', maxSize: 8, lockType: LockType.LOCK_NOW })!;
  for (const cmd of Object.values(PolicyCommand)) {
    const params = cmd === PolicyCommand.REGISTER ? entry : new Uint8Array(cmd === PolicyCommand.DUMP || cmd === PolicyCommand.GET_INFO ? 16340 : 8);
    out.push(concat([Uint8Array.of(0), chunk(policyRequest(cmd, params))]));
  }
  const g = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70' as const;
  out.push(concat([Uint8Array.of(2),
    chunk(policyRequest(PolicyCommand.REGISTER, entry)),
    chunk(setVariableRequest({ guid: g, name: 'Locked', attributes: 7, data: new Uint8Array(4) })),
    chunk(getVariableRequest({ guid: g, name: 'Locked', dataSize: 64 })),
    chunk(getNextRequest({ guid: g, name: '', bufferSize: 512 })),
    chunk(queryVariableInfoRequest(7)),
  ]));
  return out;
}
