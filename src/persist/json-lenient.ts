/**
 * How QEMU's var-service-json.c turns the strings of a JSON store into a
 * variable when they are not what it writes itself (spec §6.2, §8 items 67,
 * 69; trace deviations/json-store-edge). Used only with `--lenient-json`:
 * each function returns the value QEMU would load and, when that differs from
 * a faithful reading, what was repaired, so the caller can warn once per field.
 * QEMU works on the C string, i.e. the UTF-8 bytes up to the first NUL.
 */
const utf8 = new TextEncoder();

export interface Repaired<T> {
  value: T;
  /** What QEMU's reading changed, for the warning; undefined when nothing was. */
  repair?: string;
}

function cString(text: string): Uint8Array {
  const b = utf8.encode(text);
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

function digit(c: number): number | undefined {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return undefined;
}

/**
 * parse_hexstr: strlen/2 bytes from digit pairs; a byte that is not a hex digit
 * counts as 0, and the last digit of an odd-length string lands past the
 * allocation (spec §6.2 [BUG]), so it is dropped here.
 */
export function qemuHex(text: string): Repaired<Uint8Array> {
  const s = cString(text);
  const out = new Uint8Array(s.length >> 1);
  let bad = 0;
  for (let i = 0; i < out.length; i++) {
    const hi = digit(s[2 * i]!);
    const lo = digit(s[2 * i + 1]!);
    if (hi === undefined) bad++;
    if (lo === undefined) bad++;
    out[i] = ((hi ?? 0) << 4) | (lo ?? 0);
  }
  const repairs: string[] = [];
  if (s.length !== utf8.encode(text).length) repairs.push('cut at its NUL');
  if (bad) repairs.push(`${bad} non-hex digit${bad > 1 ? 's' : ''} read as 0`);
  if (s.length % 2) repairs.push('odd last digit dropped');
  return repairs.length ? { value: out, repair: repairs.join(', ') } : { value: out };
}

/**
 * A name: strlen bytes, each one code unit, plus a NUL. QEMU's `char` is signed on
 * the x86 hosts the traces come from, so a UTF-8 byte >= 0x80 becomes 0xFF80..0xFFFF.
 *
 * One exception keeps a store stable across saves: a name made only of ASCII and
 * U+FF80..U+FFFF is what we write for a name QEMU's reading produced (json-qemu.ts
 * escapes every unit as \uXXXX), so it is read back unit for unit. QEMU itself never
 * writes such a name (it writes `?`).
 */
export function qemuName(text: string): Repaired<Uint8Array> {
  if (/^[\u0001-\u007f\uff80-\uffff]+$/.test(text)) {
    const out = new Uint8Array(2 * text.length + 2);
    for (let i = 0; i < text.length; i++) { const u = text.charCodeAt(i); out[2 * i] = u & 0xff; out[2 * i + 1] = u >> 8; }
    return { value: out };
  }
  const s = cString(text);
  const out = new Uint8Array(2 * s.length + 2);
  let wide = false;
  for (let i = 0; i < s.length; i++) {
    const b = s[i]!;
    if (b >= 0x80) wide = true;
    out[2 * i] = b;
    out[2 * i + 1] = b >= 0x80 ? 0xff : 0;
  }
  const repairs: string[] = [];
  if (wide) repairs.push('non-ASCII characters loaded as one code unit per UTF-8 byte');
  if (s.length !== utf8.encode(text).length) repairs.push('cut at its NUL');
  return repairs.length ? { value: out, repair: repairs.join(', ') } : { value: out };
}

/** The time is used only when its C string is exactly 32 characters; any other length leaves the zero time. */
export function qemuTimeUsable(text: string): boolean {
  return cString(text).length === 32;
}
