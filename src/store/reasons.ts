import { EfiStatus } from '../wire/status.js';
import type { DeviationId } from './deviations.js';

/**
 * Every way a variable request can fail, by name. Logs and metrics get the
 * reason; the guest gets the one EFI status it maps to (STYLE.md: OpenVMM).
 * `deviation` names the documented deviation (deviations.ts) of a reason that
 * only a deviating decision produces; decisions whose reason QEMU shares (a stale
 * timestamp, an untrusted signer, ...) mark their deviation where they are taken.
 */
export const Reasons = {
  'message-too-short': { status: EfiStatus.BAD_BUFFER_SIZE },
  'field-past-message': { status: EfiStatus.BAD_BUFFER_SIZE },
  'reply-exceeds-buffer': { status: EfiStatus.BAD_BUFFER_SIZE },
  'size-exceeds-storage': { status: EfiStatus.OUT_OF_RESOURCES },
  'name-invalid': { status: EfiStatus.INVALID_PARAMETER },
  'name-empty': { status: EfiStatus.INVALID_PARAMETER, deviation: 'empty-name' },
  // No NUL inside NameSize: QEMU's status for a name its own check finds invalid (spec §3.1); where
  // its scan runs past NameSize and accepts, answering it is the deviation #2 (ucs2.ts qemuAcceptsName).
  'name-no-nul': { status: EfiStatus.INVALID_PARAMETER },
  // A key database (PK, KEK, db, dbx, dbt, dbr) written without NV or TIME_BASED_AUTHENTICATED_WRITE_ACCESS:
  // edk2 ProcessVarWithPk / ProcessVarWithKek (spec §3.3; QEMU deletes it on DataSize 0).
  'key-database-attributes': { status: EfiStatus.INVALID_PARAMETER, deviation: 'unauthenticated-delete' },
  'not-found': { status: EfiStatus.NOT_FOUND },
  'current-not-found': { status: EfiStatus.INVALID_PARAMETER },
  'end-of-list': { status: EfiStatus.NOT_FOUND },
  'access-denied-phase': { status: EfiStatus.ACCESS_DENIED },
  'buffer-too-small': { status: EfiStatus.BUFFER_TOO_SMALL },
  'attributes-unsupported': { status: EfiStatus.UNSUPPORTED },
  'attributes-mismatch': { status: EfiStatus.INVALID_PARAMETER },
  'append-unsupported': { status: EfiStatus.UNSUPPORTED },
  'out-of-storage': { status: EfiStatus.OUT_OF_RESOURCES },
  // The operator's per-VM quota (service/vm-quota.ts), refused as the storage limit is.
  'quota-variables': { status: EfiStatus.OUT_OF_RESOURCES },
  'quota-bytes': { status: EfiStatus.OUT_OF_RESOURCES },
  'quota-write-rate': { status: EfiStatus.OUT_OF_RESOURCES },
  'read-only-variable': { status: EfiStatus.WRITE_PROTECTED, deviation: 'read-only-variable' },
  'unauthenticated-delete': { status: EfiStatus.SECURITY_VIOLATION, deviation: 'unauthenticated-delete' },
  'secure-boot-attributes': { status: EfiStatus.INVALID_PARAMETER },
  'force-secure-boot': { status: EfiStatus.WRITE_PROTECTED },
  'custom-mode-disabled': { status: EfiStatus.WRITE_PROTECTED },
  'policy': { status: EfiStatus.WRITE_PROTECTED },
  'function-unsupported': { status: EfiStatus.UNSUPPORTED },
  'persist-failed': { status: EfiStatus.DEVICE_ERROR },
  // authenticated writes (auth/)
  'auth-descriptor-short': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-cert-length': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-revision': { status: EfiStatus.UNSUPPORTED },
  'auth-cert-type': { status: EfiStatus.SECURITY_VIOLATION, deviation: 'auth-cert-type' },
  'auth-time-fields': { status: EfiStatus.SECURITY_VIOLATION, deviation: 'auth-time-fields' },
  'auth-no-signature': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-signature': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-untrusted': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-no-trust-anchor': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-stale-timestamp': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-signer-mismatch': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-siglist-format': { status: EfiStatus.INVALID_PARAMETER, deviation: 'siglist-format' },
  'auth-counter-based': { status: EfiStatus.UNSUPPORTED },
} as const satisfies Record<string, { status: bigint; deviation?: DeviationId }>;

export type Reason = keyof typeof Reasons;

export function reasonStatus(r: Reason): bigint {
  return Reasons[r].status;
}

/** The deviation a reason always stands for, if any. */
export function reasonDeviation(r: Reason): DeviationId | undefined {
  const entry: { status: bigint; deviation?: DeviationId } = Reasons[r];
  return entry.deviation;
}

/**
 * A failed step: the reason, which the service edge turns into an EFI status, and
 * the documented deviation when QEMU would not refuse this write this way.
 */
export class Refusal {
  readonly deviation: DeviationId | undefined;
  constructor(readonly reason: Reason, readonly detail?: string, deviation?: DeviationId) {
    this.deviation = deviation ?? reasonDeviation(reason);
  }
}
