import { EfiStatus } from '../wire/status.js';
import type { DeviationId } from '../store/deviations.js';
import { StoreReasons, type StoreReason } from '../store/reasons.js';
import { PersistReasons, type PersistReason } from '../store/backend.js';
import { AuthReasons, type AuthReason } from '../auth/reasons.js';
import { PolicyReasons, type PolicyReason } from '../policy/reasons.js';

/**
 * Named reasons inside, EFI status at the edge (STYLE.md: OpenVMM). Each layer
 * names its own refusals (store/reasons.ts, auth/reasons.ts, policy/reasons.ts,
 * the persist seam in store/backend.ts); this file is the one place a reason
 * becomes the EFI_STATUS the guest sees. Logs, metrics, audit records and
 * replay get the reason.
 */
export type Reason = StoreReason | AuthReason | PolicyReason | PersistReason;

/**
 * Reasons a request is refused before any handler runs (spec §1.4, §1.5 steps 1-3,
 * §2.2): the answer is a device status in CMD_STS, not an EFI status, so they have
 * no statusOf. `message-too-short` is also a store reason (a function payload too short).
 */
export type TransportReason = 'no-buffer' | 'message-exceeds-buffer' | 'unknown-mm-guid' | 'message-too-short';

/** The reason an MmResult carries: a refusal at the transport or inside a handler. */
export type MmReason = Reason | TransportReason;

// The layers' vocabularies are disjoint, so a reason names one decision: a name two
// layers share would make this a compile error.
type Overlap = (StoreReason & (AuthReason | PolicyReason | PersistReason)) | (AuthReason & (PolicyReason | PersistReason)) | (PolicyReason & PersistReason);
const disjoint: [Overlap] extends [never] ? true : never = true;
void disjoint;

const S = EfiStatus;

/**
 * The EFI status of every reason. Typed as a mapped type over Reason: a reason
 * added to any layer without a status here does not compile, nor does a stale one.
 */
const STATUS: { readonly [R in Reason]: bigint } = {
  // Payload framing: every handler's steps 1-3 (spec §2.5.1-§2.5.5); "fits in the buffer" (§2.4);
  // the generic MessageLength < L rule (§2.3); NameSize/DataSize over max_storage (§3.8).
  'message-too-short': S.BAD_BUFFER_SIZE,
  'field-past-message': S.BAD_BUFFER_SIZE,
  'reply-exceeds-buffer': S.BAD_BUFFER_SIZE,
  'buffer-too-small': S.BUFFER_TOO_SMALL,
  'size-exceeds-storage': S.OUT_OF_RESOURCES,
  // Names (spec §3.1, §2.5.3 step 4: an empty name rejected the edk2 way)
  'name-invalid': S.INVALID_PARAMETER,
  'name-empty': S.INVALID_PARAMETER,
  'name-no-nul': S.INVALID_PARAMETER,
  // Lookup (spec §2.5.1 step 5) and enumeration (§2.5.2 steps 5-6)
  'not-found': S.NOT_FOUND,
  'current-not-found': S.INVALID_PARAMETER,
  'end-of-list': S.NOT_FOUND,
  // check_update (spec §2.5.3 step 8; §3.4 phase; step 9 APPEND) and storage (step 10, §3.8)
  'access-denied-phase': S.ACCESS_DENIED,
  'attributes-unsupported': S.UNSUPPORTED,
  'attributes-mismatch': S.INVALID_PARAMETER,
  'append-unsupported': S.UNSUPPORTED,
  'out-of-storage': S.OUT_OF_RESOURCES,
  // The operator's per-VM quota, refused as the storage limit is (UEFI 2.10 §8.2 SetVariable: EFI_OUT_OF_RESOURCES)
  'quota-variables': S.OUT_OF_RESOURCES,
  'quota-bytes': S.OUT_OF_RESOURCES,
  'quota-write-rate': S.OUT_OF_RESOURCES,
  // Functions 7, 9, 10 without edk2VarCheck, 12-14, 0 and >= 15 (spec §2.4)
  'function-unsupported': S.UNSUPPORTED,

  // A failed durable write: UEFI 2.10 §8.2 SetVariable, "EFI_DEVICE_ERROR: the variable
  // could not be saved due to a hardware failure" (the store is rolled back).
  'persist-failed': S.DEVICE_ERROR,

  // EFI_VARIABLE_AUTHENTICATION_2 checks (spec §4.1 steps 1-4; wrong type and pad fields
  // the edk2 way, EFI_SECURITY_VIOLATION: docs/deviations.md #9, #10)
  'auth-descriptor-short': S.SECURITY_VIOLATION,
  'auth-cert-length': S.SECURITY_VIOLATION,
  'auth-revision': S.UNSUPPORTED,
  'auth-cert-type': S.SECURITY_VIOLATION,
  'auth-time-fields': S.SECURITY_VIOLATION,
  // Signature, trust anchors, timestamps, private-variable signer (spec §2.5.3 step 6, §4.3, §4.4, §4.8)
  'auth-no-signature': S.SECURITY_VIOLATION,
  'auth-signature': S.SECURITY_VIOLATION,
  'auth-untrusted': S.SECURITY_VIOLATION,
  'auth-no-trust-anchor': S.SECURITY_VIOLATION,
  'auth-stale-timestamp': S.SECURITY_VIOLATION,
  'auth-signer-mismatch': S.SECURITY_VIOLATION,
  // edk2 CheckSignatureListFormat (spec §4.4 [DIFF])
  'auth-siglist-format': S.INVALID_PARAMETER,
  // AUTHENTICATED_WRITE_ACCESS (0x10) with data (spec §2.5.3 step 6, §3.2)
  'auth-counter-based': S.UNSUPPORTED,
  // Read-only Secure Boot mode variables (spec §3.4 recommendation)
  'read-only-variable': S.WRITE_PROTECTED,
  // DataSize 0 on an authenticated variable (spec §3.3: edk2's statuses)
  'key-database-attributes': S.INVALID_PARAMETER,
  'unauthenticated-delete': S.SECURITY_VIOLATION,
  // check_update step 5 (spec §4.6)
  'secure-boot-attributes': S.INVALID_PARAMETER,
  'force-secure-boot': S.WRITE_PROTECTED,
  'custom-mode-disabled': S.WRITE_PROTECTED,

  // VAR_CHECK_POLICY_COMM_HEADER (spec §5.1: edk2 EFI_INVALID_PARAMETER) and unknown commands (§5.2)
  'bad-signature': S.INVALID_PARAMETER,
  'unknown-command': S.UNSUPPORTED,
  // IS_ENABLED without the State byte (spec §5.2, QEMU's status)
  'is-enabled-too-short': S.BAD_BUFFER_SIZE,
  // DISABLE (spec §5.2, edk2 column)
  'already-disabled': S.ALREADY_STARTED,
  'disable-not-allowed': S.WRITE_PROTECTED,
  // REGISTER (spec §5.2 locked; §5.3 steps 1-8; edk2 structure checks after step 7)
  'interface-locked': S.WRITE_PROTECTED,
  'register-too-short': S.BAD_BUFFER_SIZE,
  'entry-past-message': S.BAD_BUFFER_SIZE,
  'entry-too-small': S.BAD_BUFFER_SIZE,
  'entry-size-mismatch': S.BAD_BUFFER_SIZE,
  'name-offset-in-header': S.BAD_BUFFER_SIZE,
  'name-offset-in-state-policy': S.BAD_BUFFER_SIZE,
  'name-offset-past-entry': S.BAD_BUFFER_SIZE,
  'name-surrogate': S.INVALID_PARAMETER,
  'bad-version': S.INVALID_PARAMETER,
  'max-size-zero': S.INVALID_PARAMETER,
  'unknown-lock-type': S.INVALID_PARAMETER,
  'name-offset-not-packed': S.INVALID_PARAMETER,
  'state-name-malformed': S.INVALID_PARAMETER,
  'name-malformed': S.INVALID_PARAMETER,
  'too-many-wildcards': S.INVALID_PARAMETER,
  'duplicate-policy': S.ALREADY_STARTED,
  // Our bound on the table: edk2's answer when its table allocation fails (docs/policy.md P10)
  'policy-table-full': S.OUT_OF_RESOURCES,
  // DUMP, GET_INFO, GET_LOCK_VAR_STATE_INFO as edk2 VarCheckPolicyLibMmiHandler answers them
  // (spec §2.4 note: edk2's policy handler also uses EFI_TIMEOUT; docs/policy.md P2)
  'dump-too-short': S.INVALID_PARAMETER,
  'dump-page-out-of-range': S.INVALID_PARAMETER,
  'dump-expired': S.TIMEOUT,
  'info-too-short': S.INVALID_PARAMETER,
  'info-name-size-too-large': S.INVALID_PARAMETER,
  'info-name-unterminated': S.INVALID_PARAMETER,
  'no-matching-policy': S.NOT_FOUND,
  'not-lock-on-var-state': S.NOT_FOUND,
  'name-buffer-too-small': S.BUFFER_TOO_SMALL,
  // SetVariable enforcement (spec §5.5 steps 1-4; EFI_ABORTED for a failed state probe, edk2)
  'policy-size-too-small': S.INVALID_PARAMETER,
  'policy-size-too-large': S.INVALID_PARAMETER,
  'policy-attributes-must-have': S.INVALID_PARAMETER,
  'policy-attributes-cant-have': S.INVALID_PARAMETER,
  'locked-now': S.WRITE_PROTECTED,
  'locked-on-create': S.WRITE_PROTECTED,
  'locked-on-var-state': S.WRITE_PROTECTED,
  'state-probe-failed': S.ABORTED,
  // LOCK_VARIABLE (spec §2.5.5: edk2 EFI_ACCESS_DENIED after EndOfDxe; step 2 size bound)
  'lock-after-end-of-dxe': S.ACCESS_DENIED,
  'lock-name-too-long': S.BAD_BUFFER_SIZE,
  // VarCheck functions 7, 9, 10 as edk2 VarCheckLib / SmmVariableHandler answer them (spec §2.4; docs/policy.md P9)
  'statistics-not-collected': S.UNSUPPORTED,
  'var-check-unknown-function': S.UNSUPPORTED,
  'var-check-too-short': S.BAD_BUFFER_SIZE,
  'var-check-name-past-message': S.ACCESS_DENIED,
  'var-check-name-unterminated': S.ACCESS_DENIED,
  'var-check-name-empty': S.INVALID_PARAMETER,
  'var-check-bad-revision': S.INVALID_PARAMETER,
  'var-check-after-end-of-dxe': S.ACCESS_DENIED,
  // Our bound on the property table, like P10's on policies (docs/policy.md P10: edk2 runs out of pool)
  'var-check-table-full': S.OUT_OF_RESOURCES,
  'property-not-found': S.NOT_FOUND,
  'property-read-only': S.WRITE_PROTECTED,
  'property-attributes': S.INVALID_PARAMETER,
  'property-size': S.INVALID_PARAMETER,
};

/** The EFI_STATUS a reason answers; no reason is EFI_SUCCESS. */
export function statusOf(r: Reason | undefined): bigint {
  return r === undefined ? EfiStatus.SUCCESS : STATUS[r];
}

/** Every reason of every layer (the keys of the table above). */
export const ALL_REASONS: readonly Reason[] = Object.keys(STATUS) as Reason[];

const DEVIATION = new Map<string, DeviationId>();
for (const table of [StoreReasons, AuthReasons, PolicyReasons, PersistReasons] as const) {
  for (const [r, e] of Object.entries(table) as [string, { deviation?: DeviationId }][]) if (e.deviation) DEVIATION.set(r, e.deviation);
}

/** The documented deviation a reason always stands for, whatever layer named it (a transport reason: none). */
export function reasonDeviation(r: MmReason | undefined): DeviationId | undefined {
  return r === undefined ? undefined : DEVIATION.get(r);
}

const TRANSPORT: ReadonlySet<string> = new Set<TransportReason>(['no-buffer', 'message-exceeds-buffer', 'unknown-mm-guid', 'message-too-short']);

/** A reason read back from elsewhere (an MM_REPLY frame, a log line) that this build names. */
export function isMmReason(s: string): s is MmReason {
  return Object.hasOwn(STATUS, s) || TRANSPORT.has(s);
}
