import type { PcapRecord } from '../wire/pcap.js';
import {
  MM_HEADER_SIZE, VAR_HEADER_SIZE, VarFunction, PolicyCommand, PayloadSize, MessageView, peekRequest, replyStatusOf,
} from '../wire/mm.js';
import { statusName } from '../wire/status.js';
import type { MmReason } from '../service/reasons.js';
import { type DeviationId, describeDeviation } from '../store/deviations.js';
import type { MmHandler, MmResult } from '../service/mm-handler.js';
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE } from '../service/options.js';
import { describeFunction, describeVariable } from './describe.js';

export { describeFunction, describeVariable };

export interface ReplayDifference {
  /** 0-based request index in the trace. */
  index: number;
  function: string;
  variable: string;
  what: string;
  /** Our answer differs on purpose: the decision behind it is a documented deviation (docs/deviations.md). */
  deviation: boolean;
  /** Which one (store/deviations.ts), when `deviation`. */
  deviationId?: DeviationId | undefined;
  /**
   * A mismatch that comes after a documented deviation changed what the store holds
   * compared with QEMU's (a write one side took and the other refused, or took
   * differently): the index of that request. Still a mismatch; says where to look.
   */
  follows?: number | undefined;
  /** The named reason of our answer (service/reasons.ts). */
  reason?: MmReason | undefined;
}

export interface ReplayReport {
  requests: number;
  differences: ReplayDifference[];
  /** Differences not explained by a documented deviation at that request (those that follow one included). */
  mismatches: number;
  /** Of the mismatches, those after a state-changing documented deviation (`follows` set). */
  followingDeviation: number;
  /** Mismatches no documented deviation explains: mismatches − followingDeviation. */
  unexplained: number;
  deviations: number;
}

/** How a request gets to the service: directly, through the device model, or a daemon. */
export interface ReplayTarget {
  process(request: Uint8Array, bufferSize: number): Promise<MmResult>;
  reset(): Promise<void>;
}

/**
 * Feed every request of a capture to `target` and compare each reply with the
 * recorded one, byte for byte. A reset record resets the device. The capture
 * does not record register writes, so the BUFFER_SIZE register is inferred from
 * the one place it shows: a successful GET_PAYLOAD_SIZE reply says buf_size − 40.
 *
 * A difference is a documented deviation when the service marked the decision
 * behind its answer as one (MmResult.deviation), whatever the status. From a
 * deviating request that can change state on and after which our state may no
 * longer be QEMU's, later mismatches are reported as following it.
 */
export async function replayTrace(records: readonly PcapRecord[], target: ReplayTarget | MmHandler, initialBufferSize = DEFAULT_BUFFER_SIZE): Promise<ReplayReport> {
  const differences: ReplayDifference[] = [];
  let bufferSize = initialBufferSize;
  let index = 0;
  let diverged: number | undefined;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (rec.type === 'reset') { await target.reset(); continue; }
    if (rec.type === 'reply') continue;
    const next = records[i + 1];
    const expectedFull = next?.type === 'reply' ? next.bytes : undefined;
    // A capture cut at snaplen hides the tail: compare what was captured.
    const cutAt = Math.min(rec.capturedLength ?? Infinity, next?.type === 'reply' ? next.capturedLength ?? Infinity : Infinity);
    const expected = expectedFull && cutAt < expectedFull.length ? expectedFull.subarray(0, cutAt) : expectedFull;
    const inferred = expected ? payloadSizeBufferHint(rec.bytes, expected) : undefined;
    if (inferred !== undefined) bufferSize = inferred;
    const result = await target.process(rec.bytes, bufferSize);
    const got = result.reply && expected && expected.length < result.reply.length && cutAt < result.reply.length ? result.reply.subarray(0, cutAt) : result.reply;
    const what = compareReplies(rec.bytes, got, expected);
    const deviationId = result.deviation;
    if (what) {
      differences.push({
        index, function: describeFunction(rec.bytes), variable: describeVariable(rec.bytes), what,
        deviation: deviationId !== undefined,
        ...(deviationId !== undefined ? { deviationId } : diverged !== undefined ? { follows: diverged } : {}),
        reason: result.reason,
      });
    }
    // A deviating write leaves our store unlike QEMU's when the replies differ (one side
    // refused) or when we accepted (an accepted deviation stores something QEMU would not).
    if (deviationId !== undefined && canChangeState(rec.bytes) && (what !== undefined || result.reason === undefined)) diverged = index;
    index++;
  }
  const deviations = differences.filter((d) => d.deviation).length;
  const mismatches = differences.length - deviations;
  const followingDeviation = differences.filter((d) => d.follows !== undefined).length;
  return { requests: index, differences, deviations, mismatches, followingDeviation, unexplained: mismatches - followingDeviation };
}

/** `[documented deviation: name-empty (#1), reason name-empty]`, `(follows deviation at request 7)`: the tail of a difference line. */
export function describeDifference(d: ReplayDifference): string {
  if (d.deviation && d.deviationId) return ` [documented deviation: ${describeDeviation(d.deviationId)}${d.reason ? `, reason ${d.reason}` : ''}]`;
  const reason = d.reason ? ` (${d.reason})` : '';
  return d.follows !== undefined ? `${reason} (follows deviation at request ${d.follows})` : reason;
}

/** Requests whose effect can outlast them: SetVariable, the lock and property writes, policy changes. */
function canChangeState(req: Uint8Array): boolean {
  const p = peekRequest(req);
  if (p.function !== undefined) {
    return p.function === VarFunction.SET_VARIABLE || p.function === VarFunction.LOCK_VARIABLE || p.function === VarFunction.VAR_CHECK_VARIABLE_PROPERTY_SET;
  }
  if (p.command !== undefined) {
    return p.command === PolicyCommand.REGISTER || p.command === PolicyCommand.DISABLE || p.command === PolicyCommand.LOCK;
  }
  return false;
}

/** A successful GET_PAYLOAD_SIZE reply says buf_size − 24 − 16 (spec §2.5.6): the BUFFER_SIZE the trace ran with. */
function payloadSizeBufferHint(req: Uint8Array, reply: Uint8Array): number | undefined {
  if (req.length < MM_HEADER_SIZE + PayloadSize.end || reply.length !== req.length) return undefined;
  if (peekRequest(req).target !== 'variable') return undefined;
  // The reply is read as the variable message the request was, whatever its own header says.
  const m = new MessageView(reply.subarray(MM_HEADER_SIZE));
  if (m.functionId !== VarFunction.GET_PAYLOAD_SIZE || replyStatusOf(reply, 'variable') !== 0n) return undefined;
  const size = m.u64(PayloadSize.size) + MM_HEADER_SIZE + VAR_HEADER_SIZE;
  return size <= MAX_BUFFER_SIZE ? size : undefined;
}

function compareReplies(req: Uint8Array, got: Uint8Array | undefined, expected: Uint8Array | undefined): string | undefined {
  if (!expected) return undefined;
  if (!got) return 'no reply (refused before dispatch), QEMU replied';
  if (got.length !== expected.length) return `reply length ${got.length}, expected ${expected.length}`;
  let first = -1;
  for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) { first = i; break; }
  if (first < 0) return undefined;
  if (peekRequest(req).target === 'variable') {
    const gs = replyStatusOf(got, 'variable'), es = replyStatusOf(expected, 'variable');
    if (gs !== undefined && es !== undefined && gs !== es) return `status ${statusName(gs)}, expected ${statusName(es)}`;
  }
  return `reply differs from byte ${first} (got 0x${got[first]!.toString(16).padStart(2, '0')}, expected 0x${expected[first]!.toString(16).padStart(2, '0')})`;
}
