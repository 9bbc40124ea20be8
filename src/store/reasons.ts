import { EfiStatus } from '../wire/status.js';

/**
 * Every way a variable request can fail, by name. Logs and metrics get the
 * reason; the guest gets the one EFI status it maps to (STYLE.md: OpenVMM).
 * `deviation: true` marks reasons where we answer differently from QEMU on
 * purpose (docs/deviations.md), so replay counts them separately.
 */
export const Reasons = {
  'message-too-short': { status: EfiStatus.BAD_BUFFER_SIZE },
  'field-past-message': { status: EfiStatus.BAD_BUFFER_SIZE },
  'reply-exceeds-buffer': { status: EfiStatus.BAD_BUFFER_SIZE },
  'size-exceeds-storage': { status: EfiStatus.OUT_OF_RESOURCES },
  'name-invalid': { status: EfiStatus.INVALID_PARAMETER },
  'name-empty': { status: EfiStatus.INVALID_PARAMETER, deviation: true },
  'name-no-nul': { status: EfiStatus.INVALID_PARAMETER, deviation: true },
  'not-found': { status: EfiStatus.NOT_FOUND },
  'current-not-found': { status: EfiStatus.INVALID_PARAMETER },
  'end-of-list': { status: EfiStatus.NOT_FOUND },
  'access-denied-phase': { status: EfiStatus.ACCESS_DENIED },
  'buffer-too-small': { status: EfiStatus.BUFFER_TOO_SMALL },
  'attributes-unsupported': { status: EfiStatus.UNSUPPORTED },
  'attributes-mismatch': { status: EfiStatus.INVALID_PARAMETER },
  'append-unsupported': { status: EfiStatus.UNSUPPORTED },
  'out-of-storage': { status: EfiStatus.OUT_OF_RESOURCES },
  'read-only-variable': { status: EfiStatus.WRITE_PROTECTED, deviation: true },
  'unauthenticated-delete': { status: EfiStatus.SECURITY_VIOLATION, deviation: true },
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
  'auth-cert-type': { status: EfiStatus.SECURITY_VIOLATION, deviation: true },
  'auth-time-fields': { status: EfiStatus.SECURITY_VIOLATION, deviation: true },
  'auth-no-signature': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-signature': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-untrusted': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-no-trust-anchor': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-stale-timestamp': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-signer-mismatch': { status: EfiStatus.SECURITY_VIOLATION },
  'auth-siglist-format': { status: EfiStatus.INVALID_PARAMETER, deviation: true },
  'auth-counter-based': { status: EfiStatus.UNSUPPORTED },
} as const satisfies Record<string, { status: bigint; deviation?: boolean }>;

export type Reason = keyof typeof Reasons;

export function reasonStatus(r: Reason): bigint {
  return Reasons[r].status;
}

export function isDeviationReason(r: string | undefined): boolean {
  if (!r || !(r in Reasons)) return false;
  const entry: { status: bigint; deviation?: boolean } = Reasons[r as Reason];
  return entry.deviation === true;
}

/** A failed step: the reason, which the service edge turns into an EFI status. */
export class Refusal {
  constructor(readonly reason: Reason, readonly detail?: string) {}
}
