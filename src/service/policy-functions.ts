import { guidAt } from '../wire/guid.js';
import { GetNext, VarFunction, type MessageView } from '../wire/mm.js';
import { type Outcome, fail, decided } from './outcome.js';
import { type ServiceState, policyContext } from './context.js';
import { DeviceStatus } from '../wire/status.js';
import { CommHeader, type PolicyContext, type PolicyDecision, type VariablePolicy } from '../policy/engine.js';
import { type MmReason, statusOf } from './reasons.js';

/** A VarCheckPolicy message's answer at the transport: CMD_STS, and the decision for logs and replay. */
export interface PolicyAnswer {
  deviceStatus: number;
  reason: MmReason | undefined;
  deviation: PolicyDecision['deviation'];
}

/**
 * One VarCheckPolicy message (spec §5.1), `msg` after the MM header: shorter than the
 * 20-byte header is device status 0x12; otherwise the engine decides and answers in
 * place, the status of its reason goes into Result (u64 at 12) and CMD_STS is 0x00.
 */
export function answerPolicyMessage(policy: VariablePolicy, msg: Uint8Array, ctx: PolicyContext): PolicyAnswer {
  if (msg.length < CommHeader.size) return { deviceStatus: DeviceStatus.ERR_BAD_BUFFER_SIZE, reason: 'message-too-short', deviation: undefined };
  const d = policy.handleMm(msg, ctx);
  new DataView(msg.buffer, msg.byteOffset, msg.byteLength).setBigUint64(CommHeader.result, statusOf(d.reason), true);
  return { deviceStatus: DeviceStatus.SUCCESS, reason: d.reason, deviation: d.deviation };
}

/** LOCK_VARIABLE (8), spec §2.5.5: size checks here, the lock itself in policy/. */
export function lockVariable(s: ServiceState, m: MessageView): Outcome {
  const f = m.nameFields();
  if (!f) return fail('message-too-short');
  const { nameSize } = f;
  if (GetNext.name + nameSize > m.length) return fail('field-past-message');
  // A policy entry's Size is a u16: 44 + NameSize must fit (newer QEMU; older corrupted its heap).
  if (44 + nameSize > 0xffff) return fail('field-past-message');
  const name = m.bytes.slice(GetNext.name, GetNext.name + nameSize);
  const d = s.policy.lockVariable(guidAt(m.bytes, GetNext.guid), name, policyContext(s));
  return decided(d.reason, GetNext.name + nameSize, d.deviation);
}

/** Functions 7, 9, 10 as edk2 answers them (option edk2VarCheck; QEMU: EFI_UNSUPPORTED). */
export function varCheckFunction(s: ServiceState, fn: number, m: MessageView): Outcome {
  const ctx = policyContext(s);
  const r = fn === VarFunction.GET_STATISTICS ? s.policy.getStatistics(m.bytes, ctx)
    : fn === VarFunction.VAR_CHECK_VARIABLE_PROPERTY_SET ? s.policy.setVariableProperty(m.bytes, ctx)
      : s.policy.getVariableProperty(m.bytes, ctx);
  return decided(r.reason, r.responseLength, r.deviation);
}
