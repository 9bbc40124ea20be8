/**
 * Variable names: UCS-2 little-endian, NUL-terminated. The store keeps the raw
 * NameSize bytes verbatim (spec §3.1); lookups compare code units up to the first NUL.
 */

let scratch = new Uint16Array(256);
const CHUNK = 8192;

/** `units` code units as one string, built in a few calls (a `+=` chain builds a rope). */
export function unitsToString(units: Uint16Array, n: number): string {
  if (n <= CHUNK) return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
  const parts: string[] = [];
  for (let i = 0; i < n; i += CHUNK) parts.push(String.fromCharCode.apply(null, units.subarray(i, Math.min(n, i + CHUNK)) as unknown as number[]));
  return parts.join('');
}

/** Code units up to (not including) the first NUL, or to the end; an odd trailing byte is ignored. */
export function nameKey(b: Uint8Array, off = 0, size = b.length - off): string {
  const units = size >>> 1;
  if (units > scratch.length) scratch = new Uint16Array(units);
  let n = 0;
  for (; n < units; n++) {
    const u = b[off + 2 * n]! | (b[off + 2 * n + 1]! << 8);
    if (u === 0) break;
    scratch[n] = u;
  }
  return unitsToString(scratch, n);
}

/** UCS-2 bytes of `s` plus a terminating NUL. */
export function encodeName(s: string): Uint8Array {
  const out = new Uint8Array(2 * s.length + 2);
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    out[2 * i] = u & 0xff;
    out[2 * i + 1] = u >>> 8;
  }
  return out;
}

/** Bytes of the name without its terminating NUL (what a signature covers, spec §4.2). */
export function nameWithoutNul(raw: Uint8Array): Uint8Array {
  const units = raw.length >>> 1;
  for (let i = 0; i < units; i++) {
    if (raw[2 * i] === 0 && raw[2 * i + 1] === 0) return raw.subarray(0, 2 * i);
  }
  return raw.subarray(0, units * 2);
}

export type NameProblem = 'no-nul' | 'surrogate' | 'empty';

/**
 * The name rule we enforce (spec §3.1, with the [BUG] fixed the edk2 way): a NUL
 * code unit must occur within NameSize bytes, no unit before it may be a
 * surrogate (0xD800-0xDFFF), and the name may not be empty (edk2 VariableName[0]==0).
 */
export function checkName(b: Uint8Array, off: number, size: number, allowEmpty = false): NameProblem | undefined {
  const units = size >>> 1;
  for (let i = 0; i < units; i++) {
    const u = b[off + 2 * i]! | (b[off + 2 * i + 1]! << 8);
    if (u === 0) return i === 0 && !allowEmpty ? 'empty' : undefined;
    if (u >= 0xd800 && u <= 0xdfff) return 'surrogate';
  }
  return 'no-nul';
}

/**
 * Whether QEMU's uefi_str_is_valid would accept the name (spec §3.1 [BUG]): it scans
 * NameSize *code units*, i.e. up to 2 x NameSize bytes, so a zero unit after NameSize
 * still ends the name. Only tells whether our refusal of a name without its NUL is the
 * documented deviation (docs/deviations.md #2); never a rule.
 */
export function qemuAcceptsName(b: Uint8Array, off: number, size: number): boolean {
  const inMessage = Math.max(0, (b.length - off) >>> 1);
  for (let i = 0; i < Math.min(size, inMessage); i++) {
    const u = b[off + 2 * i]! | (b[off + 2 * i + 1]! << 8);
    if (u === 0) return true;
    if (u >= 0xd800 && u <= 0xdfff) return false;
  }
  // A scan that leaves the message reads whatever the device buffer still holds from
  // earlier requests (zeros, often): QEMU's answer then does not depend on this request.
  return size > inMessage;
}

/** A printable rendering for people (logs, CLI). */
export function displayName(raw: Uint8Array): string {
  return nameKey(raw);
}
