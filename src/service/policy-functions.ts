import { guidAt } from '../wire/guid.js';
import { GetNext, VarFunction, type MessageView } from '../wire/mm.js';
import { type Outcome, fail, withStatus } from './outcome.js';
import { type ServiceState, policyContext } from './context.js';

/** LOCK_VARIABLE (8), spec §2.5.5: size checks here, the lock itself in policy/. */
export function lockVariable(s: ServiceState, m: MessageView): Outcome {
  const f = m.nameFields();
  if (!f) return fail('message-too-short');
  const { nameSize } = f;
  if (GetNext.name + nameSize > m.length) return fail('field-past-message');
  // A policy entry's Size is a u16: 44 + NameSize must fit (newer QEMU; older corrupted its heap).
  if (44 + nameSize > 0xffff) return fail('field-past-message');
  const name = m.bytes.slice(GetNext.name, GetNext.name + nameSize);
  const st = s.policy.lockVariable(guidAt(m.bytes, GetNext.guid), name, policyContext(s));
  return withStatus(st, s.policy.lastReason ?? 'policy', GetNext.name + nameSize, s.policy.lastDeviation);
}

/** Functions 7, 9, 10 as edk2 answers them (option edk2VarCheck; QEMU: EFI_UNSUPPORTED). */
export function varCheckFunction(s: ServiceState, fn: number, m: MessageView): Outcome {
  const ctx = policyContext(s);
  const r = fn === VarFunction.GET_STATISTICS ? s.policy.getStatistics(m.bytes, ctx)
    : fn === VarFunction.VAR_CHECK_VARIABLE_PROPERTY_SET ? s.policy.setVariableProperty(m.bytes, ctx)
      : s.policy.getVariableProperty(m.bytes, ctx);
  return withStatus(r.status, r.reason ?? 'policy', r.responseLength, r.deviation);
}
