import type { PcapRecord } from '../wire/pcap.js';
import { readMmHeader, MM_HEADER_SIZE, functionName, VarFunction, Access, GetNext } from '../wire/mm.js';
import { Guids, guidAt } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';
import { statusName } from '../wire/status.js';
import { u64NumAt } from '../wire/reader.js';
import { isDeviationReason } from '../store/reasons.js';
import { isPolicyDeviation, PolicyReasons, type PolicyReason } from '../policy/reasons.js';
import type { MmHandler, MmResult } from './mm-handler.js';
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE } from './options.js';

export interface ReplayDifference {
  /** 0-based request index in the trace. */
  index: number;
  function: string;
  variable: string;
  what: string;
  /** Our answer differs on purpose (docs/deviations.md). */
  deviation: boolean;
  reason?: string | undefined;
}

export interface ReplayReport {
  requests: number;
  differences: ReplayDifference[];
  /** Differences not explained by a documented deviation. */
  mismatches: number;
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
 */
export async function replayTrace(records: readonly PcapRecord[], target: ReplayTarget | MmHandler, initialBufferSize = DEFAULT_BUFFER_SIZE): Promise<ReplayReport> {
  const differences: ReplayDifference[] = [];
  let bufferSize = initialBufferSize;
  let index = 0;
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
    if (what) {
      differences.push({
        index, function: describeFunction(rec.bytes), variable: describeVariable(rec.bytes), what,
        deviation: isDeviationReason(result.reason) || (result.reason !== undefined && result.reason in PolicyReasons && isPolicyDeviation(result.reason as PolicyReason)),
        reason: result.reason,
      });
    }
    index++;
  }
  const deviations = differences.filter((d) => d.deviation).length;
  return { requests: index, differences, deviations, mismatches: differences.length - deviations };
}

function payloadSizeBufferHint(req: Uint8Array, reply: Uint8Array): number | undefined {
  if (req.length < MM_HEADER_SIZE + 24 || reply.length !== req.length) return undefined;
  const h = readMmHeader(req);
  if (h.guid !== Guids.smmVariable) return undefined;
  const v = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  if (v.getBigUint64(MM_HEADER_SIZE, true) !== BigInt(VarFunction.GET_PAYLOAD_SIZE)) return undefined;
  if (v.getBigUint64(MM_HEADER_SIZE + 8, true) !== 0n) return undefined;
  const size = u64NumAt(v, MM_HEADER_SIZE + 16) + 40;
  return size <= MAX_BUFFER_SIZE ? size : undefined;
}

function compareReplies(req: Uint8Array, got: Uint8Array | undefined, expected: Uint8Array | undefined): string | undefined {
  if (!expected) return got ? undefined : undefined;
  if (!got) return 'no reply (refused before dispatch), QEMU replied';
  if (got.length !== expected.length) return `reply length ${got.length}, expected ${expected.length}`;
  let first = -1;
  for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) { first = i; break; }
  if (first < 0) return undefined;
  const h = req.length >= MM_HEADER_SIZE ? readMmHeader(req) : undefined;
  if (h?.guid === Guids.smmVariable && got.length >= MM_HEADER_SIZE + 16) {
    const gs = new DataView(got.buffer, got.byteOffset).getBigUint64(MM_HEADER_SIZE + 8, true);
    const es = new DataView(expected.buffer, expected.byteOffset).getBigUint64(MM_HEADER_SIZE + 8, true);
    if (gs !== es) return `status ${statusName(gs)}, expected ${statusName(es)}`;
  }
  return `reply differs from byte ${first} (got 0x${got[first]!.toString(16).padStart(2, '0')}, expected 0x${expected[first]!.toString(16).padStart(2, '0')})`;
}

export function describeFunction(req: Uint8Array): string {
  if (req.length < MM_HEADER_SIZE) return 'short buffer';
  const h = readMmHeader(req);
  switch (h.guid) {
    case Guids.smmVariable: {
      if (req.length < MM_HEADER_SIZE + 8) return 'SmmVariable (short)';
      const v = new DataView(req.buffer, req.byteOffset, req.byteLength);
      return functionName(v.getUint32(MM_HEADER_SIZE + 4, true) === 0 ? v.getUint32(MM_HEADER_SIZE, true) : -1);
    }
    case Guids.varCheckPolicy: return 'VarCheckPolicy';
    case Guids.endOfDxe: return 'event EndOfDxe';
    case Guids.readyToBoot: return 'event ReadyToBoot';
    case Guids.exitBootServices: return 'event ExitBootServices';
    default: return `unknown MM GUID ${h.guid}`;
  }
}

export function describeVariable(req: Uint8Array): string {
  if (req.length < MM_HEADER_SIZE + 16) return '-';
  const h = readMmHeader(req);
  if (h.guid !== Guids.smmVariable) return '-';
  const m = req.subarray(MM_HEADER_SIZE);
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const fn = v.getUint32(0, true);
  const at = fn === VarFunction.GET_NEXT_VARIABLE_NAME || fn === VarFunction.LOCK_VARIABLE ? GetNext : fn <= 3 ? Access : undefined;
  if (!at || m.length < at.name) return '-';
  const nameSize = Math.min(u64NumAt(v, 'dataSize' in at ? Access.nameSize : GetNext.nameSize), m.length - at.name);
  return `${nameKey(m, at.name, nameSize)} ${guidAt(m, at.guid)}`;
}
