/** Variable attributes (UEFI 2.10 §8.2, spec §3.2). */
export const Attr = {
  NV: 0x01,
  BS: 0x02,
  RT: 0x04,
  HR: 0x08,
  AW: 0x10,  // AUTHENTICATED_WRITE_ACCESS (deprecated, count-based)
  AT: 0x20,  // TIME_BASED_AUTHENTICATED_WRITE_ACCESS
  AP: 0x40,  // APPEND_WRITE
} as const;

const NAMES: ReadonlyArray<[string, number]> = [
  ['NV', Attr.NV], ['BS', Attr.BS], ['RT', Attr.RT], ['HR', Attr.HR],
  ['AW', Attr.AW], ['AT', Attr.AT], ['AP', Attr.AP],
];
const ALIASES: Record<string, number> = {
  NON_VOLATILE: Attr.NV, BOOTSERVICE_ACCESS: Attr.BS, RUNTIME_ACCESS: Attr.RT,
  HARDWARE_ERROR_RECORD: Attr.HR, AUTHENTICATED_WRITE_ACCESS: Attr.AW,
  TIME_BASED_AUTHENTICATED_WRITE_ACCESS: Attr.AT, APPEND_WRITE: Attr.AP,
};

/** `0x67`, `7`, or names joined by `|` (`NV|BS|RT`). Returns undefined if not parseable. */
export function parseAttributes(text: string): number | undefined {
  const t = text.trim();
  if (/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) {
    const v = Number(t);
    return v <= 0xffffffff ? v >>> 0 : undefined;
  }
  let v = 0;
  for (const part of t.split('|')) {
    const p = part.trim().toUpperCase();
    const hit = NAMES.find(([n]) => n === p)?.[1] ?? ALIASES[p];
    if (hit === undefined) return undefined;
    v |= hit;
  }
  return v;
}

export function formatAttributes(v: number): string {
  const parts = NAMES.filter(([, bit]) => (v & bit) !== 0).map(([n]) => n);
  const rest = (v & ~0x7f) >>> 0;
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.length ? parts.join('|') : '0';
}
