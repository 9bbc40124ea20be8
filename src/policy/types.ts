import type { DeviationId } from '../store/deviations.js';
import type { GuidText } from '../wire/guid.js';
import type { Variable } from '../store/variable.js';
import type { PolicyEntry } from './entry.js';
import type { PropertyTable } from './var-check.js';

/** What the engine needs to know about the rest of the device for one request. */
export interface PolicyContext {
  endOfDxe: boolean;
  readyToBoot: boolean;
  exitBootServices: boolean;
  /** Read a variable (for LOCK_ON_VAR_STATE), ignoring the access phase. */
  getVariable(guid: GuidText, name: Uint8Array): Variable | undefined;
}

/** One SetVariable, as the policy check sees it (spec §2.5.3 step 8.4). */
export interface PolicyCheck {
  guid: GuidText;
  /** Raw name bytes as sent. */
  name: Uint8Array;
  /** Attributes as the guest passed them (APPEND_WRITE included). */
  attributes: number;
  /** Size of the data that will be stored (payload after the auth descriptor). */
  dataSize: number;
  /** True when this write deletes the variable. */
  isDelete: boolean;
  /** True when the variable exists before the write. */
  exists: boolean;
  /** The existing variable's data size and attributes (QEMU checks those on a delete, docs/policy.md P6). */
  oldDataSize?: number;
  oldAttributes?: number;
}

export interface PolicyOptions {
  /**
   * edk2 PcdAllowVariablePolicyEnforcementDisable (default FALSE): whether the
   * DISABLE command may switch enforcement off until the next reset.
   */
  allowDisable?: boolean;
  /**
   * edk2 locks the policy interface at EndOfDxe (VariableSmm SmmEndOfDxeCallback
   * calls LockVariablePolicy), so the OS cannot add policies; QEMU does not
   * (spec §7.2 item 11). Default true (edk2).
   */
  lockAtEndOfDxe?: boolean;
}

export type ResolvedPolicyOptions = Readonly<Required<PolicyOptions>>;

export function resolvePolicyOptions(o: PolicyOptions = {}): ResolvedPolicyOptions {
  return Object.freeze({ allowDisable: o.allowDisable ?? false, lockAtEndOfDxe: o.lockAtEndOfDxe ?? true });
}

/** Everything the policy engine holds between requests. */
export interface PolicyState {
  /** Registered policies in registration order (ties in matching go to the earlier one). */
  entries: PolicyEntry[];
  /** LOCK was received (REGISTER and DISABLE refused until reset). */
  locked: boolean;
  /** DISABLE succeeded: policies are not enforced until reset. */
  disabled: boolean;
  properties: PropertyTable;
  /**
   * The table as it was when DUMP page 0 was asked for (edk2 mPaginationCache);
   * transient: any other command drops it, and it is not part of a snapshot.
   */
  dumpCache: Uint8Array | undefined;
  /**
   * The documented deviation behind the current call's answer when the decision, not
   * its reason, deviates (a refusal QEMU shares the reason of, or a success QEMU would
   * refuse); consumed by the engine's answer.
   */
  mark: DeviationId | undefined;
}

/**
 * The interface is closed to changes after LOCK, and (edk2) from EndOfDxe on; closed
 * only by the latter is a refusal QEMU does not make (docs/policy.md P7), marked so.
 */
export function interfaceLocked(s: PolicyState, o: ResolvedPolicyOptions, ctx: PolicyContext): boolean {
  const locked = s.locked || (o.lockAtEndOfDxe && ctx.endOfDxe);
  if (locked && !s.locked) s.mark = 'policy-locked-at-end-of-dxe';
  return locked;
}
