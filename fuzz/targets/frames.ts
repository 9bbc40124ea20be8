/**
 * The daemon's frame decoder (src/daemon/protocol/frames.ts) and every payload decoder.
 * Input: u8 chunking seed, then the byte stream a VMM sends. Invariants: the
 * frames do not depend on how the stream is cut into socket reads, even when
 * the caller reuses its read buffer after every push (as the daemon does); only
 * FrameError escapes, and a refused stream leaves nothing held (a bad length must
 * not pin memory); every payload decoder either throws FrameError or returns
 * a value that encodes back to the same frame where the encoding is lossless.
 */
import {
  FrameDecoder, FrameError, FrameType, type Frame, MAX_FRAME_LENGTH,
  decodeHello, decodeHelloOk, decodeMmRequest, decodeMmReply, decodeMmioRead, decodeMmioWrite, decodeMmioReadOk,
  decodeMemRead, decodeMemWrite, decodeError, expectEmpty,
  encodeHello, encodeHelloOk, encodeMmRequest, encodeMmReply, encodeMmioRead, encodeMmioWrite, encodeMmioReadOk,
  encodeMemRead, encodeMemWrite, encodeError, encodeFrame, type ErrorCodeValue,
} from '../../src/daemon/protocol/frames.js';
import { Cursor, check, timed, bytesEqual, concat, traceRequests } from './harness.js';

type Outcome = { frames: Uint8Array[]; fault: string | undefined };

function frameBytes(f: Frame): Uint8Array {
  return encodeFrame(f.type, f.payload);
}

/** Whole stream in one push. */
function decodeWhole(stream: Uint8Array, max: number): Outcome {
  const d = new FrameDecoder(max);
  try {
    return { frames: d.push(stream).map((f) => frameBytes(f)), fault: undefined };
  } catch (e) {
    if (!(e instanceof FrameError)) throw e;
    check(d.pendingBytes === 0, `a refused stream (${e.fault}) left ${d.pendingBytes} bytes held`);
    return { frames: [], fault: e.fault };
  }
}

/** The stream in pieces through one reused scratch buffer, scribbled over after each push. */
function decodeChunked(stream: Uint8Array, cuts: Cursor, max: number): Outcome & { before: Uint8Array[] } {
  const d = new FrameDecoder(max);
  const scratch = new Uint8Array(Math.max(1, stream.length));
  const frames: Uint8Array[] = [];
  let off = 0;
  try {
    while (off < stream.length) {
      const n = Math.min(stream.length - off, 1 + (cuts.u8() % 64) * (1 + (cuts.u8() & 3) * 16));
      scratch.set(stream.subarray(off, off + n));
      const piece = scratch.subarray(0, n);
      for (const f of d.push(piece)) frames.push(frameBytes(f));
      piece.fill(0xa5); // the caller reuses its buffer: anything still viewing it sees garbage
      off += n;
    }
    check(d.pendingBytes <= stream.length, 'decoder holds more bytes than it was given');
    return { frames, fault: undefined, before: frames };
  } catch (e) {
    if (!(e instanceof FrameError)) throw e;
    check(d.pendingBytes === 0, `a refused stream (${e.fault}) left ${d.pendingBytes} bytes held`);
    return { frames, fault: e.fault, before: frames };
  }
}

const isAscii = (b: Uint8Array): boolean => b.every((x) => x < 0x80);

/** Decode one frame's payload by type; re-encode where nothing is lost and compare. */
function payload(f: Frame): void {
  const p = f.payload;
  const same = (enc: Uint8Array, why: string): void => check(bytesEqual(enc, frameBytes(f)), `${why}: decode -> encode changed the frame`);
  try {
    switch (f.type) {
      case FrameType.HELLO: {
        const h = decodeHello(p);
        if (h.flags === 0 && isAscii(p.subarray(4))) same(encodeHello(h.vmId, h.version), 'HELLO');
        break;
      }
      case FrameType.HELLO_OK: { const h = decodeHelloOk(p); if (p[2] === 0 && p[3] === 0 && h.version === 1) same(encodeHelloOk(h.maxFrameLength), 'HELLO_OK'); break; }
      case FrameType.MM_REQUEST: { const r = decodeMmRequest(p); same(encodeMmRequest(r.request, r.bufferSize), 'MM_REQUEST'); break; }
      case FrameType.MM_REPLY: {
        const r = decodeMmReply(p);
        const reason = p.subarray(2, 2 + p[1]!);
        if (isAscii(reason)) same(encodeMmReply(r.deviceStatus, r.reply, r.reason), 'MM_REPLY');
        break;
      }
      case FrameType.MMIO_READ: { const r = decodeMmioRead(p); same(encodeMmioRead(r.offset, r.size), 'MMIO_READ'); break; }
      case FrameType.MMIO_WRITE: { const w = decodeMmioWrite(p); same(encodeMmioWrite(w.offset, w.size, w.value), 'MMIO_WRITE'); break; }
      case FrameType.MMIO_READ_OK: { const v = decodeMmioReadOk(p); same(encodeMmioReadOk(v), 'MMIO_READ_OK'); break; }
      case FrameType.MEM_READ: { const r = decodeMemRead(p); same(encodeMemRead(r.addr, r.length), 'MEM_READ'); break; }
      case FrameType.MEM_WRITE: case FrameType.MEM_DATA: { const w = decodeMemWrite(p); if (f.type === FrameType.MEM_WRITE) same(encodeMemWrite(w.addr, w.bytes), 'MEM_WRITE'); break; }
      case FrameType.ERROR: {
        const e = decodeError(p);
        if (isAscii(p.subarray(3)) && p.length - 3 <= 200 && p[2]! <= 1) same(encodeError(e.code as ErrorCodeValue, e.fatal, e.message), 'ERROR');
        break;
      }
      case FrameType.RESET: case FrameType.RESET_OK: case FrameType.MMIO_WRITE_OK: case FrameType.MEM_WRITE_OK:
        expectEmpty(f);
        break;
      default:
        break;
    }
  } catch (e) {
    if (!(e instanceof FrameError) || e.fault !== 'malformed-frame') throw e;
  }
}

export function fuzz(input: Uint8Array): void {
  timed(() => {
    const c = new Cursor(input);
    const small = (c.u8() & 1) === 1;
    const max = small ? 300 : MAX_FRAME_LENGTH;
    const cutSeed = c.bytes(8);
    const stream = c.rest();
    const whole = decodeWhole(stream, max);
    const cut = decodeChunked(stream, new Cursor(concat([cutSeed, stream.subarray(0, 64)])), max);
    // A stream that fails is cut short at the bad length either way; the frames before it agree.
    check(whole.fault === cut.fault, `fault differs: whole ${whole.fault}, chunked ${cut.fault}`);
    if (whole.fault === undefined) {
      check(whole.frames.length === cut.frames.length, 'frame count depends on chunking');
      whole.frames.forEach((f, i) => check(bytesEqual(f, cut.frames[i]!), `frame ${i} depends on chunking`));
    }
    for (const f of pushSafe(new FrameDecoder(max), stream)) payload(f);
  });
}

function pushSafe(d: FrameDecoder, chunk: Uint8Array): Frame[] {
  try { return d.push(chunk); } catch (e) { if (e instanceof FrameError) return []; throw e; }
}

/** One frame of every type, well formed, and an MM_REQUEST for each of the first trace requests. */
export function seeds(): Uint8Array[] {
  const head = Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8);
  const frames = [
    encodeHello('vm-1'), encodeHelloOk(), encodeMmioRead(0, 2), encodeMmioWrite(8, 4, 0x1234n), encodeMmioReadOk(7n),
    encodeMemRead(0x1000n, 64), encodeMemWrite(0x2000n, new Uint8Array(16)), encodeError(5, true, 'bad'),
    encodeFrame(FrameType.RESET), encodeFrame(FrameType.RESET_OK), encodeMmReply(0, new Uint8Array(24), 'ok'),
    encodeFrame(FrameType.MEM_DATA, new Uint8Array(40)),
  ];
  const out = frames.map((f) => concat([head, f]));
  out.push(concat([head, ...frames]));
  out.push(concat([Uint8Array.of(1), head.subarray(1), ...frames]));
  for (const r of traceRequests().slice(0, 40)) out.push(concat([head, encodeHello('vm'), encodeMmRequest(r, 65536)]));
  return out;
}
