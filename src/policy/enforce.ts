import { Attr } from '../wire/attributes.js';
import { nameKey } from '../wire/ucs2.js';
import { LockType, type PolicyEntry } from './entry.js';
import { bestMatch } from './match.js';
import type { PolicyReason } from './reasons.js';
import { checkProperty } from './var-check.js';
import type { PolicyCheck, PolicyContext, PolicyState } from './types.js';

/**
 * SetVariable step 8.4 (spec §5.5), as edk2's VarCheckLibSetVariableCheck runs it:
 * nothing before EndOfDxe; then the VarCheck property of the variable, then (unless
 * DISABLE succeeded) the best-matching variable policy (ValidateSetVariable).
 */
export function judgeWrite(s: PolicyState, w: PolicyCheck, ctx: PolicyContext): PolicyReason | undefined {
  if (!ctx.endOfDxe) return undefined;
  const name = nameKey(w.name);
  const property = checkProperty(s.properties.get(w.guid, name, true), w.attributes, w.dataSize);
  if (property) {
    s.mark = 'varcheck-functions'; // properties exist only through edk2's function 9 (P9)
    return property;
  }
  if (s.disabled) return undefined;

  const match = bestMatch(s.entries, w.guid, name);
  if (!match) return undefined;
  const e = match.entry;
  const verdict = policyVerdict(e, w, ctx);
  // Where QEMU would decide otherwise, the decision is a documented deviation, whatever
  // it answers: QEMU never matches a namespace-only policy (P5), never locks on a
  // variable's state (P4), and checks deletes and attributes its own way (P6).
  if (e.name === undefined) {
    if (verdict) s.mark = 'namespace-policy';
  } else if (verdict === 'locked-on-var-state') {
    s.mark = 'lock-on-var-state-layout';
  } else if (qemuSizeAttributeVerdict(e, w) !== sizeAttributeVerdict(e, w)) {
    s.mark = 'policy-delete-checks';
  }
  return verdict;
}

function policyVerdict(e: PolicyEntry, w: PolicyCheck, ctx: PolicyContext): PolicyReason | undefined {
  const sizeAttributes = sizeAttributeVerdict(e, w);
  if (sizeAttributes) return sizeAttributes;
  switch (e.lockType) {
    case LockType.LOCK_NOW:
      return 'locked-now';
    case LockType.LOCK_ON_CREATE:
      // edk2 probes with GetVariable; the service tells us whether the variable exists.
      return w.exists ? 'locked-on-create' : undefined;
    case LockType.LOCK_ON_VAR_STATE:
      return e.state ? lockedByState(e.state.namespace, e.state.name, e.state.value, ctx) : undefined;
    default:
      return undefined;
  }
}

/**
 * edk2 ValidateSetVariable checks size and attributes only when the write is not
 * a delete, and calls it a delete when DataSize is 0 without APPEND_WRITE. The
 * attributes compared are the guest's, APPEND_WRITE included.
 */
function sizeAttributeVerdict(e: PolicyEntry, w: PolicyCheck): PolicyReason | undefined {
  const isDelete = w.dataSize === 0 && (w.attributes & Attr.AP) === 0;
  if (isDelete) return undefined;
  return sizeAttributeProblem(e, w.dataSize, w.attributes);
}

/**
 * QEMU's version of the same checks (spec §5.5 [DIFF]): on a delete the old
 * variable's size and attributes, and APPEND_WRITE stripped. Only used to tell
 * whether our decision is the documented deviation P6.
 */
function qemuSizeAttributeVerdict(e: PolicyEntry, w: PolicyCheck): PolicyReason | undefined {
  if (w.isDelete) {
    if (w.oldDataSize === undefined || w.oldAttributes === undefined) return undefined;
    return sizeAttributeProblem(e, w.oldDataSize, w.oldAttributes & ~Attr.AP);
  }
  return sizeAttributeProblem(e, w.dataSize, w.attributes & ~Attr.AP);
}

function sizeAttributeProblem(e: PolicyEntry, dataSize: number, attributes: number): PolicyReason | undefined {
  if (e.minSize > 0 && dataSize < e.minSize) return 'policy-size-too-small';
  if (e.maxSize > 0 && dataSize > e.maxSize) return 'policy-size-too-large';
  if (((e.mustHave & attributes) >>> 0) !== e.mustHave) return 'policy-attributes-must-have';
  if ((e.cantHave & attributes) !== 0) return 'policy-attributes-cant-have';
  return undefined;
}

/**
 * LOCK_ON_VAR_STATE (edk2 layout, spec §5.3): locked when the state variable exists,
 * holds exactly one byte, and that byte is Value. A missing or differently sized
 * state variable leaves the variable writable; a probe that fails in any other way
 * fails closed (edk2 returns EFI_ABORTED).
 */
function lockedByState(guid: string, stateName: Uint8Array, value: number, ctx: PolicyContext): PolicyReason | undefined {
  let v;
  try {
    v = ctx.getVariable(guid, stateName);
  } catch {
    return 'state-probe-failed';
  }
  return v && v.data.length === 1 && v.data[0] === value ? 'locked-on-var-state' : undefined;
}
