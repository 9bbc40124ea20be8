/**
 * zlib (RFC 1950) around deflate (RFC 1951). Inflate is implemented here because
 * the AWS format uses a preset dictionary, which DecompressionStream cannot take,
 * and because it lets decoding stay synchronous and report byte offsets. Deflate
 * uses the platform's CompressionStream('deflate') (Node >= 18, current browsers),
 * or stored blocks where that is missing.
 */
import { StoreFormatError } from '../format-error.js';

/** Cap on inflated output: a variable store is far smaller; this stops a decompression bomb. */
const MAX_OUTPUT = 64 * 1024 * 1024;

/** Adler-32 (RFC 1950 §9). */
export function adler32(b: Uint8Array, start = 0, end = b.length): number {
  let a = 1;
  let s = 0;
  for (let i = start; i < end;) {
    const stop = Math.min(end, i + 3800); // keeps s below 2^31 before the modulo
    for (; i < stop; i++) { a += b[i]!; s += a; }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** Canonical Huffman code: number of codes per length and the symbols in code order (RFC 1951 §3.2.2). */
interface Huffman {
  counts: Uint16Array;
  symbols: Uint16Array;
}

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

class Inflater {
  private pos: number;
  private bitBuf = 0;
  private bitCount = 0;
  private out: Uint8Array;
  private outLen: number;

  /** `window`: bytes the stream may refer back to (a preset dictionary); they are not part of the result. */
  constructor(private readonly src: Uint8Array, start: number, private readonly window: Uint8Array) {
    this.pos = start;
    this.out = new Uint8Array(Math.max(1024, window.length + (src.length - start) * 4));
    this.out.set(window);
    this.outLen = window.length;
  }

  private fail(problem: string): never {
    throw new StoreFormatError(`offset 0x${this.pos.toString(16)}`, `bad compressed data: ${problem}`);
  }

  private bits(n: number): number {
    while (this.bitCount < n) {
      if (this.pos >= this.src.length) this.fail('stream ends early');
      this.bitBuf |= this.src[this.pos++]! << this.bitCount;
      this.bitCount += 8;
    }
    const v = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCount -= n;
    return v;
  }

  private room(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    if (this.outLen + n - this.window.length > MAX_OUTPUT) this.fail(`inflates to more than ${MAX_OUTPUT} bytes`);
    let size = this.out.length * 2;
    while (size < this.outLen + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.out.subarray(0, this.outLen));
    this.out = next;
  }

  private huffman(lengths: ArrayLike<number>, n: number): Huffman {
    const counts = new Uint16Array(16);
    for (let s = 0; s < n; s++) counts[lengths[s]!]!++;
    counts[0] = 0;
    let left = 1;
    for (let len = 1; len < 16; len++) {
      left = left * 2 - counts[len]!;
      if (left < 0) this.fail('over-subscribed Huffman code');
    }
    const offsets = new Uint16Array(16);
    for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len]! + counts[len]!;
    const symbols = new Uint16Array(n);
    for (let s = 0; s < n; s++) if (lengths[s]) symbols[offsets[lengths[s]!]!++] = s;
    return { counts, symbols };
  }

  /** Reads one symbol bit by bit: canonical codes of each length are consecutive integers. */
  private decode(h: Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      code |= this.bits(1);
      const count = h.counts[len]!;
      if (code - first < count) return h.symbols[index + code - first]!;
      index += count;
      first = (first + count) * 2;
      code *= 2;
    }
    return this.fail('invalid Huffman code');
  }

  private stored(): void {
    this.bitBuf = 0;
    this.bitCount = 0;
    if (this.pos + 4 > this.src.length) this.fail('stream ends early');
    const len = this.src[this.pos]! | (this.src[this.pos + 1]! << 8);
    const nlen = this.src[this.pos + 2]! | (this.src[this.pos + 3]! << 8);
    if ((len ^ 0xffff) !== nlen) this.fail('stored block length check failed');
    this.pos += 4;
    if (this.pos + len > this.src.length) this.fail('stream ends early');
    this.room(len);
    this.out.set(this.src.subarray(this.pos, this.pos + len), this.outLen);
    this.outLen += len;
    this.pos += len;
  }

  private codes(lit: Huffman, dist: Huffman): void {
    for (;;) {
      const sym = this.decode(lit);
      if (sym < 256) {
        this.room(1);
        this.out[this.outLen++] = sym;
      } else if (sym === 256) {
        return;
      } else {
        const li = sym - 257;
        if (li >= 29) this.fail(`invalid length symbol ${sym}`);
        const length = LENGTH_BASE[li]! + this.bits(LENGTH_EXTRA[li]!);
        const di = this.decode(dist);
        if (di >= 30) this.fail(`invalid distance symbol ${di}`);
        const distance = DIST_BASE[di]! + this.bits(DIST_EXTRA[di]!);
        if (distance > this.outLen) this.fail('distance reaches before the start of the data');
        this.room(length);
        for (let i = 0; i < length; i++, this.outLen++) this.out[this.outLen] = this.out[this.outLen - distance]!;
      }
    }
  }

  private static fixed: [number[], number[]] | undefined;

  private fixedTables(): [Huffman, Huffman] {
    if (!Inflater.fixed) {
      const lit: number[] = [];
      for (let s = 0; s < 288; s++) lit.push(s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8);
      Inflater.fixed = [lit, new Array<number>(30).fill(5)];
    }
    return [this.huffman(Inflater.fixed[0], 288), this.huffman(Inflater.fixed[1], 30)];
  }

  private dynamicTables(): [Huffman, Huffman] {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) this.fail('bad dynamic block counts');
    const clen = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) clen[CODE_LENGTH_ORDER[i]!] = this.bits(3);
    const lencode = this.huffman(clen, 19);
    const lengths = new Uint8Array(nlen + ndist);
    for (let i = 0; i < nlen + ndist;) {
      const sym = this.decode(lencode);
      if (sym < 16) { lengths[i++] = sym; continue; }
      let value = 0;
      let repeat: number;
      if (sym === 16) {
        if (i === 0) this.fail('length repeat with no previous length');
        value = lengths[i - 1]!;
        repeat = 3 + this.bits(2);
      } else if (sym === 17) {
        repeat = 3 + this.bits(3);
      } else {
        repeat = 11 + this.bits(7);
      }
      if (i + repeat > nlen + ndist) this.fail('code lengths overrun');
      lengths.fill(value, i, i + repeat);
      i += repeat;
    }
    if (lengths[256] === 0) this.fail('no end-of-block code');
    return [this.huffman(lengths.subarray(0, nlen), nlen), this.huffman(lengths.subarray(nlen), ndist)];
  }

  /** Inflates to the final block; returns the data (without the window) and the byte offset just after the stream. */
  run(): { data: Uint8Array; end: number } {
    let last = 0;
    while (!last) {
      last = this.bits(1);
      const type = this.bits(2);
      if (type === 0) this.stored();
      else if (type === 1) this.codes(...this.fixedTables());
      else if (type === 2) this.codes(...this.dynamicTables());
      else this.fail('reserved block type 3');
    }
    return { data: this.out.slice(this.window.length, this.outLen), end: this.pos };
  }
}

/** A preset dictionary a zlib stream may name by its Adler-32 (DICTID). */
export interface ZlibDictionary {
  id: number;
  bytes: () => Uint8Array;
  name: string;
}

/**
 * The RFC 1950 stream at blob[start..], which must run to the end of blob: header
 * (CM 8, check bits, optional DICTID of a known dictionary), deflate data, and the
 * Adler-32 of the inflated data. Errors name the offset in `blob`.
 */
export function zlibInflate(blob: Uint8Array, start: number, dictionaries: readonly ZlibDictionary[] = []): Uint8Array {
  const at = (o: number): string => `offset 0x${o.toString(16)}`;
  if (blob.length < start + 2) throw new StoreFormatError(at(blob.length), 'no zlib header');
  const cmf = blob[start]!;
  const flg = blob[start + 1]!;
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7) throw new StoreFormatError(at(start), `not a deflate zlib stream (CMF 0x${cmf.toString(16)})`);
  if ((cmf * 256 + flg) % 31 !== 0) throw new StoreFormatError(at(start + 1), 'bad zlib header check bits');
  let p = start + 2;
  let window: Uint8Array = new Uint8Array(0);
  if (flg & 0x20) {
    if (blob.length < p + 4) throw new StoreFormatError(at(p), 'zlib dictionary id is truncated');
    const id = ((blob[p]! << 24) | (blob[p + 1]! << 16) | (blob[p + 2]! << 8) | blob[p + 3]!) >>> 0;
    const dict = dictionaries.find((d) => d.id === id);
    const known = dictionaries.map((d) => d.name).join(', ') || 'none';
    if (!dict) throw new StoreFormatError(at(p), `unknown zlib preset dictionary 0x${id.toString(16)} (known: ${known})`);
    window = dict.bytes();
    p += 4;
  }
  const { data, end } = new Inflater(blob, p, window).run();
  if (blob.length < end + 4) throw new StoreFormatError(at(end), 'zlib Adler-32 trailer is missing');
  const stored = ((blob[end]! << 24) | (blob[end + 1]! << 16) | (blob[end + 2]! << 8) | blob[end + 3]!) >>> 0;
  const computed = adler32(data);
  if (stored !== computed) throw new StoreFormatError(at(end), `bad zlib Adler-32 (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`);
  if (end + 4 !== blob.length) throw new StoreFormatError(at(end + 4), `${blob.length - end - 4} bytes after the compressed data`);
  return data;
}

/** A zlib stream of `data`: CompressionStream('deflate') where the platform has it, else stored blocks. */
export async function zlibDeflate(data: Uint8Array): Promise<Uint8Array> {
  if (typeof CompressionStream === 'function') {
    const stream = new Blob([new Uint8Array(data)]).stream().pipeThrough(new CompressionStream('deflate'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return zlibStored(data);
}

/** zlib with no compression: stored blocks of at most 65535 bytes (RFC 1951 §3.2.4). */
export function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 0xffff));
  const out = new Uint8Array(2 + data.length + 5 * blocks + 4);
  out[0] = 0x78; out[1] = 0x01; // CM 8, 32 KiB window, no dictionary, FCHECK
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const chunk = data.subarray(b * 0xffff, (b + 1) * 0xffff);
    out[o++] = b === blocks - 1 ? 1 : 0;
    out[o++] = chunk.length & 0xff; out[o++] = chunk.length >>> 8;
    out[o++] = ~chunk.length & 0xff; out[o++] = (~chunk.length >>> 8) & 0xff;
    out.set(chunk, o);
    o += chunk.length;
  }
  const a = adler32(data);
  out[o++] = a >>> 24; out[o++] = (a >>> 16) & 0xff; out[o++] = (a >>> 8) & 0xff; out[o++] = a & 0xff;
  return out;
}
