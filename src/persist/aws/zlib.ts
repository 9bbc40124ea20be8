/**
 * zlib (RFC 1950) for the AWS format, which compresses with a preset dictionary
 * (DecompressionStream cannot take one). Inflate is pako's (a port of zlib that
 * runs in browsers), kept synchronous so decoding reports byte offsets; the header
 * is checked here first so a stream naming an unknown dictionary is refused at its
 * DICTID. Deflate uses pako as well, so encoding is the same on every platform.
 */
import { Inflate, deflate } from 'pako';
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
  const inflater = new Inflate(window.length ? { dictionary: window } : {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  inflater.onData = (data) => {
    const chunk = data as Uint8Array; // pako yields Uint8Array unless asked for strings
    total += chunk.length;
    if (total > MAX_OUTPUT) throw new StoreFormatError(at(start), `inflates to more than ${MAX_OUTPUT} bytes`);
    chunks.push(chunk.slice());
  };
  inflater.push(blob.subarray(start), true);
  const strm = (inflater as unknown as { strm: { next_in: number; avail_in: number } }).strm;
  const end = start + strm.next_in;
  if (inflater.err) {
    const msg = inflater.msg || String(inflater.err);
    if (msg === 'incorrect data check') throw new StoreFormatError(at(end - 4), 'bad zlib Adler-32 (the inflated data does not match it)');
    if (inflater.err === -5) throw new StoreFormatError(at(blob.length), 'bad compressed data: stream ends early');
    throw new StoreFormatError(at(end), `bad compressed data: ${msg}`);
  }
  if (end !== blob.length) throw new StoreFormatError(at(end), `${blob.length - end} bytes after the compressed data`);
  const data = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { data.set(c, o); o += c.length; }
  return data;
}

/** A zlib stream of `data` (default level, no dictionary: every zlib reader takes it). */
export async function zlibDeflate(data: Uint8Array): Promise<Uint8Array> {
  return deflate(data);
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
