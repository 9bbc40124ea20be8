import { Guids } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';
import { toHex } from '../wire/hex.js';
import { formatAttributes } from '../wire/attributes.js';
import { isoTime } from '../wire/time.js';
import { parseSignatureLists, signatureTypeName, SignatureTypes } from '../wire/siglist.js';
import type { Variable } from '../store/variable.js';
import { platformMode } from '../auth/secure-boot.js';
import { certificateSubject } from '../auth/x509.js';
import type { VmEntry, VmSummary } from './registry.js';

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

interface KeyDatabase {
  present: boolean;
  /** Entries by signature type name (EFI_CERT_X509, EFI_CERT_SHA256, …). */
  entries: Record<string, number>;
  /** Subjects of the X.509 entries, in order. */
  subjects: string[];
  malformed?: true;
}

function keyDatabase(v: Variable | undefined): KeyDatabase {
  if (!v) return { present: false, entries: {}, subjects: [] };
  const lists = parseSignatureLists(v.data);
  if (!lists) return { present: true, entries: {}, subjects: [], malformed: true };
  const entries: Record<string, number> = {};
  const subjects: string[] = [];
  for (const l of lists) {
    const t = signatureTypeName(l.type);
    entries[t] = (entries[t] ?? 0) + l.entries.length;
    if (l.type === SignatureTypes.x509) for (const e of l.entries) subjects.push(certificateSubject(e.data) ?? '(certificate does not parse)');
  }
  return { present: true, entries, subjects };
}

/**
 * The VM's Secure Boot state: the service's internal mode (decided at the last
 * auth initialisation, spec §4.5 — a host write of PK takes effect at the next
 * device reset, as a QEMU jsonfile edit would) and what the key databases hold.
 */
export function secureBootView(vm: VmEntry): Record<string, unknown> {
  const sb = vm.service.secureBoot;
  const vars = vm.service.variables();
  const find = (guid: string, name: string): Variable | undefined =>
    vars.find((v) => v.guid === guid && nameKey(v.name) === name && v.data.length > 0);
  const custom = find(Guids.customModeEnable, 'CustomMode');
  const enable = find(Guids.secureBootEnableDisable, 'SecureBootEnable');
  return {
    mode: platformMode(sb),
    setupMode: sb.setupMode,
    secureBoot: sb.secureBoot,
    auditMode: sb.auditMode,
    deployedMode: sb.deployedMode,
    customMode: custom !== undefined && custom.data[0] === 1,
    secureBootEnable: enable ? enable.data[0] : null,
    pk: keyDatabase(find(Guids.globalVariable, 'PK')),
    kek: keyDatabase(find(Guids.globalVariable, 'KEK')),
    db: keyDatabase(find(Guids.imageSecurityDatabase, 'db')),
    dbx: keyDatabase(find(Guids.imageSecurityDatabase, 'dbx')),
  };
}
