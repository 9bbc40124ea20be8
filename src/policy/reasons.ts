import type { DeviationId } from '../store/deviations.js';

/**
 * Every way a policy request can be refused, by name (STYLE.md: named reasons
 * inside, one EFI status at the edge: service/reasons.ts statusOf, which also
 * holds the status each reason answers). `deviation` names the documented
 * deviation (store/deviations.ts, docs/policy.md) of a reason only a deviating
 * decision produces: QEMU answers the same input with a different status (it
 * accepts, or answers EFI_UNSUPPORTED).
 */
export const PolicyReasons = {
  // VAR_CHECK_POLICY_COMM_HEADER (edk2 VarCheckPolicyLibMmiHandler; QEMU checks neither field)
  'bad-signature': { deviation: 'policy-comm-header' },
  'unknown-command': {},

  // IS_ENABLED: QEMU's status for a message without the State byte (trace policy-register seq 2)
  'is-enabled-too-short': {},

  // DISABLE (edk2 DisableVariablePolicy; QEMU answers EFI_UNSUPPORTED to every DISABLE)
  'already-disabled': { deviation: 'policy-edk2-commands' },
  'disable-not-allowed': { deviation: 'policy-edk2-commands' },

  // REGISTER framing, QEMU's order and statuses (spec §5.3 steps 1-7)
  'interface-locked': {},
  'register-too-short': {},
  'entry-past-message': {},
  'entry-too-small': {},
  'entry-size-mismatch': {},
  'name-offset-in-header': {},
  'name-offset-in-state-policy': {},
  'name-offset-past-entry': {},
  'name-surrogate': {},
  // REGISTER structure, edk2 IsValidVariablePolicyStructure (QEMU registers these)
  'bad-version': { deviation: 'policy-structure' },
  'max-size-zero': { deviation: 'policy-structure' },
  'unknown-lock-type': { deviation: 'policy-structure' },
  'name-offset-not-packed': { deviation: 'policy-structure' },
  'state-name-malformed': { deviation: 'policy-structure' },
  'name-malformed': { deviation: 'policy-structure' },
  'too-many-wildcards': { deviation: 'policy-structure' },
  'duplicate-policy': {},
  // Our bound on the table (QEMU and edk2 grow it until allocation fails, edk2 then
  // answers EFI_OUT_OF_RESOURCES): a guest cannot balloon the service or make every
  // SetVariable scan an unbounded list.
  'policy-table-full': { deviation: 'policy-table-full' },

  // DUMP (edk2 pagination; QEMU answers EFI_UNSUPPORTED)
  'dump-too-short': { deviation: 'policy-edk2-commands' },
  'dump-page-out-of-range': { deviation: 'policy-edk2-commands' },
  'dump-expired': { deviation: 'policy-edk2-commands' },

  // GET_INFO / GET_LOCK_VAR_STATE_INFO (edk2; QEMU answers EFI_UNSUPPORTED)
  'info-too-short': { deviation: 'policy-edk2-commands' },
  'info-name-size-too-large': { deviation: 'policy-edk2-commands' },
  'info-name-unterminated': { deviation: 'policy-edk2-commands' },
  'no-matching-policy': { deviation: 'policy-edk2-commands' },
  'not-lock-on-var-state': { deviation: 'policy-edk2-commands' },
  'name-buffer-too-small': { deviation: 'policy-edk2-commands' },

  // SetVariable enforcement (edk2 ValidateSetVariable, spec §5.5)
  'policy-size-too-small': {},
  'policy-size-too-large': {},
  'policy-attributes-must-have': {},
  'policy-attributes-cant-have': {},
  'locked-now': {},
  'locked-on-create': {},
  'locked-on-var-state': {},
  'state-probe-failed': {},

  // LOCK_VARIABLE, SMM function 8 (edk2 SmmVariableHandler + VariableLockRequestToLock)
  'lock-after-end-of-dxe': { deviation: 'lock-variable-refused' },
  'lock-name-too-long': {},

  // VarCheck properties, SMM functions 7, 9, 10 (edk2 VarCheckLib; QEMU answers EFI_UNSUPPORTED)
  'statistics-not-collected': {},
  // A function id that is none of 7, 9, 10 handed to the VarCheck dispatch (spec §2.4: EFI_UNSUPPORTED)
  'var-check-unknown-function': {},
  'var-check-too-short': { deviation: 'varcheck-functions' },
  'var-check-name-past-message': { deviation: 'varcheck-functions' },
  'var-check-name-unterminated': { deviation: 'varcheck-functions' },
  'var-check-name-empty': { deviation: 'varcheck-functions' },
  'var-check-bad-revision': { deviation: 'varcheck-functions' },
  'var-check-after-end-of-dxe': { deviation: 'varcheck-functions' },
  // Our bound on the property table (var-check.ts PROPERTY_TABLE_LIMITS), as P10 bounds the policy table.
  'var-check-table-full': { deviation: 'policy-table-full' },
  'property-not-found': { deviation: 'varcheck-functions' },
  'property-read-only': {},
  'property-attributes': {},
  'property-size': {},
} as const satisfies Record<string, { deviation?: DeviationId }>;

export type PolicyReason = keyof typeof PolicyReasons;

/** The deviation a reason always stands for; decisions that share a reason with QEMU mark theirs in PolicyState.mark. */
export function policyReasonDeviation(r: PolicyReason | undefined): DeviationId | undefined {
  if (r === undefined) return undefined;
  const entry: { deviation?: DeviationId } = PolicyReasons[r];
  return entry.deviation;
}
