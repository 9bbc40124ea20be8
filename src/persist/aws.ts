/**
 * AWS EC2 "uefi-data" variable store (register-image --uefi-data), as written by
 * AWS's python-uefivars (pyuefivars/aws.py) and virt-firmware (varstore/aws.py).
 * Pure codec: bytes in, bytes out, no I/O.
 *
 * File = base64 text of a binary blob:
 *   offset 0   UINT64 magic "AMZNUEFI" (0x494645554e5a4d41 little-endian)
 *   offset 8   UINT32 CRC-32C (Castagnoli) of every byte from offset 12 to the end
 *   offset 12  UINT32 version, 0
 *   offset 16  zlib stream (RFC 1950), compressed with the "v0" preset dictionary
 * The inflated payload is little-endian:
 *   UINT64 count, then per variable:
 *   UINT64 length + UTF-8 name (no NUL), UINT64 length + data, EFI_GUID (16, EFI byte order),
 *   UINT32 attributes, and only when attributes has TIME_BASED_AUTHENTICATED_WRITE_ACCESS:
 *   EFI_TIME (16) + UINT64 length + digest (all zero = none).
 *
 * Error `where`s: `text offset N` for the base64 layer, `offset 0x..` for the decoded
 * blob, `payload offset 0x..` for the inflated payload, `variables[i].field` per variable.
 *
 * Decoding is synchronous: the RFC 1951 inflater in aws/zlib.ts handles the preset
 * dictionary, which DecompressionStream cannot. Encoding is async: it uses the
 * standard CompressionStream('deflate') (Node >= 18, all current browsers) and
 * falls back to stored (uncompressed) deflate blocks where that is missing. Its
 * zlib stream does not use the dictionary; zlib readers (python's
 * decompressobj(zdict=...)) only apply a dictionary when the header asks for one.
 */
import { crc32c } from '../wire/crc32c.js';
import { guidAt, writeGuid } from '../wire/guid.js';
import { Attr } from '../wire/attributes.js';
import { makeVariable, variableKey, type Variable } from '../store/variable.js';
import { displayName } from '../wire/ucs2.js';
import { StoreFormatError } from './format-error.js';
import { base64Decode, base64Encode, isAsciiSpace } from './aws/base64.js';
import { zlibDeflate, zlibInflate, type ZlibDictionary } from './aws/zlib.js';
import { AWS_DICT_V0_ADLER32, awsDictV0 } from './aws/dict-v0.js';
import type { StoreCodec } from './codec.js';

const MAGIC = [0x41, 0x4d, 0x5a, 0x4e, 0x55, 0x45, 0x46, 0x49]; // "AMZNUEFI"
const HEADER_SIZE = 16;
const VERSION = 0;

const DICT_V0: ZlibDictionary = { id: AWS_DICT_V0_ADLER32, bytes: awsDictV0, name: 'AWS v0' };

/** CRC-32C (Castagnoli), as google_crc32c / crc32c compute it; shared with the device's PIO check. */
export { crc32c };

/** The file starts (after optional whitespace) with the base64 of "AMZNUEF": "QU1aTlVFRk". */
export function isAws(bytes: Uint8Array): boolean {
  const prefix = 'QU1aTlVFRk';
  let i = 0;
  while (i < bytes.length && isAsciiSpace(bytes[i]!)) i++;
  if (bytes.length - i < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) if (bytes[i + k] !== prefix.charCodeAt(k)) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class PayloadReader {
  private view: DataView;
  pos = 0;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number, what: string): number {
    if (this.pos + n > this.b.length) {
      throw new StoreFormatError(`payload offset 0x${this.pos.toString(16)}`, `${what} runs past the end of the payload`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u32(what: string): number { return this.view.getUint32(this.need(4, what), true); }
  /** A UINT64 length; anything beyond the payload is an error before it can be used. */
  len(what: string): number {
    const at = this.need(8, what);
    const v = this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 0x1_0000_0000;
    if (v > this.b.length - this.pos) throw new StoreFormatError(`payload offset 0x${at.toString(16)}`, `${what} length ${v} runs past the end of the payload`);
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    const at = this.need(n, what);
    return this.b.subarray(at, at + n);
  }
  get remaining(): number { return this.b.length - this.pos; }
}

/** UCS-2 + NUL from the UTF-8 name AWS stores; a name the UEFI model cannot hold is an error. */
function nameFromUtf8(raw: Uint8Array, where: string): Uint8Array {
  let s: string;
  try {
    s = utf8.decode(raw);
  } catch {
    throw new StoreFormatError(where, 'name is not valid UTF-8');
  }
  if (s.length === 0) throw new StoreFormatError(where, 'empty name');
  const out = new Uint8Array(2 * s.length + 2);
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u === 0) throw new StoreFormatError(where, 'name contains a NUL');
    if (u >= 0xd800 && u <= 0xdfff) throw new StoreFormatError(where, 'name has a character outside UCS-2');
    out[2 * i] = u & 0xff;
    out[2 * i + 1] = u >>> 8;
  }
  return out;
}

const isAllZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

export function decodeAws(bytes: Uint8Array): Variable[] {
  const blob = base64Decode(bytes);
  if (blob.length < HEADER_SIZE) throw new StoreFormatError('offset 0x0', `blob too short for the AMZNUEFI header (${blob.length} bytes)`);
  for (let i = 0; i < MAGIC.length; i++) if (blob[i] !== MAGIC[i]) throw new StoreFormatError('offset 0x0', 'no "AMZNUEFI" magic');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const stored = view.getUint32(8, true);
  const computed = crc32c(blob.subarray(12));
  if (stored !== computed) throw new StoreFormatError('offset 0x8', `bad CRC-32C (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`);
  const version = view.getUint32(12, true);
  if (version !== VERSION) throw new StoreFormatError('offset 0xc', `unsupported version ${version}`);
  const payload = zlibInflate(blob, HEADER_SIZE, [DICT_V0]);

  const r = new PayloadReader(payload);
  const countAt = r.pos;
  const countLow = r.u32('variable count');
  const countHigh = r.u32('variable count');
  // Each record is at least 8 + 8 + 16 + 4 bytes, which bounds a believable count.
  if (countHigh !== 0 || countLow > r.remaining / 36) {
    throw new StoreFormatError(`payload offset 0x${countAt.toString(16)}`, 'variable count does not fit the payload');
  }
  const out: Variable[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < countLow; i++) {
    const at = `variables[${i}]`;
    const name = nameFromUtf8(r.bytes(r.len(`${at}.name`), `${at}.name`), `${at}.name`);
    const data = new Uint8Array(r.bytes(r.len(`${at}.data`), `${at}.data`));
    const guid = guidAt(r.bytes(16, `${at}.guid`), 0);
    const attributes = r.u32(`${at}.attr`);
    let time: Uint8Array | undefined;
    let digest: Uint8Array | undefined;
    if (attributes & Attr.AT) {
      time = new Uint8Array(r.bytes(16, `${at}.time`));
      const d = r.bytes(r.len(`${at}.digest`), `${at}.digest`);
      if (d.length > 0 && !isAllZero(d)) digest = new Uint8Array(d);
    }
    const key = variableKey(guid, name);
    if (seen.has(key)) throw new StoreFormatError(at, `duplicate variable ${displayName(name)} (${guid})`);
    seen.add(key);
    out.push(makeVariable({ guid, name, attributes, data, time, digest }));
  }
  if (r.remaining !== 0) throw new StoreFormatError(`payload offset 0x${r.pos.toString(16)}`, `${r.remaining} bytes after the last variable`);
  return out;
}

class Growable {
  private buf = new Uint8Array(4096);
  length = 0;
  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u32(v: number): void {
    const at = this.room(4);
    this.buf[at] = v & 0xff; this.buf[at + 1] = (v >>> 8) & 0xff; this.buf[at + 2] = (v >>> 16) & 0xff; this.buf[at + 3] = v >>> 24;
  }
  u64(v: number): void { this.u32(v % 0x1_0000_0000); this.u32(Math.floor(v / 0x1_0000_0000)); }
  bytes(b: Uint8Array): void {
    const at = this.room(b.length); // room() may replace this.buf
    this.buf.set(b, at);
  }
  blob(b: Uint8Array): void { this.u64(b.length); this.bytes(b); }
  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}

/** The UTF-8 name AWS stores: the UCS-2 name up to its (single, final) NUL. */
function nameToUtf8(v: Variable, where: string): Uint8Array {
  const n = v.name;
  if (n.length < 4 || n.length % 2 !== 0 || n[n.length - 1] !== 0 || n[n.length - 2] !== 0) {
    throw new StoreFormatError(where, 'name must be non-empty UCS-2 ending in one NUL');
  }
  let s = '';
  for (let o = 0; o < n.length - 2; o += 2) {
    const u = n[o]! | (n[o + 1]! << 8);
    if (u === 0) throw new StoreFormatError(where, 'name has a NUL before its end');
    if (u >= 0xd800 && u <= 0xdfff) throw new StoreFormatError(where, 'name has a surrogate code unit, which UTF-8 cannot carry');
    s += String.fromCharCode(u);
  }
  return new TextEncoder().encode(s);
}

const EMPTY_DIGEST = new Uint8Array(32); // python-uefivars' EMPTY_DIGEST

/**
 * Variables -> AWS uefi-data text (base64, no trailing newline). Time stamp and
 * digest exist only for time-based authenticated variables, as in the format; a
 * time-based variable without a digest gets python-uefivars' empty (all-zero) one.
 */
export async function encodeAws(variables: readonly Variable[]): Promise<Uint8Array> {
  const p = new Growable();
  p.u64(variables.length);
  const seen = new Set<string>();
  const guid = new Uint8Array(16);
  variables.forEach((v, i) => {
    const at = `variables[${i}]`;
    const key = variableKey(v.guid, v.name);
    if (seen.has(key)) throw new StoreFormatError(at, `duplicate variable ${displayName(v.name)} (${v.guid})`);
    seen.add(key);
    p.blob(nameToUtf8(v, `${at}.name`));
    p.blob(v.data);
    writeGuid(v.guid, guid, 0);
    p.bytes(guid);
    p.u32(v.attributes >>> 0);
    if (v.attributes & Attr.AT) {
      p.bytes(v.time.length === 16 ? v.time : new Uint8Array(16));
      p.blob(v.digest ?? EMPTY_DIGEST);
    }
  });
  const z = await zlibDeflate(p.finish());
  const blob = new Uint8Array(HEADER_SIZE + z.length);
  blob.set(MAGIC, 0);
  blob.set(z, HEADER_SIZE);
  const view = new DataView(blob.buffer);
  view.setUint32(12, VERSION, true);
  view.setUint32(8, crc32c(blob.subarray(12)), true);
  return base64Encode(blob);
}

/** AWS EC2 uefi-data as a store codec (codec.ts; the list: formats.ts). */
export const awsCodec = {
  name: 'aws',
  aliases: [],
  title: 'AWS uefi-data',
  label: 'AWS',
  extensions: ['.aws'],
  detect: isAws,
  decode: async (b) => ({ variables: decodeAws(b) }),
  encode: (v) => encodeAws(v),
} as const satisfies StoreCodec<'aws'>;
