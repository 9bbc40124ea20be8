import { VariableService } from '../service/variable-service.js';
import { queryVariableInfoRequest, replyStatus, setVariableRequest } from '../client/requests.js';
import { decodeVariableMessage } from '../wire/mm.js';
import { Attr } from '../wire/attributes.js';
import { bytesEqual, concatBytes } from '../wire/hex.js';
import { nameKey } from '../wire/ucs2.js';
import { DeviceStatus, EfiStatus, statusName } from '../wire/status.js';
import type { Variable } from '../store/variable.js';
import { variableCost } from '../store/quota.js';
import { parseAuth2 } from '../auth/descriptor.js';
import { filterAppend } from '../auth/siglist-rules.js';
import { targetName, type UpdateTarget } from '../auth/auth2-build.js';
import type { DeviceOptions } from './args.js';
import type { CliAudit } from './audit-append.js';

/**
 * One signed update applied to one store's variables through the guest path
 * (`uefi-vars apply`): a fresh service on the store (machine start), a
 * QueryVariableInfo first, then the SetVariable exactly as a guest sends it.
 * Nothing here touches a file: the caller writes `variables` back when the
 * outcome is `applied`.
 */
export type Outcome = 'applied' | 'already-present' | 'refused' | 'would-not-fit' | 'error';

export interface StoreVerdict {
  outcome: Outcome;
  /** The EFI status the guest path answered (absent when it was never asked). */
  status?: string;
  /** The service's named reason for a refusal, or what went wrong. */
  reason?: string;
  /** QueryVariableInfo's RemainingVariableStorageSize before the write, and what the write needs. */
  remaining?: number;
  needed?: number;
  /** The NV variables to write back (applied only). */
  variables?: Variable[];
}

export interface PreparedUpdate {
  target: UpdateTarget;
  /** The SetVariable Data (EFI_VARIABLE_AUTHENTICATION_2 ‖ payload). */
  data: Uint8Array;
  /** The whole MM request a guest would send. */
  request: Uint8Array;
  payload: Uint8Array;
}

export function prepareUpdate(target: UpdateTarget, data: Uint8Array): PreparedUpdate {
  const d = parseAuth2(data);
  if (typeof d === 'string') throw new Error(`not an EFI_VARIABLE_AUTHENTICATION_2 payload (${d})`);
  return {
    target, data, payload: d.payload,
    request: setVariableRequest({ name: target.name, guid: target.guid, attributes: target.attributes, data }),
  };
}

function find(vars: readonly Variable[], u: UpdateTarget): Variable | undefined {
  return vars.find((v) => v.guid === u.guid && nameKey(v.name) === u.name);
}

/**
 * Storage the write would add (spec §3.8 accounting, store/quota.ts), with the
 * value the service will store: on APPEND_WRITE the old value plus the entries
 * edk2's duplicate filter keeps (spec §4.7, auth/siglist-rules.ts).
 */
function growth(old: Variable | undefined, u: PreparedUpdate, remaining: number): number {
  const name = targetName(u.target);
  let data = u.payload;
  if (old && (u.target.attributes & Attr.AP)) {
    // Appending everything is the most it can need: when even that fits, the exact
    // figure (the duplicate filter over both databases) is not worth computing.
    const most = u.payload.length;
    if (most <= remaining) return most;
    const extra = filterAppend(old.data, u.payload);
    data = extra.length ? concatBytes([old.data, extra]) : old.data;
  }
  const next = data.length ? variableCost({ name, data }) : 0;
  return next - (old ? variableCost(old) : 0);
}


/** `audit` collects the audit record of the SetVariable (docs/audit.md); the caller appends it once the store's fate is known. */
export async function applyToVariables(variables: readonly Variable[], u: PreparedUpdate, dev: DeviceOptions, audit?: CliAudit): Promise<StoreVerdict> {
  const svc = await VariableService.create({ variables, options: dev.service });
  audit?.watch(svc);
  const old = find(svc.variables(), u.target);
  // QueryVariableInfo as the guest would ask it: the same numbers the service's
  // OUT_OF_RESOURCES check uses (used storage against `size`).
  const q = await svc.process(queryVariableInfoRequest(u.target.attributes & ~Attr.AP), dev.bufferSize);
  if (!q.reply || replyStatus(q.reply) !== EfiStatus.SUCCESS) {
    return { outcome: 'error', reason: `QueryVariableInfo failed (${q.reply ? statusName(replyStatus(q.reply)) : 'device error'})` };
  }
  const info = decodeVariableMessage(q.reply)?.payload;
  if (info?.kind !== 'query-variable-info') return { outcome: 'error', reason: 'QueryVariableInfo reply without its payload' };
  const remaining = Number(info.remainingStorageSize);
  const needed = growth(old, u, remaining);
  if (needed > 0 && needed > remaining) {
    return { outcome: 'would-not-fit', status: statusName(EfiStatus.OUT_OF_RESOURCES), reason: `needs ${needed} more bytes, ${remaining} remain`, remaining, needed };
  }
  const r = await svc.process(u.request, dev.bufferSize);
  await svc.flushAudit();
  let status: bigint;
  if (r.deviceStatus === DeviceStatus.ERR_BAD_BUFFER_SIZE) status = EfiStatus.BAD_BUFFER_SIZE;
  else if (r.deviceStatus !== DeviceStatus.SUCCESS || !r.reply) status = EfiStatus.DEVICE_ERROR;
  else status = replyStatus(r.reply);
  const name = statusName(status);
  if (status === EfiStatus.OUT_OF_RESOURCES) return { outcome: 'would-not-fit', status: name, reason: r.reason ?? 'out of storage', remaining, needed };
  if (status !== EfiStatus.SUCCESS) return { outcome: 'refused', status: name, ...(r.reason ? { reason: r.reason } : {}), remaining, needed };
  const now = find(svc.variables(), u.target);
  const same = old && now && old.attributes === now.attributes && bytesEqual(old.data, now.data) && bytesEqual(old.time, now.time);
  if (same) return { outcome: 'already-present', status: name, remaining, needed: 0 };
  const used = (now ? variableCost(now) : 0) - (old ? variableCost(old) : 0);
  return { outcome: 'applied', status: name, remaining, needed: used, variables: svc.nonVolatileVariables() };
}
