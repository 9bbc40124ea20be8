/**
 * The daemon's frame codec (docs/protocol.md). Every frame is
 *   length u32 LE (bytes after this field: type + payload) ‖ type u8 ‖ payload.
 * Both sides are hostile to each other, so the decoder checks the length
 * against MAX_FRAME_LENGTH before it allocates anything for the frame, and
 * every payload decoder checks the exact size its type allows.
 */

/** Protocol version carried in HELLO / HELLO_OK. */
export const PROTOCOL_VERSION = 1;

/** The largest MM communicate buffer a guest can negotiate (QEMU clamps BUFFER_SIZE, spec §1.5). */
import { MAX_BUFFER_SIZE } from '../../service/options.js';
/** The largest MM buffer a frame carries: QEMU's BUFFER_SIZE clamp (spec §1.5). */
export const MAX_MM_BUFFER = MAX_BUFFER_SIZE;

/**
 * Largest value of the length field. Fits the biggest legitimate frame
 * (MM_REPLY: 2 + a 64-byte reason + a 64 KiB buffer) with room to spare, and
 * keeps one frame's allocation bounded whatever a peer claims.
 */
export const MAX_FRAME_LENGTH = MAX_MM_BUFFER + 256;

export const LENGTH_FIELD_SIZE = 4;

/** Frame types. Client → daemon below 0x80, daemon → client at 0x80 and above. */
export const FrameType = {
  HELLO: 0x01,
  MM_REQUEST: 0x02,
  RESET: 0x03,
  MMIO_READ: 0x04,
  MMIO_WRITE: 0x05,
  MEM_DATA: 0x06,
  MEM_WRITE_OK: 0x07,
  MEM_ERROR: 0x08,
  HELLO_OK: 0x81,
  MM_REPLY: 0x82,
  RESET_OK: 0x83,
  MMIO_READ_OK: 0x84,
  MMIO_WRITE_OK: 0x85,
  MEM_READ: 0x86,
  MEM_WRITE: 0x87,
  ERROR: 0xff,
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

const TYPE_NAMES = new Map<number, string>(Object.entries(FrameType).map(([k, v]) => [v, k]));
export function frameTypeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `0x${t.toString(16).padStart(2, '0')}`;
}

/** ERROR codes. `fatal` ones are followed by the daemon closing the connection. */
export const ErrorCode = {
  UNSUPPORTED_VERSION: 1,
  BAD_VM_ID: 2,
  HELLO_REQUIRED: 3,
  UNEXPECTED_FRAME: 4,
  MALFORMED_FRAME: 5,
  FRAME_TOO_LARGE: 6,
  STORE_UNAVAILABLE: 7,
  BUSY: 8,
  SHUTTING_DOWN: 9,
  INTERNAL: 10,
  TIMEOUT: 11,
  TOO_MANY_CONNECTIONS: 12,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));
export function errorCodeName(c: number): string {
  return ERROR_NAMES.get(c) ?? `error ${c}`;
}

/** Longest reason string carried in MM_REPLY (the service's reasons are short names). */
export const MAX_REASON_LENGTH = 64;
/** Longest ERROR message; longer text is cut. */
export const MAX_ERROR_MESSAGE = 200;
/** VM ids: a file name stem in --state-dir mode, so no separators, no leading dot. */
export const VM_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** A decoding failure that ends the connection, by name (logs, metrics). */
export type FrameFault = 'frame-too-large' | 'frame-empty' | 'malformed-frame';

export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(readonly fault: FrameFault, message: string) {
    super(message);
  }
}

export interface Frame {
  type: number;
  payload: Uint8Array;
}

/**
 * Incremental decoder: feed socket chunks, get whole frames. The caller may
 * reuse a chunk's memory as soon as push() returns (the daemon reads every
 * connection into one shared buffer): bytes held over for an incomplete frame
 * are copied then, and a returned frame may be a view of the chunk, valid as
 * long as the chunk is. A frame that arrives in pieces is joined once it is
 * complete, into a copy sized by a length already checked.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private need: number | undefined;

  constructor(private readonly maxLength = MAX_FRAME_LENGTH) {}

  /** Bytes held for a frame not yet complete (a test hook for "nothing was allocated"). */
  get pendingBytes(): number { return this.buffered; }

  /** Append a chunk; return every frame now complete. Throws FrameError on a bad length. */
  push(chunk: Uint8Array): Frame[] {
    // The common case — nothing held over, the chunk holds exactly one whole frame — in one step.
    // Not while a length read earlier is waiting for its body: then the chunk starts with that
    // body, not with a length field (fuzz/corpus/frames/regress-split-header-*).
    if (this.buffered === 0 && this.need === undefined && chunk.length >= LENGTH_FIELD_SIZE + 1) {
      const length = lengthAt(chunk, 0);
      if (length + LENGTH_FIELD_SIZE === chunk.length && length <= this.maxLength) {
        const body = new Uint8Array(chunk.buffer, chunk.byteOffset + LENGTH_FIELD_SIZE, length);
        return [{ type: body[0]!, payload: body.subarray(1) }];
      }
    }
    // A plain Uint8Array view of a Buffer: Buffer#slice would not copy, and callers rely on slice() copying.
    if (chunk.length > 0) { this.chunks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)); this.buffered += chunk.length; }
    const out: Frame[] = [];
    for (;;) {
      if (this.need === undefined) {
        if (this.buffered < LENGTH_FIELD_SIZE) { this.own(chunk); return out; }
        const head = this.take(LENGTH_FIELD_SIZE);
        const length = lengthAt(head, 0);
        // A refused length ends the stream: drop what is held, so nothing outlives the refusal.
        if (length === 0) { this.drop(); throw new FrameError('frame-empty', 'frame length 0: a frame has at least its type byte'); }
        if (length > this.maxLength) {
          this.drop();
          throw new FrameError('frame-too-large', `frame length ${length} exceeds the limit of ${this.maxLength}`);
        }
        this.need = length;
      }
      if (this.buffered < this.need) { this.own(chunk); return out; }
      const body = this.take(this.need);
      this.need = undefined;
      out.push({ type: body[0]!, payload: body.subarray(1) });
    }
  }

  /**
   * Keep no view of the caller's chunk past push(): copy the bytes held over.
   * Every earlier entry was copied when its own push() returned, so only the last
   * one can still be a view of `chunk`; checking them all made a peer that sends a
   * frame a byte at a time cost O(n²) (fuzz/corpus/frames: 254 s of CPU for one
   * 64 KiB frame). Many small pieces are joined into one copy, so the list stays
   * short and a trickled frame holds its bytes, not thousands of tiny arrays.
   */
  private own(chunk: Uint8Array): void {
    const last = this.chunks.length - 1;
    if (last >= 0 && this.chunks[last]!.buffer === chunk.buffer) this.chunks[last] = this.chunks[last]!.slice();
    if (this.chunks.length > MAX_HELD_PIECES) {
      const joined = this.take(this.buffered);
      this.chunks = [joined];
      this.buffered = joined.length;
    }
  }

  private drop(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  /** Remove and return the first n buffered bytes (caller checked n ≤ buffered). */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const part = first.subarray(0, n);
      if (first.length === n) this.chunks.shift(); else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      // A view, not a copy: what push() held over was copied (own), the rest is the current chunk.
      return part;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift(); else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

/** Held-over pieces joined into one once there are more than this many (see own()). */
const MAX_HELD_PIECES = 32;

/** The u32 LE length field at `at` (caller checked 4 bytes are there). */
function lengthAt(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Write the u32 LE length field at the start of a frame. */
function putLength(b: Uint8Array, n: number): void {
  b[0] = n & 0xff; b[1] = (n >>> 8) & 0xff; b[2] = (n >>> 16) & 0xff; b[3] = n >>> 24;
}

/** One frame on the wire. */
export function encodeFrame(type: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  // Buffer.allocUnsafe carves small frames out of Node's pool (every byte is written below).
  const pooled = Buffer.allocUnsafe(LENGTH_FIELD_SIZE + 1 + n);
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.length);
  putLength(out, 1 + n);
  out[4] = type;
  let off = 5;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

function fixed(size: number, fill: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer));
  return b;
}

const ascii = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: false });

// ---------------------------------------------------------------------------------------
// Payload layouts (docs/protocol.md §3). Decoders throw FrameError('malformed-frame').

function malformed(what: string): FrameError {
  return new FrameError('malformed-frame', what);
}

function view(p: Uint8Array): DataView {
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

export interface Hello { version: number; flags: number; vmId: string }

export function encodeHello(vmId: string, version = PROTOCOL_VERSION): Uint8Array {
  return encodeFrame(FrameType.HELLO, fixed(4, (v) => { v.setUint16(0, version, true); v.setUint16(2, 0, true); }), ascii.encode(vmId));
}

/** The id is returned as sent (latin1 view of the bytes); the caller checks VM_ID_PATTERN. */
export function decodeHello(p: Uint8Array): Hello {
  // Longer than a valid id on purpose: a 65-byte id is answered BAD_VM_ID, which tells the VMM more.
  if (p.length < 5 || p.length > 4 + 255) throw malformed(`HELLO payload of ${p.length} bytes (expected 5..259)`);
  const v = view(p);
  let vmId = '';
  for (let i = 4; i < p.length; i++) vmId += String.fromCharCode(p[i]!);
  return { version: v.getUint16(0, true), flags: v.getUint16(2, true), vmId };
}

export interface HelloOk { version: number; maxFrameLength: number }

export function encodeHelloOk(maxFrameLength = MAX_FRAME_LENGTH): Uint8Array {
  return encodeFrame(FrameType.HELLO_OK, fixed(8, (v) => {
    v.setUint16(0, PROTOCOL_VERSION, true); v.setUint16(2, 0, true); v.setUint32(4, maxFrameLength, true);
  }));
}

export function decodeHelloOk(p: Uint8Array): HelloOk {
  if (p.length !== 8) throw malformed(`HELLO_OK payload of ${p.length} bytes (expected 8)`);
  const v = view(p);
  return { version: v.getUint16(0, true), maxFrameLength: v.getUint32(4, true) };
}

export interface MmRequest { bufferSize: number; request: Uint8Array }

export function encodeMmRequest(request: Uint8Array, bufferSize: number): Uint8Array {
  return encodeFrame(FrameType.MM_REQUEST, fixed(4, (v) => v.setUint32(0, bufferSize >>> 0, true)), request);
}

export function decodeMmRequest(p: Uint8Array): MmRequest {
  if (p.length < 4) throw malformed(`MM_REQUEST payload of ${p.length} bytes (expected at least 4)`);
  if (p.length - 4 > MAX_MM_BUFFER) throw malformed(`MM_REQUEST carries ${p.length - 4} bytes, more than a ${MAX_MM_BUFFER}-byte buffer`);
  return { bufferSize: lengthAt(p, 0), request: p.subarray(4) };
}

export interface MmReply { deviceStatus: number; reason: string | undefined; reply: Uint8Array | undefined }

/** Reasons are a small fixed vocabulary (named reasons): encode each once. */
const encodedReasons = new Map<string, Uint8Array>();
const EMPTY = new Uint8Array(0);

function reasonBytes(reason: string | undefined): Uint8Array {
  if (!reason) return EMPTY;
  let r = encodedReasons.get(reason);
  if (!r) {
    r = ascii.encode(reason.slice(0, MAX_REASON_LENGTH));
    if (encodedReasons.size < 1024) encodedReasons.set(reason, r);
  }
  return r;
}

/** MM_REPLY, written field by field: it is the frame the daemon sends most. */
export function encodeMmReply(deviceStatus: number, reply: Uint8Array | undefined, reason: string | undefined): Uint8Array {
  const r = reasonBytes(reason);
  const body = reply ?? EMPTY;
  const length = 1 + 2 + r.length + body.length;
  // Buffer.allocUnsafe carves small frames out of Node's pool (every byte is written below).
  const pooled = Buffer.allocUnsafe(LENGTH_FIELD_SIZE + length);
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.length);
  putLength(out, length);
  out[4] = FrameType.MM_REPLY;
  out[5] = deviceStatus & 0xff;
  out[6] = r.length;
  if (r.length > 0) out.set(r, 7);
  out.set(body, 7 + r.length);
  return out;
}

export function decodeMmReply(p: Uint8Array): MmReply {
  if (p.length < 2) throw malformed(`MM_REPLY payload of ${p.length} bytes (expected at least 2)`);
  const rl = p[1]!;
  if (rl > MAX_REASON_LENGTH || 2 + rl > p.length) throw malformed(`MM_REPLY reason length ${rl} does not fit`);
  const reason = rl > 0 ? utf8.decode(p.subarray(2, 2 + rl)) : undefined;
  const bytes = p.subarray(2 + rl);
  return { deviceStatus: p[0]!, reason, reply: bytes.length > 0 ? bytes : undefined };
}

export interface MmioRead { offset: number; size: number }
export interface MmioWrite { offset: number; size: number; value: bigint }

/** Access sizes a CPU can make; the device model decides what each does (spec §1.2). */
const MMIO_SIZES = new Set([1, 2, 4, 8]);

export function encodeMmioRead(offset: number, size: number): Uint8Array {
  return encodeFrame(FrameType.MMIO_READ, fixed(8, (v) => { v.setUint32(0, offset, true); v.setUint32(4, size, true); }));
}

export function decodeMmioRead(p: Uint8Array): MmioRead {
  if (p.length !== 8) throw malformed(`MMIO_READ payload of ${p.length} bytes (expected 8)`);
  const v = view(p);
  const r = { offset: v.getUint32(0, true), size: v.getUint32(4, true) };
  if (!MMIO_SIZES.has(r.size)) throw malformed(`MMIO_READ size ${r.size} (expected 1, 2, 4 or 8)`);
  return r;
}

export function encodeMmioWrite(offset: number, size: number, value: bigint): Uint8Array {
  return encodeFrame(FrameType.MMIO_WRITE, fixed(16, (v) => {
    v.setUint32(0, offset, true); v.setUint32(4, size, true); v.setBigUint64(8, BigInt.asUintN(64, value), true);
  }));
}

export function decodeMmioWrite(p: Uint8Array): MmioWrite {
  if (p.length !== 16) throw malformed(`MMIO_WRITE payload of ${p.length} bytes (expected 16)`);
  const v = view(p);
  const w = { offset: v.getUint32(0, true), size: v.getUint32(4, true), value: v.getBigUint64(8, true) };
  if (!MMIO_SIZES.has(w.size)) throw malformed(`MMIO_WRITE size ${w.size} (expected 1, 2, 4 or 8)`);
  return w;
}

export function encodeMmioReadOk(value: bigint): Uint8Array {
  return encodeFrame(FrameType.MMIO_READ_OK, fixed(8, (v) => v.setBigUint64(0, BigInt.asUintN(64, value), true)));
}

export function decodeMmioReadOk(p: Uint8Array): bigint {
  if (p.length !== 8) throw malformed(`MMIO_READ_OK payload of ${p.length} bytes (expected 8)`);
  return view(p).getBigUint64(0, true);
}

export interface MemRead { addr: bigint; length: number }
export interface MemWrite { addr: bigint; bytes: Uint8Array }

export function encodeMemRead(addr: bigint, length: number): Uint8Array {
  return encodeFrame(FrameType.MEM_READ, fixed(12, (v) => { v.setBigUint64(0, addr, true); v.setUint32(8, length, true); }));
}

export function decodeMemRead(p: Uint8Array): MemRead {
  if (p.length !== 12) throw malformed(`MEM_READ payload of ${p.length} bytes (expected 12)`);
  const v = view(p);
  const r = { addr: v.getBigUint64(0, true), length: v.getUint32(8, true) };
  if (r.length > MAX_MM_BUFFER) throw malformed(`MEM_READ of ${r.length} bytes (at most ${MAX_MM_BUFFER})`);
  return r;
}

export function encodeMemWrite(addr: bigint, bytes: Uint8Array): Uint8Array {
  return encodeFrame(FrameType.MEM_WRITE, fixed(8, (v) => v.setBigUint64(0, addr, true)), bytes);
}

export function decodeMemWrite(p: Uint8Array): MemWrite {
  if (p.length < 8) throw malformed(`MEM_WRITE payload of ${p.length} bytes (expected at least 8)`);
  if (p.length - 8 > MAX_MM_BUFFER) throw malformed(`MEM_WRITE of ${p.length - 8} bytes (at most ${MAX_MM_BUFFER})`);
  return { addr: view(p).getBigUint64(0, true), bytes: p.subarray(8) };
}

export interface ErrorFrame { code: number; fatal: boolean; message: string }

export function encodeError(code: ErrorCodeValue, fatal: boolean, message: string): Uint8Array {
  const m = ascii.encode(message);
  const cut = m.length > MAX_ERROR_MESSAGE ? m.subarray(0, MAX_ERROR_MESSAGE) : m;
  return encodeFrame(FrameType.ERROR, fixed(3, (v) => { v.setUint16(0, code, true); v.setUint8(2, fatal ? 1 : 0); }), cut);
}

export function decodeError(p: Uint8Array): ErrorFrame {
  if (p.length < 3) throw malformed(`ERROR payload of ${p.length} bytes (expected at least 3)`);
  return { code: view(p).getUint16(0, true), fatal: p[2] !== 0, message: utf8.decode(p.subarray(3)) };
}

/** Frames whose payload must be empty. */
export function expectEmpty(f: Frame): void {
  if (f.payload.length !== 0) throw malformed(`${frameTypeName(f.type)} carries ${f.payload.length} bytes (expected none)`);
}
