import { MM_HEADER_SIZE } from '../wire/mm.js';
import type { VariableStore } from '../store/store.js';
import type { PhaseFlags } from '../store/access.js';
import type { SecureBootState } from '../auth/secure-boot.js';
import type { VariablePolicy, PolicyContext } from '../policy/engine.js';
import type { ServiceOptions } from './options.js';
import type { Variable } from '../store/variable.js';
import type { AuthVerifier } from '../auth/verifier.js';
import type { QuotaState } from './vm-quota.js';

/** The mutable state a request works on; owned by VariableService, passed to handlers. */
export interface ServiceState {
  store: VariableStore;
  flags: PhaseFlags;
  sb: SecureBootState;
  policy: VariablePolicy;
  readonly options: ServiceOptions;
  /** The negotiated BUFFER_SIZE for the request in hand. */
  bufferSize: number;
  /** The operator's per-VM quota, if one is set (vm-quota.ts). */
  quota?: QuotaState | undefined;
  /** Durably record the NV variables; rejects if it could not. */
  persist?: ((nv: readonly Variable[]) => Promise<void>) | undefined;
  /** Where signature checks run (ServiceInit.verifier); the calling thread when absent. */
  readonly verifier?: AuthVerifier | undefined;
}

/** "Fits in the buffer" (spec §2.4): the reply must fit behind the 24-byte MM header. */
export function fitsBuffer(s: ServiceState, responseLength: number): boolean {
  return responseLength <= s.bufferSize - MM_HEADER_SIZE;
}

export function policyContext(s: ServiceState): PolicyContext {
  return {
    endOfDxe: s.flags.endOfDxe,
    readyToBoot: s.flags.readyToBoot,
    exitBootServices: s.flags.exitBootServices,
    getVariable: (guid, name) => s.store.get(guid, name),
  };
}
