import type { DeviationId } from './deviations.js';

/**
 * Every way a plain variable request can fail, by name (STYLE.md: OpenVMM's named
 * error variants). No EFI status here: the service edge maps each reason to the
 * one status the spec names (service/reasons.ts statusOf). `deviation` names the
 * documented deviation (deviations.ts) of a reason that only a deviating decision
 * produces; decisions whose reason QEMU shares mark their deviation where they are taken.
 */
export const StoreReasons = {
  // Framing of the function payload (spec §2.5.1-§2.5.5 steps 1-3, §2.3 generic rule)
  'message-too-short': {},
  'field-past-message': {},
  'reply-exceeds-buffer': {},
  'buffer-too-small': {},
  'size-exceeds-storage': {},
  // Names (spec §3.1; §2.5.3 step 4)
  'name-invalid': {},
  'name-empty': { deviation: 'empty-name' },
  // No NUL inside NameSize: QEMU's answer for a name its own check finds invalid (spec §3.1); where
  // its scan runs past NameSize and accepts, answering it is the deviation #2 (ucs2.ts qemuAcceptsName).
  'name-no-nul': {},
  // Lookup and enumeration (spec §2.5.1 step 5, §2.5.2 steps 5-6)
  'not-found': {},
  'current-not-found': {},
  'end-of-list': {},
  // check_update (spec §2.5.3 step 8, §3.2, §3.4)
  'access-denied-phase': {},
  'attributes-unsupported': {},
  'attributes-mismatch': {},
  'append-unsupported': {},
  // Storage accounting (spec §3.8)
  'out-of-storage': {},
  // The operator's per-VM quota (service/vm-quota.ts), refused as the storage limit is.
  'quota-variables': {},
  'quota-bytes': {},
  'quota-write-rate': {},
  // Functions a host service does not implement (spec §2.4)
  'function-unsupported': {},
} as const satisfies Record<string, { deviation?: DeviationId }>;

export type StoreReason = keyof typeof StoreReasons;

/** The deviation a store reason always stands for, if any. */
export function storeReasonDeviation(r: StoreReason): DeviationId | undefined {
  const entry: { deviation?: DeviationId } = StoreReasons[r];
  return entry.deviation;
}
