import { VariableService } from '../service/variable-service.js';
import { parseStoreTarget, requireFile, openTarget } from './store-target.js';
import { eventRequest, replyStatus, setVariableRequest } from '../client/requests.js';
import { Guids } from '../wire/guid.js';
import { Attr, formatAttributes } from '../wire/attributes.js';
import { encodeName } from '../wire/ucs2.js';
import { statusName, EfiStatus, DeviceStatus } from '../wire/status.js';
import { VariableStore } from '../store/store.js';
import type { Variable } from '../store/variable.js';
import { UsageError, type DeviceOptions } from './args.js';
import { Exit, out, err } from './io.js';
import { CliAudit, appendToTrail, storeVmName } from './audit-append.js';

export type CallPhase = 'boot' | 'runtime';

export function parsePhase(v: string | undefined): CallPhase {
  if (v === undefined || v === 'boot') return 'boot';
  if (v === 'runtime') return 'runtime';
  throw new UsageError(`--phase is boot or runtime, got ${JSON.stringify(v)}`);
}

export interface CallOptions {
  phase: CallPhase;
  /**
   * Enter CustomMode first, in the same boot, as a firmware setup UI does with
   * physical presence (UEFI 2.10 §32.3.4.2): key writes then need no signature.
   * CustomMode returns to 0 at the next machine start (spec §4.5).
   */
  customMode?: boolean;
  /** A missing or empty store file starts as an empty store (loadStoreFile `create`). */
  create?: boolean;
  json?: boolean;
}

/** What set or delete asks for; the request is built once the store (and so the old variable) is known. */
export interface GuestWrite {
  op: 'set' | 'delete';
  name: string;
  guid: string;
  /** The SetVariable request for the variable as stored now (undefined: none). */
  request(old: Variable | undefined): { attributes: number; data: Uint8Array };
}

/** `--json` report of set and delete (docs/cli.md "JSON output"). */
export interface WriteReport {
  command: 'set' | 'delete';
  status: string;
  store: string;
  format: string;
  name: string;
  guid: string;
  attributes: number;
  attributesText: string;
  size: number;
  /** The variable was there before the call. */
  existed: boolean;
  /** The store file was rewritten. */
  written: boolean;
  /** The service's named reason for a refusal, or null. */
  reason: string | null;
}

/**
 * Run one write through the full guest path on a store file: load it, start a
 * service on it (machine start: auth initialisation), reach the phase, send the
 * request exactly as a guest would, and write the store back — atomically, in
 * its own format — only if the answer is EFI_SUCCESS. Prints the status first
 * (or, with --json, one report object).
 */
export async function guestCall(storePath: string, write: GuestWrite, call: CallOptions, dev: DeviceOptions): Promise<number> {
  const target = requireFile(parseStoreTarget(storePath), 'set and delete work on store files; write a PostgreSQL VM with `uefi-vars api set|delete` on the daemon serving it');
  // A daemon serving this store would overwrite our change with its next save: openTarget refuses it.
  const store = await openTarget(target, { create: call.create ?? false });
  if (store.readOnly) throw new UsageError(`${storePath} is an efivarfs directory: read-only here (convert it to a store file first)`);
  const svc = await VariableService.create({ variables: store.variables, options: dev.service });
  // Every Secure Boot change tried (CustomMode included) goes to the store's audit trail, written or not.
  const audit = new CliAudit(write.op).watch(svc);
  const trail = async (written: boolean): Promise<void> => { await appendToTrail(target.path, await audit.entries(svc, storeVmName(target.path), written)); };
  const report = (status: bigint, args: { attributes: number; data: Uint8Array }, existed: boolean, written: boolean, reason?: string): WriteReport => ({
    command: write.op, status: statusName(status), store: storePath, format: store.format, name: write.name, guid: write.guid,
    attributes: args.attributes, attributesText: formatAttributes(args.attributes), size: args.data.length,
    existed, written, reason: reason ?? null,
  });
  if (call.customMode) {
    const r = await svc.process(setVariableRequest({ name: 'CustomMode', guid: Guids.customModeEnable, attributes: Attr.NV | Attr.BS, data: Uint8Array.of(1) }), dev.bufferSize);
    const status = r.reply ? replyStatus(r.reply) : EfiStatus.DEVICE_ERROR;
    if (status !== EfiStatus.SUCCESS) {
      err(`uefi-vars: ${storePath}: cannot enter CustomMode (${statusName(status)})`);
      if (call.json) out(JSON.stringify(report(status, { attributes: 0, data: new Uint8Array(0) }, false, false, r.reason ?? 'custom-mode-refused')));
      else out(statusName(status));
      await trail(false);
      return Exit.EFI_ERROR;
    }
  }
  if (call.phase === 'runtime') await svc.process(eventRequest('exitBootServices'), dev.bufferSize);
  const old = new VariableStore(svc.variables()).get(write.guid, encodeName(write.name));
  const args = write.request(old);
  const r = await svc.process(setVariableRequest({ name: write.name, guid: write.guid, ...args }), dev.bufferSize);
  let status: bigint;
  if (r.deviceStatus === DeviceStatus.ERR_BAD_BUFFER_SIZE) status = EfiStatus.BAD_BUFFER_SIZE; // edk2's mapping of 0x12
  else if (r.deviceStatus !== DeviceStatus.SUCCESS || !r.reply) status = EfiStatus.DEVICE_ERROR;
  else status = replyStatus(r.reply);
  const ok = status === EfiStatus.SUCCESS;
  if (ok) {
    try { await store.save(svc.nonVolatileVariables()); } catch (e) {
      await trail(false);
      throw e;
    }
  }
  await trail(ok);
  if (call.json) out(JSON.stringify(report(status, args, old !== undefined, ok, ok ? undefined : r.reason)));
  else out(statusName(status));
  if (!ok) {
    if (r.reason) err(`uefi-vars: ${storePath}: refused (${r.reason}); store unchanged`);
    return Exit.EFI_ERROR;
  }
  // QEMU answers EFI_SUCCESS for a delete of nothing (spec §2.5.3 step 7); say so, apart from the status.
  if (write.op === 'delete' && old === undefined) err(`uefi-vars: ${storePath}: ${write.name} ${write.guid}: (no such variable)`);
  return Exit.OK;
}
