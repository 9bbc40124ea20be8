/**
 * Base64 (RFC 4648 §4, standard alphabet, '=' padding) for the AWS uefi-data text.
 * Decoding is strict except for ASCII whitespace, which text files wrap or end with.
 */
import { StoreFormatError } from '../format-error.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;
export const isAsciiSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Strict base64: ASCII whitespace is ignored (line breaks), anything else must be alphabet or final padding. */
export function base64Decode(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let n = 0;
  let acc = 0;
  let bits = 0;
  let digits = 0;
  let pad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (isAsciiSpace(c)) continue;
    if (c === 0x3d) { // '='
      pad++;
      if (pad > 2) throw new StoreFormatError(`text offset ${i}`, 'bad base64 padding');
      continue;
    }
    const v = B64_VALUE[c]!;
    if (v < 0) throw new StoreFormatError(`text offset ${i}`, `not a base64 character (0x${c.toString(16)})`);
    if (pad) throw new StoreFormatError(`text offset ${i}`, 'base64 data after padding');
    acc = (acc << 6) | v;
    bits += 6;
    digits++;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
    }
  }
  if ((digits + pad) % 4 !== 0 || (pad && digits % 4 !== 4 - pad)) {
    throw new StoreFormatError(`text offset ${text.length}`, 'base64 text is truncated (length is not a multiple of 4)');
  }
  return out.subarray(0, n);
}

export function base64Encode(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(b.length / 3) * 4);
  let o = 0;
  for (let i = 0; i < b.length; i += 3) {
    const rest = b.length - i;
    const v = (b[i]! << 16) | ((rest > 1 ? b[i + 1]! : 0) << 8) | (rest > 2 ? b[i + 2]! : 0);
    out[o++] = B64.charCodeAt(v >>> 18);
    out[o++] = B64.charCodeAt((v >>> 12) & 63);
    out[o++] = rest > 1 ? B64.charCodeAt((v >>> 6) & 63) : 0x3d;
    out[o++] = rest > 2 ? B64.charCodeAt(v & 63) : 0x3d;
  }
  return out;
}
