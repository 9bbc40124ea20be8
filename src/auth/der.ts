import { toHex } from '../wire/hex.js';

/**
 * A DER reader for guest-supplied bytes (X.690), byte by byte, with no crypto and no
 * asn1js objects: TLV framing, the strict-DER length check, X.509 Names and their
 * canonical keys, and the field layout of a Certificate. Everything here is linear
 * in the input and bounded by DER_LIMITS, so it can run on a whole request before
 * any expensive decoding (pkijs, RSA) is allowed to start.
 */

/**
 * Limits for decoding guest-controlled bytes (asn1js and this reader): real
 * certificates and SignedData nest ~12 deep and have a few hundred nodes; these
 * leave room while keeping one decode bounded.
 */
export const DER_LIMITS = { maxDepth: 40, maxNodes: 20000, parseEmbedded: false } as const;

/** One TLV: its identifier octet, where it starts, where its contents start, where it ends. */
export interface Tlv { tag: number; start: number; body: number; end: number }

export const TAG = {
  BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, OID: 0x06,
  UTC_TIME: 0x17, GENERALIZED_TIME: 0x18, SEQUENCE: 0x30, SET: 0x31,
  CTX0: 0xa0, CTX1: 0xa1, CTX2: 0xa2, CTX3: 0xa3,
} as const;

/**
 * The TLV at `off`, whose encoding must fit in [off, limit). Low tag numbers only
 * (X.509 and SignedData use no others); definite lengths only — DER has no
 * indefinite form.
 */
export function tlvAt(b: Uint8Array, off: number, limit: number): Tlv | undefined {
  if (off + 2 > limit) return undefined;
  const tag = b[off]!;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let len = b[off + 1]!;
  let body = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[body + i]!;
    body += n;
  }
  if (body + len > limit) return undefined;
  return { tag, start: off, body, end: body + len };
}

/** The children of a constructed TLV; they must fill its contents exactly. */
export function childrenOf(b: Uint8Array, t: Tlv, max = 4096): Tlv[] | undefined {
  const out: Tlv[] = [];
  for (let off = t.body; off < t.end;) {
    const c = tlvAt(b, off, t.end);
    if (!c || out.length >= max) return undefined;
    out.push(c);
    off = c.end;
  }
  return out;
}

/**
 * DER, not just BER: every constructed value's children fill exactly its declared
 * length, all the way down. asn1js lets children run past their parent; OpenSSL's
 * d2i_PKCS7 (edk2 Pkcs7Verify) refuses that, so do we. Bounded by DER_LIMITS.
 */
export function framingExact(b: Uint8Array, t: Tlv, depth = 0, budget = { nodes: DER_LIMITS.maxNodes }): boolean {
  if (depth > DER_LIMITS.maxDepth || --budget.nodes < 0) return false;
  if ((t.tag & 0x20) === 0) return true;
  const kids = childrenOf(b, t);
  if (!kids) return false;
  for (const k of kids) if (!framingExact(b, k, depth + 1, budget)) return false;
  return true;
}

/** The number of TLVs in `t` (itself included), or `max + 1` once there are more than `max`. */
export function nodeCount(b: Uint8Array, t: Tlv, max: number): number {
  let n = 0;
  const walk = (x: Tlv): void => {
    if (++n > max || (x.tag & 0x20) === 0) return;
    for (const k of childrenOf(b, x) ?? []) { walk(k); if (n > max) return; }
  };
  walk(t);
  return Math.min(n, max + 1);
}

/** INTEGER content bytes without redundant sign-extension bytes, so equal values compare equal. */
export function minimalInteger(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && ((b[i] === 0x00 && b[i + 1]! < 0x80) || (b[i] === 0xff && b[i + 1]! >= 0x80))) i++;
  return b.subarray(i);
}

// ---------------------------------------------------------------------------------------
// Names (RFC 5280 §4.1.2.4): Name ::= SEQUENCE OF RelativeDistinguishedName,
// RDN ::= SET OF AttributeTypeAndValue, ATV ::= SEQUENCE { type OID, value ANY }.

/** One attribute of a Name as read from its DER: the OID bytes and the value's TLV. */
interface Ava { oid: Uint8Array; value: Tlv }

/** The RDNs of a DER Name (each a list of attributes), or undefined if it is not one. */
function readName(b: Uint8Array): Ava[][] | undefined {
  const top = tlvAt(b, 0, b.length);
  if (!top || top.tag !== TAG.SEQUENCE) return undefined;
  const sets = childrenOf(b, top, DER_LIMITS.maxNodes);
  if (!sets) return undefined;
  const rdns: Ava[][] = [];
  for (const set of sets) {
    if (set.tag !== TAG.SET) return undefined;
    const rdn: Ava[] = [];
    for (const atv of childrenOf(b, set) ?? [undefined]) {
      if (atv?.tag !== TAG.SEQUENCE) return undefined;
      const [type, value] = childrenOf(b, atv) ?? [];
      if (type?.tag !== TAG.OID || !value) return undefined;
      rdn.push({ oid: b.subarray(type.body, type.end), value });
    }
    rdns.push(rdn);
  }
  return rdns;
}

/** What a Name costs to handle: its RDN count and encoded size (for the caps in pkcs7.ts). */
export interface NameShape { rdns: number; bytes: number }

/**
 * The shape of the Name TLV `t` inside `b`, or undefined if it is not a Name: a
 * SEQUENCE of SETs of SEQUENCE { OID, one value } (RFC 5280 §4.1.2.4).
 */
export function nameShape(b: Uint8Array, t: Tlv): NameShape | undefined {
  if (t.tag !== TAG.SEQUENCE) return undefined;
  const sets = childrenOf(b, t, DER_LIMITS.maxNodes);
  if (!sets) return undefined;
  for (const set of sets) {
    if (set.tag !== TAG.SET) return undefined;
    for (const atv of childrenOf(b, set) ?? [undefined]) {
      const parts = atv?.tag === TAG.SEQUENCE ? childrenOf(b, atv) : undefined;
      if (parts?.length !== 2 || parts[0]!.tag !== TAG.OID) return undefined;
    }
  }
  return { rdns: sets.length, bytes: t.end - t.start };
}

const latin1 = (v: Uint8Array): string => { let s = ''; for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!); return s; };
const utf8 = new TextDecoder('utf-8', { fatal: true });

function utf16be(v: Uint8Array): string | undefined {
  if (v.length % 2) return undefined;
  let s = '';
  for (let i = 0; i < v.length; i += 2) s += String.fromCharCode(v[i]! << 8 | v[i + 1]!);
  return s;
}

function utf32be(v: Uint8Array): string | undefined {
  if (v.length % 4) return undefined;
  let s = '';
  for (let i = 0; i < v.length; i += 4) {
    const c = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
    if (c > 0x10ffff) return undefined;
    s += String.fromCodePoint(c);
  }
  return s;
}

/** The text of a primitive string-typed value (the ASN.1 string types asn1js decodes as text), else undefined. */
export function stringText(b: Uint8Array, t: Tlv): string | undefined {
  const v = b.subarray(t.body, t.end);
  switch (t.tag) {
    case 0x0c: case 0x0e: try { return utf8.decode(v); } catch { return undefined; } // UTF8String, TIME
    case 0x1e: return utf16be(v);                                                        // BMPString
    case 0x1c: return utf32be(v);                                                        // UniversalString
    case 0x12: case 0x13: case 0x14: case 0x15: case 0x16: case 0x17: case 0x18:
    case 0x19: case 0x1a: case 0x1b: case 0x1d:
      return latin1(v); // Numeric, Printable, Teletex, Videotex, IA5, UTCTime, GeneralizedTime, Graphic, Visible, General, Character
    default: return undefined;
  }
}

/**
 * A string equal for two Names exactly when OpenSSL's X509_NAME_cmp calls them equal,
 * computed once per Name so that every later comparison is one string compare.
 *
 * Why not the raw DER: edk2 Pkcs7Verify finds the signer and builds chains with
 * OpenSSL, which compares names by a canonical encoding (x_name.c canon_enc: string
 * values as UTF-8, leading/trailing whitespace dropped, inner runs collapsed to one
 * space, case folded; other values kept; computed once when the name is decoded, then
 * compared with memcmp). A certificate whose issuer is written as PrintableString
 * while its CA's subject is UTF8String must still chain, so we keep that
 * normalisation — but, like OpenSSL, we compute it once per Name, linearly, from the
 * DER, never RDN by RDN per comparison (issue 18). Callers compare the DER bytes first
 * and the keys only when the bytes differ. A Name that does not decode keys by its bytes.
 */
export function canonicalNameKey(der: Uint8Array): string {
  const rdns = readName(der);
  if (!rdns) return 'der:' + toHex(der);
  // JSON keeps RDN and attribute boundaries unambiguous whatever the values contain.
  return JSON.stringify(rdns.map((rdn) => rdn.map((a) => {
    const s = stringText(der, a.value);
    const v = s === undefined ? '#' + toHex(der.subarray(a.value.start, a.value.end)) : 's:' + s.trim().replace(/\s+/g, ' ').toLowerCase();
    return `${toHex(a.oid)}=${v}`;
  }).sort()));
}

// ---------------------------------------------------------------------------------------
// Certificates (RFC 5280 §4.1)

/** Where the fields of a Certificate sit in its DER (all offsets into the same bytes). */
export interface CertLayout {
  cert: Tlv;
  tbs: Tlv;
  serial: Tlv;
  issuer: Tlv;
  subject: Tlv;
  spki: Tlv;
  /** SubjectPublicKeyInfo.algorithm's OID. */
  keyAlgorithm: Tlv;
  /** The subjectPublicKey BIT STRING. */
  publicKey: Tlv;
}

/**
 * The contents of universal primitive values are what their type allows (X.690 §8):
 * BOOLEAN one octet, INTEGER at least one, NULL none, OID a complete base-128 sequence,
 * BIT STRING an unused-bits octet ≤ 7, times printable ASCII; the universal types that
 * are primitive in DER are not constructed. What OpenSSL's d2i (and pkijs) refuse
 * when they decode those values — checked here without decoding them.
 */
function valuesValid(b: Uint8Array, t: Tlv, depth = 0): boolean {
  const len = t.end - t.body;
  if (t.tag & 0x20) {
    const n = t.tag & 0x1f;
    // Universal constructed forms other than SEQUENCE/SET are not DER.
    if ((t.tag & 0xc0) === 0 && n !== 0x10 && n !== 0x11) return false;
    if (depth > DER_LIMITS.maxDepth) return false;
    for (const k of childrenOf(b, t) ?? []) if (!valuesValid(b, k, depth + 1)) return false;
    return true;
  }
  switch (t.tag) {
    case 0x00: case 0x10: case 0x11: return false; // end-of-contents (indefinite lengths only); SEQUENCE/SET are constructed
    case 0x01: return len === 1;
    case 0x02: case 0x0a: return len >= 1;
    case 0x03: return len >= 1 && b[t.body]! <= 7 && (len > 1 || b[t.body] === 0);
    case 0x05: return len === 0;
    case 0x1c: return len % 4 === 0; // UniversalString: UCS-4
    case 0x1e: return len % 2 === 0; // BMPString: UCS-2
    case 0x06: return len >= 1 && b[t.end - 1]! < 0x80 && b[t.body] !== 0x80;
    case 0x17: case 0x18:
      for (let i = t.body; i < t.end; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
      return true;
    default: return true;
  }
}

const isAlgorithm = (b: Uint8Array, t: Tlv | undefined): boolean =>
  t?.tag === TAG.SEQUENCE && childrenOf(b, t)?.[0]?.tag === TAG.OID;

/**
 * The field layout of the Certificate TLV `t`, checking the shape pkijs' Certificate
 * schema checks (version, serial, AlgorithmIdentifiers, Names, Validity of two Times,
 * SPKI, optional unique ids and extensions, signature BIT STRING) but decoding no
 * value. Undefined when the DER is not a certificate. Linear in the certificate's size.
 */
export function certificateLayout(b: Uint8Array, t: Tlv): CertLayout | undefined {
  if (t.tag !== TAG.SEQUENCE || !framingExact(b, t) || !valuesValid(b, t)) return undefined;
  const top = childrenOf(b, t)!;
  const [tbs, sigAlg, sig] = top;
  if (top.length !== 3 || tbs?.tag !== TAG.SEQUENCE || !isAlgorithm(b, sigAlg) || sig?.tag !== TAG.BIT_STRING) return undefined;
  const f = childrenOf(b, tbs)!;
  let i = 0;
  if (f[i]?.tag === TAG.CTX0) {
    if (childrenOf(b, f[i]!)?.[0]?.tag !== TAG.INTEGER) return undefined;
    i++;
  }
  const serial = f[i++], alg = f[i++], issuer = f[i++], validity = f[i++], subject = f[i++], spki = f[i++];
  if (serial?.tag !== TAG.INTEGER || serial.end === serial.body || !isAlgorithm(b, alg)) return undefined;
  if (!issuer || !nameShape(b, issuer) || !subject || !nameShape(b, subject)) return undefined;
  const times = validity?.tag === TAG.SEQUENCE ? childrenOf(b, validity)! : [];
  if (times.length !== 2 || times.some((x) => x.tag !== TAG.UTC_TIME && x.tag !== TAG.GENERALIZED_TIME)) return undefined;
  const keyParts = spki?.tag === TAG.SEQUENCE ? childrenOf(b, spki)! : [];
  const [keyAlg, publicKey] = keyParts;
  if (keyParts.length !== 2 || !isAlgorithm(b, keyAlg) || publicKey?.tag !== TAG.BIT_STRING) return undefined;
  // [1] issuerUniqueID, [2] subjectUniqueID (IMPLICIT BIT STRING), [3] extensions, in that order.
  for (const tag of [0x81, 0x82]) if (f[i]?.tag === tag || f[i]?.tag === (tag | 0x20)) i++;
  if (f[i]?.tag === TAG.CTX3) {
    const exts = childrenOf(b, f[i]!)!;
    if (exts.length !== 1 || exts[0]!.tag !== TAG.SEQUENCE) return undefined;
    for (const e of childrenOf(b, exts[0]!)!) {
      const parts = e.tag === TAG.SEQUENCE ? childrenOf(b, e)! : [];
      const ok = parts[0]?.tag === TAG.OID && (parts.length === 2 ? parts[1]!.tag === TAG.OCTET_STRING
        : parts.length === 3 && parts[1]!.tag === TAG.BOOLEAN && parts[2]!.tag === TAG.OCTET_STRING);
      if (!ok) return undefined;
    }
    i++;
  }
  if (i !== f.length) return undefined;
  const keyAlgorithm = childrenOf(b, keyAlg!)![0]!;
  return { cert: t, tbs, serial, issuer, subject, spki: spki!, keyAlgorithm, publicKey };
}
