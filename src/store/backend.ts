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

/**
 * Why a write the rules accepted still failed: the backend's save rejected, so the
 * service rolled the store back (an error leaves the store exactly as it was). The
 * persist layer's one reason toward the guest, named at the seam persist/ implements
 * (service/ may not import persist/); what went wrong inside (a full disk, PostgreSQL
 * ownership lost) is the backend's error, for the host's logs.
 */
export const PersistReasons = {
  'persist-failed': {},
} as const;

export type PersistReason = keyof typeof PersistReasons;
