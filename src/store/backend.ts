import type { Variable } from './variable.js';

/**
 * Where acknowledged non-volatile writes go: the storage seam under the
 * service, in the spirit of OpenVMM's uefi_nvram_storage trait. Implementations
 * (persist/: files, PostgreSQL) apply no UEFI rules; they keep what they are given.
 */
export interface StoreBackend {
  /** Durably record this exact list of NV variables, in order; resolve only once durable. */
  save(nonVolatile: readonly Variable[]): Promise<void>;
}
