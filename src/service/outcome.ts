import { EfiStatus } from '../wire/status.js';
import { type Reason, reasonStatus } from '../store/reasons.js';

/**
 * A handler's answer: the EFI status, the named reason behind a failure, and the
 * response length L it produced (spec §2.3: if MessageLength < L the status
 * becomes EFI_BUFFER_TOO_SMALL).
 */
export interface Outcome {
  status: bigint;
  reason: string | undefined;
  responseLength: number;
}

/** The 16-byte function header alone: every early error answers with L = 16. */
export const HEADER_ONLY = 16;

export function ok(responseLength: number): Outcome {
  return { status: EfiStatus.SUCCESS, reason: undefined, responseLength };
}

export function fail(reason: Reason, responseLength = HEADER_ONLY): Outcome {
  return { status: reasonStatus(reason), reason, responseLength };
}

export function withStatus(status: bigint, reason: string | undefined, responseLength = HEADER_ONLY): Outcome {
  return { status, reason: status === EfiStatus.SUCCESS ? undefined : reason, responseLength };
}
