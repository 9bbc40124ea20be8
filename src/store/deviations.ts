/**
 * Every documented deviation from QEMU, by id: the row of docs/deviations.md
 * (#N) or docs/policy.md (PN) that states the rule. A decision that answers
 * differently from QEMU on purpose carries its id on the outcome (set where the
 * decision is taken: store/service, auth, policy), so `replay` can tell a
 * documented deviation from a mismatch whatever the status — a refusal QEMU
 * would not make, or a success QEMU would refuse.
 */
export const Deviations = {
  'empty-name': '#1',
  'name-without-nul': '#2',
  'read-only-variable': '#3',
  'unauthenticated-delete': '#4',
  'storage-shrink-over-limit': '#5',
  'pkcs7-content-info': '#7',
  'auth-time-fields': '#9',
  'auth-cert-type': '#10',
  'equal-timestamp': '#11',
  'append-keeps-later-time': '#12',
  'append-filter': '#13',
  'siglist-format': '#14',
  'dbt-dbr-key-database': '#15',
  'private-signer-binding': '#16',
  'policy-comm-header': 'P1',
  'policy-edk2-commands': 'P2',
  'policy-structure': 'P3',
  'lock-on-var-state-layout': 'P4',
  'namespace-policy': 'P5',
  'policy-delete-checks': 'P6',
  'policy-locked-at-end-of-dxe': 'P7',
  'lock-variable-refused': 'P8',
  'varcheck-functions': 'P9',
  'policy-table-full': 'P10',
} as const;

export type DeviationId = keyof typeof Deviations;

/** `name-empty (#1)`: how replay and logs name a deviation. */
export function describeDeviation(id: DeviationId): string {
  return `${id} (${Deviations[id]})`;
}
