import type { Variable } from './variable.js';

/**
 * QEMU accounts every variable (volatile, internal and NV alike) as
 * sizeof(struct uefi_variable) on an LP64 host + NameSize + DataSize + digest
 * (spec §3.8). Reproduced exactly so QueryVariableInfo and OUT_OF_RESOURCES
 * match QEMU byte for byte.
 */
export const VARIABLE_OVERHEAD = 96;

export function variableCost(v: Pick<Variable, 'name' | 'data' | 'digest'>): number {
  return VARIABLE_OVERHEAD + v.name.length + v.data.length + (v.digest ? v.digest.length : 0);
}

/** Storage accounted for a set of variables: the sum QueryVariableInfo subtracts (spec §3.8). */
export function storageUsed(vars: Iterable<Pick<Variable, 'name' | 'data' | 'digest'>>): number {
  let n = 0;
  for (const v of vars) n += variableCost(v);
  return n;
}

export interface StorageInfo { maxStorage: number; remaining: number; maxVariableSize: number }

/**
 * QUERY_VARIABLE_INFO's three figures (spec §2.5.4): one pool of `size` bytes
 * whatever the attributes, remaining clamped at zero (a loaded store may start
 * over quota), and QEMU's maximum variable size of a quarter of the pool.
 */
export function storageInfo(used: number, size: number): StorageInfo {
  return { maxStorage: size, remaining: Math.max(0, size - used), maxVariableSize: Math.floor(size / 4) };
}
