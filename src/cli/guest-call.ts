import { VariableService } from '../service/variable-service.js';
import { loadStoreFile, saveStoreFile } from '../persist/store-file.js';
import { pgTarget } from './pg-target.js';
import { assertStoreFree } from '../persist/store-lock.js';
import { eventRequest, replyStatus, setVariableRequest } from '../client/requests.js';
import { Guids } from '../wire/guid.js';
import { Attr } from '../wire/attributes.js';
import { statusName, EfiStatus, DeviceStatus } from '../wire/status.js';
import { UsageError, type DeviceOptions } from './args.js';
import { Exit, out, err } from './io.js';

export type CallPhase = 'boot' | 'runtime';

export function parsePhase(v: string | undefined): CallPhase {
  if (v === undefined || v === 'boot') return 'boot';
  if (v === 'runtime') return 'runtime';
  throw new UsageError(`--phase is boot or runtime, got ${JSON.stringify(v)}`);
}

/**
 * Run one request through the full guest path on a store file: load it, start a
 * service on it (machine start: auth initialisation), reach the phase, send the
 * request exactly as a guest would, and write the store back — atomically, in
 * its own format — only if the answer is EFI_SUCCESS. Prints the status first.
 */
export interface CallOptions {
  phase: CallPhase;
  /**
   * Enter CustomMode first, in the same boot, as a firmware setup UI does with
   * physical presence (UEFI 2.10 §32.3.4.2): key writes then need no signature.
   * CustomMode returns to 0 at the next machine start (spec §4.5).
   */
  customMode?: boolean;
}

export async function guestCall(storePath: string, request: Uint8Array, call: CallOptions, dev: DeviceOptions): Promise<number> {
  const phase = call.phase;
  const pg = pgTarget(storePath);
  if (pg) throw new UsageError(`${pg.shown}: set and delete work on store files; write a PostgreSQL VM through the management API of the daemon serving it`);
  // A daemon serving this store would overwrite our change with its next save.
  await assertStoreFree(storePath);
  const store = await loadStoreFile(storePath);
  if (store.readOnly) throw new UsageError(`${storePath} is an efivarfs directory: read-only here (convert it to a store file first)`);
  const svc = await VariableService.create({
    variables: store.variables,
    options: dev.service,
  });
  if (call.customMode) {
    const r = await svc.process(setVariableRequest({ name: 'CustomMode', guid: Guids.customModeEnable, attributes: Attr.NV | Attr.BS, data: Uint8Array.of(1) }), dev.bufferSize);
    if (!r.reply || replyStatus(r.reply) !== EfiStatus.SUCCESS) {
      err(`uefi-vars: ${storePath}: cannot enter CustomMode (${r.reply ? statusName(replyStatus(r.reply)) : 'device error'})`);
      out(r.reply ? statusName(replyStatus(r.reply)) : 'EFI_DEVICE_ERROR');
      return Exit.EFI_ERROR;
    }
  }
  if (phase === 'runtime') await svc.process(eventRequest('exitBootServices'), dev.bufferSize);
  const r = await svc.process(request, dev.bufferSize);
  let status: bigint;
  if (r.deviceStatus === DeviceStatus.ERR_BAD_BUFFER_SIZE) status = EfiStatus.BAD_BUFFER_SIZE; // edk2's mapping of 0x12
  else if (r.deviceStatus !== DeviceStatus.SUCCESS || !r.reply) status = EfiStatus.DEVICE_ERROR;
  else status = replyStatus(r.reply);
  out(statusName(status));
  if (status !== EfiStatus.SUCCESS) {
    if (r.reason) err(`uefi-vars: ${storePath}: refused (${r.reason}); store unchanged`);
    return Exit.EFI_ERROR;
  }
  await saveStoreFile(storePath, store.format, svc.nonVolatileVariables(), store.layout, { gzip: store.gzip ?? false });
  return Exit.OK;
}
