// PLACEHOLDER — the policy helper replaces this file with the real engine.
// The shape below is the contract service/ codes against.
import type { GuidText } from '../wire/guid.js';
import type { Variable } from '../store/variable.js';
import { EfiStatus } from '../wire/status.js';

export interface PolicyContext {
  endOfDxe: boolean;
  readyToBoot: boolean;
  exitBootServices: boolean;
  /** Read a variable (for LOCK_ON_VAR_STATE), ignoring the access phase. */
  getVariable(guid: GuidText, name: Uint8Array): Variable | undefined;
}

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

export interface PolicySnapshot { readonly entries: readonly Uint8Array[]; readonly locked: boolean; readonly disabled: boolean }

export class VariablePolicy {
  /** VarCheckPolicy MM handler; `msg` is the message after the MM header (writable). Returns the device status. */
  handleMm(_msg: Uint8Array, _ctx: PolicyContext): number { return 0; }
  /** SMM variable function 8 (LOCK_VARIABLE); `payload` starts after the 16-byte function header. Returns the EFI status. */
  lockVariable(_guid: GuidText, _name: Uint8Array, _ctx: PolicyContext): bigint { return EfiStatus.SUCCESS; }
  /** EFI status for a SetVariable under the current policies (EfiStatus.SUCCESS = allowed). */
  checkSetVariable(_w: PolicyCheck, _ctx: PolicyContext): bigint { return EfiStatus.SUCCESS; }
  /** Device hard reset: policies dropped, lock released. */
  reset(): void { /* placeholder */ }
  snapshot(): PolicySnapshot { return { entries: [], locked: false, disabled: false }; }
  static restore(_s: PolicySnapshot): VariablePolicy { return new VariablePolicy(); }
}
