import { Guids } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';
import type { Variable } from '../store/variable.js';
import { storageInfo, storageUsed, type StorageInfo } from '../store/quota.js';
import { platformMode, type PlatformMode, type SecureBootState } from '../auth/secure-boot.js';
import { DEFAULT_OPTIONS } from '../service/options.js';
import { decodeKeyDatabase, certificatesOf, type CertificateFacts, type KeyDatabase } from './esl.js';
import { dbxFacts, type DbxFacts } from './dbx.js';
import { readiness2023, type Readiness } from './readiness.js';
import { bootFacts, type BootFacts } from './boot.js';

/**
 * One summary of a store for people: Secure Boot state and keys, 2023
 * readiness, dbx revision, boot entries, SbatLevel and storage. Pure (WebCrypto
 * for digests): `uefi-vars print`, the management API and the inspector page
 * all show this, so they cannot disagree.
 */
export interface StoreSummary {
  asOf: string;
  secureBoot: SecureBootFacts;
  pk: KeyDatabase;
  kek: KeyDatabase;
  db: KeyDatabase;
  dbx: KeyDatabase & { facts: DbxFacts };
  /** PK → KEK → db, the certificates of each. */
  chain: { pk: CertificateFacts[]; kek: CertificateFacts[]; db: CertificateFacts[] };
  readiness: Readiness;
  boot: BootFacts;
  /** SbatLevel (shim's revocation level), its lines; absent when the store has none. */
  sbatLevel?: string[];
  storage: StorageInfo & { used: number; percent: number; variables: number };
}

export interface SecureBootFacts {
  /** Setup Mode without a PK, User Mode with one (UEFI 2.10 §32.3); audit/deployed from the service when known. */
  mode: PlatformMode;
  setupMode: boolean;
  /** The SecureBoot variable when stored or known from the service; else whether PK is enrolled with SecureBootEnable on. */
  secureBoot: boolean;
  auditMode: boolean;
  deployedMode: boolean;
  customMode: boolean;
  /** SecureBootEnable's byte (edk2's user switch), null when absent. */
  secureBootEnable: number | null;
}

/** What a live service knows better than the stored variables (volatile mode variables). */
export type LiveSecureBoot = SecureBootState;

export interface SummaryOptions {
  /** Certificate expiry is judged as of this date (default now). */
  asOf?: Date;
  /** Storage pool size in bytes (QEMU `size`; default the service's). */
  size?: number;
  live?: LiveSecureBoot;
}

export async function summarizeStore(vars: readonly Variable[], opts: SummaryOptions = {}): Promise<StoreSummary> {
  const asOf = opts.asOf ?? new Date();
  const find = (guid: string, name: string): Variable | undefined =>
    vars.find((v) => v.guid === guid && v.data.length > 0 && nameKey(v.name) === name);
  const [pk, kek, db, dbx] = await Promise.all([
    decodeKeyDatabase(find(Guids.globalVariable, 'PK')?.data, asOf),
    decodeKeyDatabase(find(Guids.globalVariable, 'KEK')?.data, asOf),
    decodeKeyDatabase(find(Guids.imageSecurityDatabase, 'db')?.data, asOf),
    decodeKeyDatabase(find(Guids.imageSecurityDatabase, 'dbx')?.data, asOf),
  ]);
  const size = opts.size ?? DEFAULT_OPTIONS.size;
  const used = storageUsed(vars);
  const info = storageInfo(used, size);
  const sbat = find(Guids.shimLock, 'SbatLevel');
  const summary: StoreSummary = {
    asOf: asOf.toISOString(),
    secureBoot: secureBootFacts(find, pk.present, opts.live),
    pk, kek, db, dbx: { ...dbx, facts: dbxFacts(dbx, certificatesOf(dbx).map((c) => c.sha1)) },
    chain: { pk: certificatesOf(pk), kek: certificatesOf(kek), db: certificatesOf(db) },
    readiness: readiness2023(kek, db),
    boot: bootFacts(vars),
    storage: { ...info, used, percent: size > 0 ? Math.round((used / size) * 1000) / 10 : 100, variables: vars.length },
  };
  if (sbat) summary.sbatLevel = latin1(sbat.data).split(/\r?\n/).filter((l) => l !== '');
  return summary;
}

type Find = (guid: string, name: string) => Variable | undefined;

function secureBootFacts(find: Find, pkPresent: boolean, live: LiveSecureBoot | undefined): SecureBootFacts {
  const byte = (guid: string, name: string): number | undefined => find(guid, name)?.data[0];
  const enable = byte(Guids.secureBootEnableDisable, 'SecureBootEnable');
  const customMode = byte(Guids.customModeEnable, 'CustomMode') === 1;
  const stored = (name: string): boolean | undefined => { const b = byte(Guids.globalVariable, name); return b === undefined ? undefined : b === 1; };
  const setupMode = live?.setupMode ?? stored('SetupMode') ?? !pkPresent;
  const auditMode = live?.auditMode ?? stored('AuditMode') ?? false;
  const deployedMode = live?.deployedMode ?? stored('DeployedMode') ?? false;
  // edk2 (and QEMU) turn SecureBoot on at boot when PK is enrolled and SecureBootEnable is not off (spec §4.5).
  const secureBoot = live?.secureBoot ?? stored('SecureBoot') ?? (pkPresent && enable !== 0);
  const mode = platformMode({ setupMode, secureBoot, auditMode, deployedMode });
  return { mode, setupMode, secureBoot, auditMode, deployedMode, customMode, secureBootEnable: enable ?? null };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length && b[i] !== 0; i++) s += String.fromCharCode(b[i]!);
  return s;
}
