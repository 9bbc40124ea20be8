import { EfiStatus } from '../wire/status.js';
import type { DeviationId } from '../store/deviations.js';
import { type Reason, statusOf, reasonDeviation } from './reasons.js';

/**
 * A handler's answer: the EFI status, the named reason behind a failure, and the
 * response length L it produced (spec §2.3: if MessageLength < L the status
 * becomes EFI_BUFFER_TOO_SMALL). `deviation` is set when the decision behind the
 * answer is a documented deviation from QEMU (store/deviations.ts), success or not.
 */
export interface Outcome {
  status: bigint;
  reason: Reason | undefined;
  responseLength: number;
  deviation?: DeviationId | undefined;
}

/** The 16-byte function header alone: every early error answers with L = 16. */
export const HEADER_ONLY = 16;

export function ok(responseLength: number, deviation?: DeviationId): Outcome {
  return { status: EfiStatus.SUCCESS, reason: undefined, responseLength, ...(deviation ? { deviation } : {}) };
}

export function fail(reason: Reason, responseLength = HEADER_ONLY, deviation?: DeviationId): Outcome {
  const d = deviation ?? reasonDeviation(reason);
  return { status: statusOf(reason), reason, responseLength, ...(d ? { deviation: d } : {}) };
}

/** A layer's decision (a reason, or none for success) as the outcome of a handler. */
export function decided(reason: Reason | undefined, responseLength = HEADER_ONLY, deviation?: DeviationId): Outcome {
  if (reason === undefined) return ok(responseLength, deviation);
  return { status: statusOf(reason), reason, responseLength, ...(deviation ? { deviation } : {}) };
}
