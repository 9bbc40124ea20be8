import { ByteReader } from './reader.js';

/** EFI_TIME (16 bytes, UEFI 2.10 §8.3; spec §4.1). Kept raw in the store; decoded on demand. */
export interface EfiTime {
  year: number; month: number; day: number;
  hour: number; minute: number; second: number;
  pad1: number; nanosecond: number; timeZone: number; daylight: number; pad2: number;
}

export const EFI_TIME_SIZE = 16;
export const ZERO_TIME: Uint8Array = new Uint8Array(16);

export function decodeTime(b: Uint8Array, o = 0): EfiTime {
  const r = new ByteReader(b, o);
  return {
    year: r.u16('EFI_TIME.Year'), month: r.u8(), day: r.u8(), hour: r.u8(), minute: r.u8(),
    second: r.u8(), pad1: r.u8(), nanosecond: r.u32(), timeZone: r.i16(), daylight: r.u8(), pad2: r.u8(),
  };
}

export function encodeTime(t: EfiTime): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, t.year, true);
  b[2] = t.month; b[3] = t.day; b[4] = t.hour; b[5] = t.minute; b[6] = t.second; b[7] = t.pad1;
  v.setUint32(8, t.nanosecond, true);
  v.setInt16(12, t.timeZone, true);
  b[14] = t.daylight; b[15] = t.pad2;
  return b;
}

/**
 * Field-wise comparison on (year, month, day, hour, minute, second, nanosecond),
 * spec §4.9. Returns <0, 0, >0.
 */
export function compareTime(a: Uint8Array, b: Uint8Array): number {
  const x = decodeTime(a), y = decodeTime(b);
  return (x.year - y.year) || (x.month - y.month) || (x.day - y.day) || (x.hour - y.hour) ||
    (x.minute - y.minute) || (x.second - y.second) || (x.nanosecond - y.nanosecond);
}

/** edk2 AuthVariableLib: Pad1, Nanosecond, TimeZone, Daylight and Pad2 must all be zero. */
export function hasZeroPadFields(b: Uint8Array): boolean {
  const t = decodeTime(b);
  return t.pad1 === 0 && t.nanosecond === 0 && t.timeZone === 0 && t.daylight === 0 && t.pad2 === 0;
}

export function formatTime(b: Uint8Array): string {
  const t = decodeTime(b);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(t.year, 4)}-${p(t.month)}-${p(t.day)}T${p(t.hour)}:${p(t.minute)}:${p(t.second)}`;
}

export function isZeroTime(b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * ISO 8601 text of an EFI_TIME, or null for the all-zero time (no time stored).
 * TimeZone is the local time's offset from UTC in minutes (UEFI 2.10 §8.3,
 * Localtime = UTC + TimeZone since the 2.7 errata; 1.x-2.6 had the opposite
 * sign, which only matters for a non-zero zone: authenticated variables use 0);
 * 0x07FF (EFI_UNSPECIFIED_TIMEZONE) gives a local time without an offset.
 */
export function isoTime(b: Uint8Array): string | null {
  if (isZeroTime(b)) return null;
  const t = decodeTime(b);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const ns = t.nanosecond ? `.${p(t.nanosecond, 9).replace(/0+$/, '')}` : '';
  let zone = '';
  if (t.timeZone === 0) zone = 'Z';
  else if (t.timeZone !== 0x07ff) {
    const off = t.timeZone;
    zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  }
  return `${p(t.year, 4)}-${p(t.month)}-${p(t.day)}T${p(t.hour)}:${p(t.minute)}:${p(t.second)}${ns}${zone}`;
}
