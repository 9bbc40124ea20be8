import { WireError } from './errors.js';

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Lower-case hex, as QEMU writes `data`, `time` and `digest`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Strict hex decode (either case). Odd length or a non-hex digit is an error, never a guess. */
export function fromHex(text: string, what = 'hex'): Uint8Array {
  if (text.length % 2 !== 0) throw new WireError('bad-hex', `${what}: odd number of hex digits (${text.length})`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(text.charCodeAt(2 * i));
    const lo = nibble(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new WireError('bad-hex', `${what}: not a hex digit at position ${hi < 0 ? 2 * i : 2 * i + 1}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The bytes as a string of char codes 0-255: a cheap exact identity for map keys. */
export function binaryString(b: Uint8Array): string {
  const CHUNK = 8192;
  if (b.length <= CHUNK) return String.fromCharCode.apply(null, b as unknown as number[]);
  let out = '';
  for (let i = 0; i < b.length; i += CHUNK) out += String.fromCharCode.apply(null, b.subarray(i, i + CHUNK) as unknown as number[]);
  return out;
}
