import { EfiStatus } from '../wire/status.js';
import { type Reason, reasonStatus, reasonDeviation } from '../store/reasons.js';
import type { DeviationId } from '../store/deviations.js';

/**
 * A handler's answer: the EFI status, the named reason behind a failure, and the
 * response length L it produced (spec §2.3: if MessageLength < L the status
 * becomes EFI_BUFFER_TOO_SMALL). `deviation` is set when the decision behind the
 * answer is a documented deviation from QEMU (store/deviations.ts), success or not.
 */
export interface Outcome {
  status: bigint;
  reason: string | undefined;
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
  return { status: reasonStatus(reason), reason, responseLength, ...(d ? { deviation: d } : {}) };
}

export function withStatus(status: bigint, reason: string | undefined, responseLength = HEADER_ONLY, deviation?: DeviationId): Outcome {
  return { status, reason: status === EfiStatus.SUCCESS ? undefined : reason, responseLength, ...(deviation ? { deviation } : {}) };
}
