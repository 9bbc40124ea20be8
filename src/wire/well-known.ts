import { Guids, type GuidText } from './guid.js';

/**
 * The vendor GUID of variables whose name alone identifies them, so that a
 * tool may take `PK` or `Boot0001` without a GUID. Names are from UEFI 2.10
 * §3.3 (globally defined variables, EFI_GLOBAL_VARIABLE), §32.6.1 (the image
 * security databases db/dbx/dbt/dbr, EFI_IMAGE_SECURITY_DATABASE_GUID), edk2's
 * SecureBootConfigDxe/AuthVariableLib (SecureBootEnable, CustomMode,
 * VendorKeysNv, certdb) and shim (MokList…, SbatLevel). Pure data.
 */
const EXACT: Readonly<Record<string, GuidText>> = {
  // UEFI 2.10 §3.3, Table 3.1
  PK: Guids.globalVariable, KEK: Guids.globalVariable, SecureBoot: Guids.globalVariable,
  SetupMode: Guids.globalVariable, AuditMode: Guids.globalVariable, DeployedMode: Guids.globalVariable,
  BootOrder: Guids.globalVariable, BootNext: Guids.globalVariable, BootCurrent: Guids.globalVariable,
  BootOptionSupport: Guids.globalVariable, DriverOrder: Guids.globalVariable, SysPrepOrder: Guids.globalVariable,
  Timeout: Guids.globalVariable, Lang: Guids.globalVariable, LangCodes: Guids.globalVariable,
  PlatformLang: Guids.globalVariable, PlatformLangCodes: Guids.globalVariable,
  ConIn: Guids.globalVariable, ConOut: Guids.globalVariable, ErrOut: Guids.globalVariable,
  ConInDev: Guids.globalVariable, ConOutDev: Guids.globalVariable, ErrOutDev: Guids.globalVariable,
  OsIndications: Guids.globalVariable, OsIndicationsSupported: Guids.globalVariable,
  OsRecoveryOrder: Guids.globalVariable, SignatureSupport: Guids.globalVariable, VendorKeys: Guids.globalVariable,
  PKDefault: Guids.globalVariable, KEKDefault: Guids.globalVariable, dbDefault: Guids.globalVariable,
  dbxDefault: Guids.globalVariable, dbtDefault: Guids.globalVariable, dbrDefault: Guids.globalVariable,
  HwErrRecSupport: Guids.globalVariable, devAuthBoot: Guids.globalVariable, CapsuleMax: Guids.globalVariable,
  CapsuleLast: Guids.globalVariable,
  // UEFI 2.10 §32.6.1
  db: Guids.imageSecurityDatabase, dbx: Guids.imageSecurityDatabase,
  dbt: Guids.imageSecurityDatabase, dbr: Guids.imageSecurityDatabase,
  // edk2
  SecureBootEnable: Guids.secureBootEnableDisable, CustomMode: Guids.customModeEnable,
  VendorKeysNv: Guids.vendorKeysNv, certdb: Guids.certDb, certdbv: Guids.certDb,
  // shim
  MokList: Guids.shimLock, MokListRT: Guids.shimLock, MokListX: Guids.shimLock, MokListXRT: Guids.shimLock,
  MokSBState: Guids.shimLock, MokSBStateRT: Guids.shimLock, MokIgnoreDB: Guids.shimLock,
  SbatLevel: Guids.shimLock, SbatLevelRT: Guids.shimLock, MokListTrusted: Guids.shimLock,
};

/** Numbered globally defined variables (UEFI 2.10 §3.3): a prefix and four upper-case hex digits. */
const NUMBERED: ReadonlyArray<[RegExp, GuidText]> = [
  [/^(Boot|Driver|SysPrep|Key|PlatformRecovery|OsRecovery)[0-9A-F]{4}$/, Guids.globalVariable],
  [/^HwErrRec[0-9A-F]{4}$/, Guids.hardwareErrorVariable],
];

/** The GUID of a well-known variable name, or undefined when the name needs a GUID. Case matters, as in UEFI. */
export function wellKnownGuid(name: string): GuidText | undefined {
  if (Object.prototype.hasOwnProperty.call(EXACT, name)) return EXACT[name];
  return NUMBERED.find(([re]) => re.test(name))?.[1];
}

/** Every exact well-known name (for help text and completion). */
export const WELL_KNOWN_NAMES: readonly string[] = Object.keys(EXACT);
