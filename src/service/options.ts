/**
 * Service options. The first three mirror QEMU's device properties so a trace
 * recorded with them replays exactly (spec §1.1); the rest switch contested
 * rules (docs/deviations.md names the rule behind each default).
 */
export interface ServiceOptions {
  /** QEMU `size`: total variable storage, accounted as spec §3.8. */
  size: number;
  /** QEMU `force-secure-boot` (spec §4.6). */
  forceSecureBoot: boolean;
  /** QEMU `disable-custom-mode` (spec §4.6). */
  disableCustomMode: boolean;
  /**
   * PK written in Setup Mode must carry a valid self-signature (QEMU, default) or
   * may be unsigned (edk2 with PcdRequireSelfSignedPk = FALSE). Spec §4.3.
   */
  requireSelfSignedPk: boolean;
  /** db/dbx/dbt/dbr may also be signed by PK (UEFI 2.10 §8.2.2, edk2) — QEMU: KEK only (default). Spec §4.3. */
  allowPkSignedDb: boolean;
  /** Accept a KEK APPEND signed by a KEK entry (edk2 proposal 12159). Default off. */
  allowKekSignedKekAppend: boolean;
  /** Answer SMM functions 7, 9, 10 as edk2 does (default: EFI_UNSUPPORTED like QEMU). */
  edk2VarCheck: boolean;
}

export const DEFAULT_OPTIONS: Readonly<ServiceOptions> = Object.freeze({
  size: 262144,
  forceSecureBoot: false,
  disableCustomMode: false,
  requireSelfSignedPk: true,
  allowPkSignedDb: false,
  allowKekSignedKekAppend: false,
  edk2VarCheck: false,
});

/** The device's negotiated buffer size when nothing else is said (edk2 writes 65536). */
export const DEFAULT_BUFFER_SIZE = 65536;
export { MAX_BUFFER_SIZE } from '../wire/mm.js';

export function resolveOptions(partial: Partial<ServiceOptions> = {}): ServiceOptions {
  const o = { ...DEFAULT_OPTIONS, ...partial };
  if (!Number.isSafeInteger(o.size) || o.size < 0) throw new RangeError(`size must be a non-negative integer, got ${o.size}`);
  return o;
}
