import { type GuidText } from '../wire/guid.js';
import { ENTRY_HEADER_SIZE, LockType, MAX_ENTRY_SIZE, encodeBasicEntry, validateEntry, type PolicyEntry } from './entry.js';
import { sameTarget } from './match.js';
import type { PolicyReason } from './reasons.js';
import { type PolicyContext, type PolicyState, type ResolvedPolicyOptions, interfaceLocked } from './types.js';

/**
 * Validate and add one policy (edk2 RegisterVariablePolicy after its lock check):
 * structure first, then the duplicate test, then append. Nothing changes on refusal.
 */
export function addPolicy(s: PolicyState, raw: Uint8Array): PolicyReason | undefined {
  const entry = validateEntry(raw);
  if (typeof entry === 'string') return entry;
  if (s.entries.some((e) => sameTarget(e, entry))) return 'duplicate-policy';
  if (s.entries.length >= POLICY_TABLE_LIMITS.entries || tableSize(s.entries) + raw.length > POLICY_TABLE_LIMITS.bytes) return 'policy-table-full';
  s.entries.push(entry);
  return undefined;
}

/** OVMF registers about a dozen policies per boot; these bounds leave ample room. */
export const POLICY_TABLE_LIMITS = { entries: 1024, bytes: 256 * 1024 } as const;

function tableSize(entries: readonly PolicyEntry[]): number {
  let n = 0;
  for (const e of entries) n += e.raw.length;
  return n;
}

/** The concatenated table, as DUMP returns it (edk2 DumpVariablePolicy). */
export function tableBytes(entries: readonly PolicyEntry[]): Uint8Array {
  let n = 0;
  for (const e of entries) n += e.raw.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const e of entries) { out.set(e.raw, at); at += e.raw.length; }
  return out;
}

/**
 * The legacy variable lock (SMM function 8), as edk2 does it: refused once EndOfDxe
 * has happened (SmmVariableHandler), otherwise VariableLockRequestToLock turns it
 * into a LOCK_NOW policy for exactly that name (CreateBasicVariablePolicy). If an
 * exact policy for the name exists already, the request succeeds when that policy
 * is LOCK_NOW (IsVariableAlreadyLocked) and is EFI_ALREADY_STARTED otherwise.
 *
 * The name is taken up to its first NUL or the end of NameSize, whichever comes
 * first (QEMU compares names the same way); a trailing odd byte is ignored.
 */
export function lockVariableName(
  s: PolicyState, o: ResolvedPolicyOptions, guid: GuidText, rawName: Uint8Array, ctx: PolicyContext,
): PolicyReason | undefined {
  if (ctx.endOfDxe) return 'lock-after-end-of-dxe';
  // spec §2.5.5 step 2: the entry's Size is a u16 (newer QEMU checks the raw NameSize).
  if (ENTRY_HEADER_SIZE + rawName.length > MAX_ENTRY_SIZE) return 'lock-name-too-long';
  if (interfaceLocked(s, o, ctx)) {
    s.mark = 'lock-variable-refused'; // QEMU answers function 8 with EFI_SUCCESS after a LOCK too (P8)
    return 'interface-locked';
  }
  let name = '';
  for (let o2 = 0; o2 + 1 < rawName.length; o2 += 2) {
    const u = rawName[o2]! | (rawName[o2 + 1]! << 8);
    if (u === 0) break;
    name += String.fromCharCode(u);
  }
  const raw = encodeBasicEntry({ namespace: guid, name, lockType: LockType.LOCK_NOW });
  if (!raw) return 'lock-name-too-long';
  const refused = addPolicy(s, raw);
  if (refused !== 'duplicate-policy') return refused;
  const existing = s.entries.find((e) => e.namespace === guid && e.name === name);
  return existing?.lockType === LockType.LOCK_NOW ? undefined : 'duplicate-policy';
}
