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
}

/** The interface is closed to changes after LOCK, and (edk2) from EndOfDxe on. */
export function interfaceLocked(s: PolicyState, o: ResolvedPolicyOptions, ctx: PolicyContext): boolean {
  return s.locked || (o.lockAtEndOfDxe && ctx.endOfDxe);
}
