import { WireError } from './errors.js';

/**
 * GUIDs are kept as lower-case 8-4-4-4-12 text everywhere above the wire (map keys,
 * JSON, logs); the binary form is EFI's mixed-endian layout: Data1 u32 LE,
 * Data2 u16 LE, Data3 u16 LE, Data4 8 bytes as written (spec §2.1).
 */
export type GuidText = string;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

export const GUID_SIZE = 16;

export function guidAt(b: Uint8Array, o: number): GuidText {
  const h = (i: number): string => HEX[b[o + i]!]!;
  return h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' +
    h(8) + h(9) + '-' + h(10) + h(11) + h(12) + h(13) + h(14) + h(15);
}

const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isGuidText(text: string): boolean {
  return GUID_RE.test(text);
}

/** Strict parse of the text form; anything else is WireError('bad-guid-text'). */
export function parseGuid(text: string): GuidText {
  if (!GUID_RE.test(text)) throw new WireError('bad-guid-text', `not a GUID: ${JSON.stringify(text)}`);
  return text.toLowerCase();
}

const binary = new Map<string, Uint8Array>();

/** Binary form of a GUID text, cached (bounded): do not modify the result. */
export function guidBytesCached(text: GuidText): Uint8Array {
  let b = binary.get(text);
  if (!b) {
    b = encodeGuid(text);
    if (binary.size < 4096) binary.set(text, b);
  }
  return b;
}

export function writeGuid(text: GuidText, out: Uint8Array, o: number): void {
  out.set(guidBytesCached(text), o);
}

/** Byte-wise GUID comparison against a binary constant (no string built). */
export function guidEqualsAt(b: Uint8Array, o: number, g: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (b[o + i] !== g[i]) return false;
  return true;
}

function encodeGuid(text: GuidText): Uint8Array {
  const out = new Uint8Array(16);
  const o = 0;
  const t = parseGuid(text).replace(/-/g, '');
  const byte = (i: number): number => parseInt(t.slice(2 * i, 2 * i + 2), 16);
  out[o] = byte(3); out[o + 1] = byte(2); out[o + 2] = byte(1); out[o + 3] = byte(0);
  out[o + 4] = byte(5); out[o + 5] = byte(4);
  out[o + 6] = byte(7); out[o + 7] = byte(6);
  for (let i = 8; i < 16; i++) out[o + i] = byte(i);
  return out;
}

export function guidBytes(text: GuidText): Uint8Array {
  const out = new Uint8Array(16);
  writeGuid(text, out, 0);
  return out;
}

/** Well-known GUIDs (spec §2.2). */
export const Guids = {
  smmVariable: 'ed32d533-99e6-4209-9cc0-2d72cdd998a7',
  varCheckPolicy: 'da1b0d11-d1a7-46c4-9dc9-f3714875c6eb',
  endOfDxe: '02ce967a-dd7e-4ffc-9ee7-810cf0470880',
  readyToBoot: '7ce88fb3-4bd7-4679-87a8-a8d8dee50d2b',
  exitBootServices: '27abf055-b1b8-4c26-8048-748f37baa2df',
  mmCommunicateV3: '68e8c853-2ba9-4dd7-9ac0-91e16155c935',
  globalVariable: '8be4df61-93ca-11d2-aa0d-00e098032b8c',
  imageSecurityDatabase: 'd719b2cb-3d3a-4596-a3bc-dad00e67656f',
  customModeEnable: 'c076ec0c-7028-4399-a072-71ee5c448b9f',
  secureBootEnableDisable: 'f0a30bc7-af08-4556-99c4-001009c93a44',
  vendorKeysNv: '9073e4e0-60ec-4b6e-9903-4c223c260f3c',
  certDb: 'd9bee56e-75dc-49d9-b4d7-b534210f637a',
  hardwareErrorVariable: '414e6bdd-e47b-47cc-b244-bb61020cf516',
  certSha256: 'c1c41626-504c-4092-aca9-41f936934328',
  certSha384: 'ff3e5307-9fd0-48c9-85f1-8ad56c701e01',
  certSha512: '093e0fae-a6c4-4f50-9f1b-d41e2b89c19a',
  certRsa2048: '3c5766e8-269c-4e34-aa14-ed776e85b3b6',
  certX509: 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072',
  certTypePkcs7: '4aafd29d-68df-49ee-8aa9-347d375665a7',
  shimLock: '605dab50-e046-4300-abb6-3dd810dd8b23',
} as const satisfies Record<string, GuidText>;

/** CLI aliases (DESIGN.md CLI contract). */
export function parseGuidOrAlias(text: string): GuidText {
  if (text === 'global') return Guids.globalVariable;
  if (text === 'security') return Guids.imageSecurityDatabase;
  return parseGuid(text);
}
