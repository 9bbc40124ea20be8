import { EfiStatus } from '../wire/status.js';
import type { DeviationId } from '../store/deviations.js';

/**
 * Every way a policy request can be refused, by name (STYLE.md: named reasons
 * inside, one EFI status at the edge). `deviation` names the documented
 * deviation (store/deviations.ts, docs/policy.md) of a reason only a deviating
 * decision produces: QEMU answers the same input with a different status (it
 * accepts, or answers EFI_UNSUPPORTED).
 */
export const PolicyReasons = {
  // VAR_CHECK_POLICY_COMM_HEADER (edk2 VarCheckPolicyLibMmiHandler; QEMU checks neither field)
  'bad-signature': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-comm-header' },
  'unknown-command': { status: EfiStatus.UNSUPPORTED },

  // IS_ENABLED: QEMU's status for a message without the State byte (trace policy-register seq 2)
  'is-enabled-too-short': { status: EfiStatus.BAD_BUFFER_SIZE },

  // DISABLE (edk2 DisableVariablePolicy; QEMU answers EFI_UNSUPPORTED to every DISABLE)
  'already-disabled': { status: EfiStatus.ALREADY_STARTED, deviation: 'policy-edk2-commands' },
  'disable-not-allowed': { status: EfiStatus.WRITE_PROTECTED, deviation: 'policy-edk2-commands' },

  // REGISTER framing, QEMU's order and statuses (spec §5.3 steps 1-7)
  'interface-locked': { status: EfiStatus.WRITE_PROTECTED },
  'register-too-short': { status: EfiStatus.BAD_BUFFER_SIZE },
  'entry-past-message': { status: EfiStatus.BAD_BUFFER_SIZE },
  'entry-too-small': { status: EfiStatus.BAD_BUFFER_SIZE },
  'entry-size-mismatch': { status: EfiStatus.BAD_BUFFER_SIZE },
  'name-offset-in-header': { status: EfiStatus.BAD_BUFFER_SIZE },
  'name-offset-in-state-policy': { status: EfiStatus.BAD_BUFFER_SIZE },
  'name-offset-past-entry': { status: EfiStatus.BAD_BUFFER_SIZE },
  'name-surrogate': { status: EfiStatus.INVALID_PARAMETER },
  // REGISTER structure, edk2 IsValidVariablePolicyStructure (QEMU registers these)
  'bad-version': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-structure' },
  'max-size-zero': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-structure' },
  'unknown-lock-type': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-structure' },
  'name-offset-not-packed': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-structure' },
  'state-name-malformed': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-structure' },
  'name-malformed': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-structure' },
  'too-many-wildcards': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-structure' },
  'duplicate-policy': { status: EfiStatus.ALREADY_STARTED },
  // Our bound on the table (QEMU and edk2 grow it until allocation fails, edk2 then
  // answers EFI_OUT_OF_RESOURCES): a guest cannot balloon the service or make every
  // SetVariable scan an unbounded list.
  'policy-table-full': { status: EfiStatus.OUT_OF_RESOURCES, deviation: 'policy-table-full' },

  // DUMP (edk2 pagination; QEMU answers EFI_UNSUPPORTED)
  'dump-too-short': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-edk2-commands' },
  'dump-page-out-of-range': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-edk2-commands' },
  'dump-expired': { status: EfiStatus.TIMEOUT, deviation: 'policy-edk2-commands' },

  // GET_INFO / GET_LOCK_VAR_STATE_INFO (edk2; QEMU answers EFI_UNSUPPORTED)
  'info-too-short': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-edk2-commands' },
  'info-name-size-too-large': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-edk2-commands' },
  'info-name-unterminated': { status: EfiStatus.INVALID_PARAMETER, deviation: 'policy-edk2-commands' },
  'no-matching-policy': { status: EfiStatus.NOT_FOUND, deviation: 'policy-edk2-commands' },
  'not-lock-on-var-state': { status: EfiStatus.NOT_FOUND, deviation: 'policy-edk2-commands' },
  'name-buffer-too-small': { status: EfiStatus.BUFFER_TOO_SMALL, deviation: 'policy-edk2-commands' },

  // SetVariable enforcement (edk2 ValidateSetVariable, spec §5.5)
  'policy-size-too-small': { status: EfiStatus.INVALID_PARAMETER },
  'policy-size-too-large': { status: EfiStatus.INVALID_PARAMETER },
  'policy-attributes-must-have': { status: EfiStatus.INVALID_PARAMETER },
  'policy-attributes-cant-have': { status: EfiStatus.INVALID_PARAMETER },
  'locked-now': { status: EfiStatus.WRITE_PROTECTED },
  'locked-on-create': { status: EfiStatus.WRITE_PROTECTED },
  'locked-on-var-state': { status: EfiStatus.WRITE_PROTECTED },
  'state-probe-failed': { status: EfiStatus.ABORTED },

  // LOCK_VARIABLE, SMM function 8 (edk2 SmmVariableHandler + VariableLockRequestToLock)
  'lock-after-end-of-dxe': { status: EfiStatus.ACCESS_DENIED, deviation: 'lock-variable-refused' },
  'lock-name-too-long': { status: EfiStatus.BAD_BUFFER_SIZE },

  // VarCheck properties, SMM functions 7, 9, 10 (edk2 VarCheckLib; QEMU answers EFI_UNSUPPORTED)
  'statistics-not-collected': { status: EfiStatus.UNSUPPORTED },
  'var-check-too-short': { status: EfiStatus.BAD_BUFFER_SIZE, deviation: 'varcheck-functions' },
  'var-check-name-past-message': { status: EfiStatus.ACCESS_DENIED, deviation: 'varcheck-functions' },
  'var-check-name-unterminated': { status: EfiStatus.ACCESS_DENIED, deviation: 'varcheck-functions' },
  'var-check-name-empty': { status: EfiStatus.INVALID_PARAMETER, deviation: 'varcheck-functions' },
  'var-check-bad-revision': { status: EfiStatus.INVALID_PARAMETER, deviation: 'varcheck-functions' },
  'var-check-after-end-of-dxe': { status: EfiStatus.ACCESS_DENIED, deviation: 'varcheck-functions' },
  // Our bound on the property table (var-check.ts PROPERTY_TABLE_LIMITS), as P10 bounds the policy table.
  'var-check-table-full': { status: EfiStatus.OUT_OF_RESOURCES, deviation: 'policy-table-full' },
  'property-not-found': { status: EfiStatus.NOT_FOUND, deviation: 'varcheck-functions' },
  'property-read-only': { status: EfiStatus.WRITE_PROTECTED },
  'property-attributes': { status: EfiStatus.INVALID_PARAMETER },
  'property-size': { status: EfiStatus.INVALID_PARAMETER },
} as const satisfies Record<string, { status: bigint; deviation?: DeviationId }>;

export type PolicyReason = keyof typeof PolicyReasons;

export function policyReasonStatus(r: PolicyReason | undefined): bigint {
  return r === undefined ? EfiStatus.SUCCESS : PolicyReasons[r].status;
}

/** The deviation a reason always stands for; decisions that share a reason with QEMU mark theirs in PolicyState.mark. */
export function policyReasonDeviation(r: PolicyReason | undefined): DeviationId | undefined {
  if (r === undefined) return undefined;
  const entry: { status: bigint; deviation?: DeviationId } = PolicyReasons[r];
  return entry.deviation;
}
