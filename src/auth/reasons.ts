import type { DeviationId } from '../store/deviations.js';

/**
 * Every way an authenticated or Secure Boot variable write can be refused, by name
 * (STYLE.md: named reasons inside, one EFI status at the edge: service/reasons.ts
 * statusOf). `deviation` names the documented deviation (store/deviations.ts) of a
 * reason only a deviating decision produces; decisions whose reason QEMU shares
 * (a stale timestamp, an untrusted signer, ...) mark their deviation where they are taken.
 */
export const AuthReasons = {
  // EFI_VARIABLE_AUTHENTICATION_2 descriptor (spec §4.1; edk2 AuthVariableLib for the pad fields and type)
  'auth-descriptor-short': {},
  'auth-cert-length': {},
  'auth-revision': {},
  'auth-cert-type': { deviation: 'auth-cert-type' },
  'auth-time-fields': { deviation: 'auth-time-fields' },
  // Signature and trust (spec §4.2-§4.4, §4.8)
  'auth-no-signature': {},
  'auth-signature': {},
  'auth-untrusted': {},
  'auth-no-trust-anchor': {},
  'auth-stale-timestamp': {},
  'auth-signer-mismatch': {},
  // edk2 CheckSignatureListFormat (spec §4.4 [DIFF])
  'auth-siglist-format': { deviation: 'siglist-format' },
  // AUTHENTICATED_WRITE_ACCESS, the counter-based kind (spec §2.5.3 step 6, §4.8)
  'auth-counter-based': {},
  // Secure Boot variables (spec §3.3, §3.4, §4.6)
  'read-only-variable': { deviation: 'read-only-variable' },
  // A key database (PK, KEK, db, dbx, dbt, dbr) written without NV or TIME_BASED_AUTHENTICATED_WRITE_ACCESS:
  // edk2 ProcessVarWithPk / ProcessVarWithKek (spec §3.3; QEMU deletes it on DataSize 0).
  'key-database-attributes': { deviation: 'unauthenticated-delete' },
  'unauthenticated-delete': { deviation: 'unauthenticated-delete' },
  'secure-boot-attributes': {},
  'force-secure-boot': {},
  'custom-mode-disabled': {},
} as const satisfies Record<string, { deviation?: DeviationId }>;

export type AuthReason = keyof typeof AuthReasons;

/** The deviation an auth reason always stands for, if any. */
export function authReasonDeviation(r: AuthReason): DeviationId | undefined {
  const entry: { deviation?: DeviationId } = AuthReasons[r];
  return entry.deviation;
}

/**
 * A refused authenticated write: the reason, which the service edge turns into an
 * EFI status, and the documented deviation when QEMU would not refuse it this way.
 */
export class Refusal {
  readonly deviation: DeviationId | undefined;
  constructor(readonly reason: AuthReason, readonly detail?: string, deviation?: DeviationId) {
    this.deviation = deviation ?? authReasonDeviation(reason);
  }
}
