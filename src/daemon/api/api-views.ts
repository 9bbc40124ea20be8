import { nameKey } from '../../wire/ucs2.js';
import { toHex } from '../../wire/hex.js';
import { formatAttributes } from '../../wire/attributes.js';
import { isoTime } from '../../wire/time.js';
import type { Variable } from '../../store/variable.js';
import { platformMode } from '../../auth/secure-boot.js';
import { summarizeStore, type StoreSummary, type SecureBootFacts } from '../../inspect/index.js';
import type { VmEntry, VmSummary } from '../server/registry.js';

/** JSON shapes of the management API (docs/protocol.md §8). Pure: a VM in, plain objects out. */

export interface VariableListItem {
  name: string;
  guid: string;
  attributes: number;
  attributesText: string;
  size: number;
}

export function variableListItem(v: Variable): VariableListItem {
  return { name: nameKey(v.name), guid: v.guid, attributes: v.attributes, attributesText: formatAttributes(v.attributes), size: v.data.length };
}

export function variableDetail(v: Variable): VariableListItem & { dataHex: string; timeHex: string; time: string | null; digestHex?: string } {
  return {
    ...variableListItem(v),
    dataHex: toHex(v.data),
    timeHex: toHex(v.time),
    time: isoTime(v.time),
    ...(v.digest ? { digestHex: toHex(v.digest) } : {}),
  };
}

export function vmView(s: VmSummary, vm: VmEntry | undefined): Record<string, unknown> {
  const owner = s.owner !== undefined ? { owner: s.owner } : {};
  if (!vm) return { id: s.id, loaded: false, store: s.storePath, ...owner };
  return {
    id: vm.id, loaded: vm.loaded, store: vm.storePath, ...owner, connections: vm.connections,
    variables: vm.service.variables().length,
    usedStorage: vm.service.usedStorage, maxStorage: vm.service.options.size,
    phase: vm.service.phase,
  };
}

/**
 * The VM's Secure Boot state and keys: the store summary (src/inspect, the same
 * as `uefi-vars print`), with the mode from the service's internal state
 * (decided at the last auth initialisation, spec §4.5 — a host write of PK takes
 * effect at the next device reset, as a QEMU jsonfile edit would).
 */
export async function secureBootView(vm: VmEntry): Promise<Omit<StoreSummary, 'secureBoot'> & SecureBootFacts> {
  const sb = vm.service.secureBoot;
  const { secureBoot, ...rest } = await summarizeStore(vm.service.variables(), { size: vm.service.options.size, live: sb });
  return { ...rest, ...secureBoot, mode: platformMode(sb) };
}

/** One row of the inspector's fleet table (docs/inspector.md). */
export interface FleetRow {
  id: string; loaded: boolean; mode: string | null; ready: boolean; missing: string[]; dbxRevision: string | null;
  storagePercent: number; used: number; maxStorage: number; lastWrite: string | null; owner: string | null;
}

/** `lastWrite`: when the store was last written (the file's mtime), null when unknown. */
export async function fleetRow(s: VmSummary, vm: VmEntry | undefined, lastWrite: string | null): Promise<FleetRow> {
  const base = { id: s.id, owner: s.owner ?? null, lastWrite };
  if (!vm) return { ...base, loaded: false, mode: null, ready: false, missing: [], dbxRevision: null, storagePercent: 0, used: 0, maxStorage: 0 };
  const v = await secureBootView(vm);
  return {
    ...base, loaded: vm.loaded, mode: v.mode, ready: v.readiness.ready, missing: v.readiness.missing,
    dbxRevision: v.dbx.present ? v.dbx.facts.revision ?? 'older than any published' : null,
    storagePercent: v.storage.percent, used: v.storage.used, maxStorage: v.storage.maxStorage,
  };
}
