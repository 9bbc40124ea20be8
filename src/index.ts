/**
 * uefi-vars library entry point. Everything exported here is pure (no Node
 * I/O) and runs in any JS VMM or a browser.
 */
export { VariableService, type ServiceInit, type ServiceSnapshot, type StoreBackend } from './service/variable-service.js';
export { type ServiceOptions, DEFAULT_OPTIONS } from './service/options.js';
export type { MmHandler, MmResult } from './service/mm-handler.js';
export { replayTrace, type ReplayReport, type ReplayDifference, type ReplayTarget } from './replay/replay.js';
export { parsePcap, encodePcap, type PcapRecord } from './wire/pcap.js';
export { type Variable, makeVariable } from './store/variable.js';
export {
  decodeStore, detectFormat, codecFor, formatFromExtension, STORE_CODECS, type StoreFormat, type DecodedStore,
} from './persist/formats.js';
export type { StoreCodec } from './persist/codec.js';
export { StoreFormatError } from './persist/format-error.js';
export { EfiStatus, statusName, DeviceStatus } from './wire/status.js';
export { Guids } from './wire/guid.js';
export * as requests from './client/requests.js';

import { VariableService } from './service/variable-service.js';
import type { ServiceOptions } from './service/options.js';
import { decodeStore } from './persist/formats.js';

/**
 * Build a service from a store file's bytes in any supported format (QEMU JSON,
 * edk2 flash, AWS), detected from content — so other programs can replay
 * traffic against a store without the CLI.
 */
export async function serviceFromStoreBytes(bytes: Uint8Array, options: Partial<ServiceOptions> = {}): Promise<VariableService> {
  const { variables } = await decodeStore(bytes);
  return VariableService.create({ variables, options });
}
