import type { GuidText } from '../wire/guid.js';
import { MAX_WILDCARDS, type PolicyEntry } from './entry.js';

/** Match priorities (edk2 VariablePolicyLib): lower is more specific. */
export const PRIORITY_EXACT = 0;
/** A namespace-wide policy ranks last; wildcard counts saturate here too (edk2 MATCH_PRIORITY_MIN). */
export const PRIORITY_NAMESPACE = MAX_WILDCARDS;

const HASH = 0x23;

/** '#' in a policy name stands for one of 0-9 A-F a-f (edk2 EvaluatePolicyMatch, spec §5.4). */
export function isHexDigit(u: number): boolean {
  return (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x46) || (u >= 0x61 && u <= 0x66);
}

/**
 * The priority with which `pattern` matches `name`, or undefined for no match
 * (edk2 EvaluatePolicyMatch): equal length, every unit equal except that a '#'
 * in the pattern takes exactly one hex digit and costs one priority step. A '#'
 * in the variable name is not a hex digit, so it is never matched by a wildcard.
 */
export function namePriority(pattern: string, name: string): number | undefined {
  if (pattern.length !== name.length) return undefined;
  let priority = PRIORITY_EXACT;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern.charCodeAt(i);
    const v = name.charCodeAt(i);
    if (p === HASH) {
      if (!isHexDigit(v)) return undefined;
      if (priority < PRIORITY_NAMESPACE) priority++;
    } else if (p !== v) {
      return undefined;
    }
  }
  return priority;
}

/**
 * How `entry` applies to the variable (guid, name): namespace first, then a
 * namespace-wide policy matches every name at the lowest priority (edk2; QEMU's
 * string compare never matches it, spec §5.4 [BUG]).
 */
export function matchPriority(entry: PolicyEntry, guid: GuidText, name: string): number | undefined {
  if (entry.namespace !== guid) return undefined;
  if (entry.name === undefined) return PRIORITY_NAMESPACE;
  return namePriority(entry.name, name);
}

export interface Match {
  readonly entry: PolicyEntry;
  readonly priority: number;
}

/**
 * The single policy that judges a variable (edk2 GetBestPolicyMatch): the lowest
 * priority wins; on a tie the first registered one; an exact match ends the search.
 */
export function bestMatch(entries: readonly PolicyEntry[], guid: GuidText, name: string): Match | undefined {
  let best: Match | undefined;
  for (const entry of entries) {
    const priority = matchPriority(entry, guid, name);
    if (priority === undefined) continue;
    if (!best || priority < best.priority) best = { entry, priority };
    if (priority === PRIORITY_EXACT) break;
  }
  return best;
}

/**
 * REGISTER refuses a policy for the same target as an existing one: same
 * namespace and exactly equal name, or both namespace-wide (QEMU find_policy,
 * spec §5.3 step 8; trace policy-register seq 4-5). edk2 asks instead whether an
 * existing policy matches the new name with exact priority, which for names
 * without '#' is the same test.
 */
export function sameTarget(a: PolicyEntry, b: PolicyEntry): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}
