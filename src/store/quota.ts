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
