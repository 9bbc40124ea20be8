import { Guids, type GuidText } from '../wire/guid.js';
import type { Variable } from '../store/variable.js';
import type { VariableStore } from '../store/store.js';
import { encodeName, nameKey } from '../wire/ucs2.js';

/** The Secure Boot key databases (UEFI 2.10 §32.3, §32.6; issue 3 adds dbt, dbr like edk2). */
export type SecureBootVariable = 'PK' | 'KEK' | 'db' | 'dbx' | 'dbt' | 'dbr';

export function secureBootVariable(guid: GuidText, name: Uint8Array): SecureBootVariable | undefined {
  const n = nameKey(name);
  if (guid === Guids.globalVariable) return n === 'PK' || n === 'KEK' ? n : undefined;
  if (guid === Guids.imageSecurityDatabase) {
    return n === 'db' || n === 'dbx' || n === 'dbt' || n === 'dbr' ? n : undefined;
  }
  return undefined;
}

/**
 * Variables only the service writes (spec §3.4 [BUG]: QEMU lets the guest
 * overwrite them, and then trusts the value; edk2 VarCheckUefiLib/AuthVariableLib
 * make them read-only). A guest SetVariable on any of them is EFI_WRITE_PROTECTED.
 */
const READ_ONLY_GLOBALS = new Set(['SetupMode', 'SecureBoot', 'SignatureSupport', 'VendorKeys', 'VendorKeysNv', 'AuditMode', 'DeployedMode']);

export function isReadOnlyVariable(guid: GuidText, name: Uint8Array): boolean {
  return guid === Guids.globalVariable && READ_ONLY_GLOBALS.has(nameKey(name));
}

export const Names = {
  PK: encodeName('PK'),
  KEK: encodeName('KEK'),
  SetupMode: encodeName('SetupMode'),
  SignatureSupport: encodeName('SignatureSupport'),
  SecureBootEnable: encodeName('SecureBootEnable'),
  SecureBoot: encodeName('SecureBoot'),
  CustomMode: encodeName('CustomMode'),
  VendorKeysNv: encodeName('VendorKeysNv'),
  VendorKeys: encodeName('VendorKeys'),
} as const;

/**
 * Internal Secure Boot state, computed at each auth initialisation (spec §4.5)
 * and never read back from a variable the guest could write.
 */
export interface SecureBootState {
  /** No PK at the last initialisation (SetupMode = 1). Stays until the next init, as in QEMU (spec §3.3). */
  setupMode: boolean;
  /** Effective SecureBootEnable and SecureBoot as published. */
  secureBoot: boolean;
  /** UEFI 2.5+ Audit/Deployed modes: kept internally; QEMU and OVMF never publish them (spec §4.5). */
  auditMode: boolean;
  deployedMode: boolean;
}

export function customModeOn(store: VariableStore): boolean {
  const v = store.get(Guids.customModeEnable, Names.CustomMode);
  return v !== undefined && v.data.length >= 1 && v.data[0] === 1;
}

export type PlatformMode = 'setup' | 'user' | 'audit' | 'deployed';

export function platformMode(s: SecureBootState): PlatformMode {
  if (s.auditMode) return 'audit';
  if (s.setupMode) return 'setup';
  if (s.deployedMode) return 'deployed';
  return 'user';
}

export function isVariable(v: Variable | undefined, guid: GuidText, name: Uint8Array): boolean {
  return v !== undefined && v.guid === guid && nameKey(v.name) === nameKey(name);
}
