import * as asn1js from 'asn1js';
import { IssuerAndSerialNumber, SignerInfo } from 'pkijs';
import { bytesEqual, concatBytes, toHex } from '../wire/hex.js';
import {
  DER_LIMITS, bufferSource, commonName, formatName, isIssuedBy, issuerDer, nameKey, namesMatch, parseCertificate,
  rsaPublicKey, rsaVerify, subjectDer, subjectKeyIdentifier, type HashName, type ParsedCert, type RsaKey,
} from './x509.js';

/**
 * PKCS#7 detached-signature verification for EFI_VARIABLE_AUTHENTICATION_2 CertData
 * (UEFI 2.10 §8.2.2; spec §4.2), following edk2 CryptoPkg Pkcs7Verify: bare or
 * ContentInfo-wrapped SignedData, exactly one signer, SHA-256/384/512, RSA PKCS#1 v1.5,
 * partial chains, no date / key-usage / purpose checks. The trust walk is our own over
 * pkijs primitives because pkijs' chain engine insists on validity dates.
 */

export type Pkcs7Failure =
  | 'malformed'            // not DER PKCS#7 SignedData (bare or ContentInfo-wrapped)
  | 'signer-count'         // not exactly one SignerInfo
  | 'unsupported-digest'   // digest other than SHA-256/384/512
  | 'unsupported-key'      // not RSA 2048..4096
  | 'no-signer-cert'       // the SignerInfo's certificate is not in the PKCS#7
  | 'bad-signature'        // the signature (or messageDigest) does not match
  | 'untrusted';           // no chain from the signer to any anchor

export type Pkcs7Result =
  | { ok: true; signerCert: Uint8Array; chain: Uint8Array[]; wrapped: boolean }
  | { ok: false; reason: Pkcs7Failure; detail: string };

/**
 * `qemuBinding`: QEMU would bind the variable to the same signer and root (its
 * certificate 0 is the SignerInfo's signer and its last certificate the root we
 * climbed to, spec §4.8, §10.2); when false the digests differ (docs/deviations.md #16).
 */
export type PrivateResult =
  | { ok: true; digest: Uint8Array; signerCert: Uint8Array; wrapped: boolean; qemuBinding: boolean }
  | { ok: false; reason: Pkcs7Failure; detail: string };

/**
 * Work bounds for one verification of guest-supplied bytes: at most this many embedded
 * certificates, chain links and certificate-signature checks (each one RSA public-key
 * operation), whatever the input. Real payloads use 1–2 certificates and 1–2 links.
 */
export const PKCS7_LIMITS = { maxCertificates: 32, maxChainDepth: 8, maxSignatureChecks: 16 } as const;

/** Signer RSA modulus sizes edk2/Microsoft payloads use (spec §4.1). */
export const SIGNER_RSA_BITS = { min: 2048, max: 4096 } as const;

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

/** edk2 AuthVariableLib accepts only these digests for time-based authenticated writes. */
const DIGESTS: ReadonlyMap<string, HashName> = new Map([
  ['2.16.840.1.101.3.4.2.1', 'SHA-256'],
  ['2.16.840.1.101.3.4.2.2', 'SHA-384'],
  ['2.16.840.1.101.3.4.2.3', 'SHA-512'],
]);

/** shaNWithRSAEncryption as a SignerInfo signatureAlgorithm (OpenSSL accepts it as well as rsaEncryption). */
const RSA_WITH: ReadonlyMap<string, HashName> = new Map([
  ['1.2.840.113549.1.1.11', 'SHA-256'],
  ['1.2.840.113549.1.1.12', 'SHA-384'],
  ['1.2.840.113549.1.1.13', 'SHA-512'],
]);

type Failure = { ok: false; reason: Pkcs7Failure; detail: string };
const fail = (reason: Pkcs7Failure, detail: string): Failure => ({ ok: false, reason, detail });

/** `wrapped`: the SignedData came inside a ContentInfo (QEMU rejects that form, spec §4.2 [BUG]). */
interface Parsed { signerInfo: SignerInfo; certs: ParsedCert[]; digestAlgorithms: string[]; wrapped: boolean }

function isContext(node: asn1js.AsnType, tag: number): boolean {
  return node.idBlock.tagClass === 3 && node.idBlock.tagNumber === tag;
}

/** One TLV: where it starts, where its contents start, where it ends. */
interface Tlv { tag: number; start: number; body: number; end: number }

/**
 * DER framing, read byte by byte (no crypto, no values): the TLV at `off`, whose
 * encoding must fit in [off, limit). Low tag numbers only (SignedData uses no
 * others); definite lengths only — DER has no indefinite form.
 */
function tlvAt(b: Uint8Array, off: number, limit: number): Tlv | undefined {
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
function childrenOf(b: Uint8Array, t: Tlv, max = 4096): Tlv[] | undefined {
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
function framingExact(b: Uint8Array, t: Tlv, depth = 0, budget = { nodes: DER_LIMITS.maxNodes }): boolean {
  if (depth > DER_LIMITS.maxDepth || --budget.nodes < 0) return false;
  if ((t.tag & 0x20) === 0) return true;
  const kids = childrenOf(b, t);
  if (!kids) return false;
  for (const k of kids) if (!framingExact(b, k, depth + 1, budget)) return false;
  return true;
}

/** Decode a small DER piece with asn1js (the SignerInfo, the digest set). */
function berNode(b: Uint8Array, t: Tlv): asn1js.AsnType | undefined {
  const asn = asn1js.fromBER(b.subarray(t.start, t.end), DER_LIMITS);
  return asn.offset === t.end - t.start ? asn.result : undefined;
}

const SIGNED_DATA_OID_DER = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02);
const TAG = { INTEGER: 0x02, OID: 0x06, SEQUENCE: 0x30, SET: 0x31, CTX0: 0xa0, CTX1: 0xa1 } as const;

/**
 * Decode CertData. edk2 WrapPkcs7Data accepts a ContentInfo{signedData} as is and
 * wraps anything else, so both shapes are valid; QEMU's copy of that test is broken
 * (spec §4.2 [BUG]) and we follow edk2. Trailing bytes after the DER are rejected:
 * dwLength delimits CertData exactly.
 *
 * The SignedData layout is read from its DER framing; asn1js/pkijs decode only the
 * SignerInfo, the digest set and certificates not seen before (x509.ts caches them
 * by their bytes) — decoding the whole structure with asn1js cost ~1.7 ms a payload.
 */
function parsePkcs7(certData: Uint8Array): Parsed | Failure {
  const top = tlvAt(certData, 0, certData.length);
  if (!top) return fail('malformed', 'not DER: the outer length does not fit');
  if (top.end !== certData.length) return fail('malformed', `${certData.length - top.end} bytes after the PKCS#7 DER`);
  if (!framingExact(certData, top)) return fail('malformed', 'a length does not match its contents (not DER)');
  if (top.tag !== TAG.SEQUENCE) return fail('malformed', 'PKCS#7 is not a SEQUENCE');
  let sd = top;
  const outer = childrenOf(certData, top)!;
  if (outer[0]?.tag === TAG.OID) {
    // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
    const oid = certData.subarray(outer[0].body, outer[0].end);
    if (!bytesEqual(oid, SIGNED_DATA_OID_DER)) return fail('malformed', `ContentInfo type is not signedData (${OID_SIGNED_DATA})`);
    const inner = outer[1] && outer[1].tag === TAG.CTX0 ? childrenOf(certData, outer[1])! : [];
    if (outer.length !== 2 || inner.length !== 1) return fail('malformed', 'ContentInfo without a [0] SignedData');
    sd = inner[0]!;
    if (sd.tag !== TAG.SEQUENCE) return fail('malformed', 'SignedData is not a SEQUENCE');
  }
  // SignedData ::= SEQUENCE { version INTEGER, digestAlgorithms SET, encapContentInfo
  //   SEQUENCE, certificates [0] IMPLICIT OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET }
  // (RFC 5652 §5.1).
  const fields = childrenOf(certData, sd)!;
  let i = 0;
  const version = fields[i++], digestSet = fields[i++], encap = fields[i++];
  if (version?.tag !== TAG.INTEGER || digestSet?.tag !== TAG.SET) return fail('malformed', 'SignedData version/digestAlgorithms');
  if (encap?.tag !== TAG.SEQUENCE || childrenOf(certData, encap)![0]?.tag !== TAG.OID) return fail('malformed', 'SignedData encapContentInfo');
  let certSet: Tlv | undefined;
  if (fields[i]?.tag === TAG.CTX0) certSet = fields[i++];
  if (fields[i]?.tag === TAG.CTX1) i++;
  const infos = fields[i++];
  if (infos?.tag !== TAG.SET || i !== fields.length) return fail('malformed', 'SignedData signerInfos');
  // RFC 5652 §5.1: the digest algorithms the signers use; OpenSSL refuses a signer whose digest is not listed.
  const digestNode = berNode(certData, digestSet);
  if (!(digestNode instanceof asn1js.Set)) return fail('malformed', 'SignedData digestAlgorithms');
  const digestAlgorithms: string[] = [];
  for (const alg of digestNode.valueBlock.value) {
    const oid = alg instanceof asn1js.Sequence ? alg.valueBlock.value[0] : undefined;
    if (oid instanceof asn1js.ObjectIdentifier) digestAlgorithms.push(oid.getValue());
  }
  const certNodes = certSet ? childrenOf(certData, certSet)! : [];
  if (certNodes.length > PKCS7_LIMITS.maxCertificates) {
    return fail('malformed', `${certNodes.length} certificates (limit ${PKCS7_LIMITS.maxCertificates})`);
  }
  const certs: ParsedCert[] = [];
  for (const node of certNodes) {
    // CertificateChoices other than a plain Certificate (attribute / other formats) play no part in trust.
    if (node.tag !== TAG.SEQUENCE) continue;
    const c = parseCertificate(certData.subarray(node.start, node.end));
    if (!c) return fail('malformed', 'an embedded certificate does not decode');
    certs.push(c);
  }
  // edk2 Pkcs7Verify requires exactly one signer; decide that before decoding any, so
  // a SET of thousands of SignerInfos costs nothing.
  const infoNodes = childrenOf(certData, infos)!;
  if (infoNodes.length !== 1) return fail('signer-count', `${infoNodes.length} SignerInfos, edk2 requires exactly one`);
  const siNode = berNode(certData, infoNodes[0]!);
  if (!siNode) return fail('malformed', 'SignerInfo does not decode');
  try {
    return { signerInfo: new SignerInfo({ schema: siNode }), certs, digestAlgorithms, wrapped: sd !== top };
  } catch (e) {
    return fail('malformed', `SignerInfo: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Decoded CertData, by its exact bytes. A fleet update (`uefi-vars apply`) or a
 * firmware that retries presents the same PKCS#7 again and again; decoding it
 * (asn1js/pkijs, ~1 ms) is the same work each time, while the signature and the
 * trust walk are still checked on every call. Bounded (LRU) so a guest cannot grow
 * it; a hit is confirmed byte for byte; entries are decoded from a private copy, so
 * a caller reusing its buffer cannot change one. Decoded objects are never modified.
 */
const PARSED_LIMIT = 8;
const parsedCache = new Map<string, { der: Uint8Array; parsed: Parsed }>();

function parsedKey(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return `${b.length}:${h >>> 0}`;
}

function parsePkcs7Cached(certData: Uint8Array): Parsed | Failure {
  const k = parsedKey(certData);
  const hit = parsedCache.get(k);
  if (hit && bytesEqual(hit.der, certData)) {
    parsedCache.delete(k);
    parsedCache.set(k, hit); // most recently used last
    return hit.parsed;
  }
  const der = certData.slice();
  const r = parsePkcs7(der);
  if (!('ok' in r)) {
    parsedCache.set(k, { der, parsed: r });
    if (parsedCache.size > PARSED_LIMIT) parsedCache.delete(parsedCache.keys().next().value!);
  }
  return r;
}

/** INTEGER content bytes without redundant sign-extension bytes, so equal values compare equal. */
function minimalInteger(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && ((b[i] === 0x00 && b[i + 1]! < 0x80) || (b[i] === 0xff && b[i + 1]! >= 0x80))) i++;
  return b.subarray(i);
}

/**
 * The certificate the SignerInfo names — by issuerAndSerialNumber (compared as the
 * signed INTEGER it is: AMI's test PK has a negative serial) or by subjectKeyIdentifier.
 * Spec §10.2: bind to this certificate, never to "certificate 0".
 */
function findSigner(si: SignerInfo, certs: readonly ParsedCert[]): ParsedCert | undefined {
  const sid: unknown = si.sid;
  if (sid instanceof IssuerAndSerialNumber) {
    const serial = minimalInteger(sid.serialNumber.valueBlock.valueHexView);
    const issuer = new Uint8Array(sid.issuer.valueBeforeDecode);
    return certs.find((c) => bytesEqual(minimalInteger(c.cert.serialNumber.valueBlock.valueHexView), serial) &&
      namesMatch(issuerDer(c.cert), issuer));
  }
  if (sid instanceof asn1js.Primitive && isContext(sid, 0)) {
    const keyId = sid.valueBlock.valueHexView;
    return certs.find((c) => {
      const ski = subjectKeyIdentifier(c.cert);
      return ski !== undefined && bytesEqual(ski, keyId);
    });
  }
  return undefined;
}

/**
 * Who a PKCS#7 says signed it, for the audit trail: the subject and serial of the
 * certificate its SignerInfo names, or, when that certificate is not embedded,
 * the issuer and serial the SignerInfo quotes. Describes, never verifies; never throws.
 */
export function pkcs7Signer(certData: Uint8Array): { subject: string; serial: string } | undefined {
  try {
    const parsed = parsePkcs7(certData);
    if ('ok' in parsed) return undefined;
    const signer = findSigner(parsed.signerInfo, parsed.certs);
    if (signer) return { subject: formatName(subjectDer(signer.cert)), serial: serialText(signer.cert.serialNumber.valueBlock.valueHexView) };
    const sid: unknown = parsed.signerInfo.sid;
    if (sid instanceof IssuerAndSerialNumber) {
      return { subject: `issued by ${formatName(new Uint8Array(sid.issuer.valueBeforeDecode))}`, serial: serialText(sid.serialNumber.valueBlock.valueHexView) };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** A serial number as the signed INTEGER it is, in hex ("-15fe…" for AMI's negative test serial). */
function serialText(raw: Uint8Array): string {
  const b = minimalInteger(raw);
  if (b.length === 0) return '0';
  let v = BigInt('0x' + toHex(b));
  if ((b[0]! & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
  return v.toString(16);
}

async function digest(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest(hash, bufferSource(data)));
}

/**
 * Check the one SignerInfo's signature over `content` (PKCS#7 §9.3 / RFC 5652 §5.4):
 * with signed attributes, messageDigest must equal hash(content) and the RSA signature
 * covers the DER SET OF the attributes; without, it covers the content itself.
 */
async function checkSignature(si: SignerInfo, key: RsaKey, hash: HashName, content: Uint8Array): Promise<Failure | undefined> {
  const signature = new Uint8Array(si.signature.getValue());
  let covered = content;
  if (si.signedAttrs) {
    const md = si.signedAttrs.attributes.filter((a) => a.type === OID_MESSAGE_DIGEST);
    const value: unknown = md.length === 1 && md[0]!.values.length === 1 ? md[0]!.values[0] : undefined;
    if (!(value instanceof asn1js.OctetString)) return fail('bad-signature', 'signed attributes without exactly one messageDigest');
    if (!bytesEqual(new Uint8Array(value.getValue()), await digest(hash, content))) {
      return fail('bad-signature', 'messageDigest does not match the signed data');
    }
    // pkijs keeps the attributes' original encoding with the [0] tag already turned into SET (0x31).
    covered = new Uint8Array(si.signedAttrs.encodedValue);
  }
  if (!(await rsaVerify(key, hash, signature, covered))) return fail('bad-signature', 'RSA signature does not verify');
  return undefined;
}

interface Verified { signer: ParsedCert; certs: ParsedCert[]; wrapped: boolean }

/** Everything up to and including the signature check; the trust decision is the caller's. */
async function verifySignerSignature(certData: Uint8Array, content: Uint8Array): Promise<Verified | Failure> {
  const parsed = parsePkcs7Cached(certData);
  if ('ok' in parsed) return parsed;
  const si = parsed.signerInfo;
  const hash = DIGESTS.get(si.digestAlgorithm.algorithmId);
  if (!hash) return fail('unsupported-digest', `digest ${si.digestAlgorithm.algorithmId} is not SHA-256/384/512`);
  if (!parsed.digestAlgorithms.includes(si.digestAlgorithm.algorithmId)) {
    return fail('malformed', `the signer's digest ${si.digestAlgorithm.algorithmId} is not in SignedData.digestAlgorithms`);
  }
  const sigAlg = si.signatureAlgorithm.algorithmId;
  if (sigAlg !== OID_RSA_ENCRYPTION && !RSA_WITH.has(sigAlg)) return fail('unsupported-key', `signature algorithm ${sigAlg} is not RSA PKCS#1 v1.5`);
  if (RSA_WITH.has(sigAlg) && RSA_WITH.get(sigAlg) !== hash) return fail('unsupported-digest', `signature algorithm ${sigAlg} disagrees with digest ${hash}`);
  const signer = findSigner(si, parsed.certs);
  if (!signer) return fail('no-signer-cert', 'the certificate named by the SignerInfo is not in the PKCS#7');
  const key = rsaPublicKey(signer.cert);
  if (!key) return fail('unsupported-key', 'signer key is not RSA');
  if (key.bits < SIGNER_RSA_BITS.min || key.bits > SIGNER_RSA_BITS.max) return fail('unsupported-key', `signer key is RSA-${key.bits}`);
  const bad = await checkSignature(si, key, hash, content);
  if (bad) return bad;
  return { signer, certs: parsed.certs, wrapped: parsed.wrapped };
}

/**
 * Per-verification state of the trust walk: the remaining certificate-signature checks.
 * Canonical names live in a WeakMap beside the bounded certificate cache, so they go
 * when their certificate does and a guest cannot grow them.
 */
const canonicalNames = new WeakMap<ParsedCert, { subject: string; issuer: string }>();

class Walk {
  private left: number = PKCS7_LIMITS.maxSignatureChecks;
  take(): boolean { return this.left-- > 0; }
  private keys(c: ParsedCert): { subject: string; issuer: string } {
    // Parsed certificates are cached and immutable (x509.ts), so their canonical
    // names are computed once per certificate, not once per verification.
    let k = canonicalNames.get(c);
    if (!k) {
      k = { subject: nameKey(subjectDer(c.cert)), issuer: nameKey(issuerDer(c.cert)) };
      canonicalNames.set(c, k);
    }
    return k;
  }
  /** Whether `parent`'s subject is `child`'s issuer (the name half of an issuer link). */
  namesIssuer(child: ParsedCert, parent: ParsedCert): boolean { return this.keys(child).issuer === this.keys(parent).subject; }
  /** Self-issued (subject = issuer): the top of any chain built through it. */
  selfIssued(c: ParsedCert): boolean { return this.keys(c).subject === this.keys(c).issuer; }
}

/**
 * A trust anchor, decoded only when its subject is needed. An anchor that is also
 * embedded in the PKCS#7 (Microsoft ships KEK CA 2011 inside every db/dbx update)
 * reuses that decoding.
 */
class Anchor {
  private decoded: ParsedCert | null | undefined;
  constructor(readonly der: Uint8Array, private readonly embedded: readonly ParsedCert[]) {}
  get parsed(): ParsedCert | undefined {
    if (this.decoded === undefined) {
      this.decoded = this.embedded.find((c) => bytesEqual(c.der, this.der)) ?? parseCertificate(this.der, true) ?? null;
    }
    return this.decoded ?? undefined;
  }
}

/**
 * Date-free partial-chain trust walk (edk2: X509_V_FLAG_PARTIAL_CHAIN |
 * NO_CHECK_TIME, X509_PURPOSE_ANY). From `cur`, trust holds if cur is byte-identical to
 * an anchor or is signed by one; otherwise climb to an embedded certificate whose
 * subject matches cur's issuer and whose key verifies cur's signature. Depth-first with
 * no repeats on the path, bounded by depth and the shared signature budget.
 */
async function walkToAnchor(cur: ParsedCert, path: ParsedCert[], certs: readonly ParsedCert[],
  anchors: readonly Anchor[], walk: Walk): Promise<Uint8Array[] | undefined> {
  const chain = (): Uint8Array[] => path.map((p) => p.der);
  if (anchors.some((a) => bytesEqual(a.der, cur.der))) return chain();
  for (const a of anchors) {
    const parsed = a.parsed;
    if (!parsed || !walk.namesIssuer(cur, parsed)) continue;
    if (!walk.take()) return undefined;
    if (await isIssuedBy(cur.cert, parsed.cert)) return [...chain(), a.der];
  }
  if (path.length > PKCS7_LIMITS.maxChainDepth || walk.selfIssued(cur)) return undefined;
  for (const next of certs) {
    if (path.some((p) => bytesEqual(p.der, next.der)) || !walk.namesIssuer(cur, next)) continue;
    if (!walk.take()) return undefined;
    if (!(await isIssuedBy(cur.cert, next.cert))) continue;
    const found = await walkToAnchor(next, [...path, next], certs, anchors, walk);
    if (found) return found;
  }
  return undefined;
}

/**
 * Verify a detached PKCS#7 signature over `content` with any of `anchors` (DER
 * X.509) as trust anchor (partial chains allowed; dates, key usage, EKU ignored).
 * On success `chain` runs from the signer to the anchor that granted trust (the anchor
 * is appended when it is not itself one of the embedded certificates); `signerCert` and
 * `chain` are copies the caller may keep. Never throws.
 */
export async function verifyDetached(certData: Uint8Array, content: Uint8Array, anchors: readonly Uint8Array[]): Promise<Pkcs7Result> {
  try {
    const v = await verifySignerSignature(certData, content);
    if ('ok' in v) return v;
    const parsedAnchors = anchors.map((der) => new Anchor(der, v.certs));
    const chain = await walkToAnchor(v.signer, [v.signer], v.certs, parsedAnchors, new Walk());
    if (!chain) return fail('untrusted', `no chain from the signer to any of ${anchors.length} trust anchor(s)`);
    // Copies: the DER views point into CertData, which may live in a reused request buffer.
    return { ok: true, signerCert: v.signer.der.slice(), chain: chain.map((c) => c.slice()), wrapped: v.wrapped };
  } catch (e) {
    return fail('malformed', `unexpected: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Climb from the signer through embedded certificates by verified issuer links (name
 * match + signature) until a self-issued certificate or no further issuer: the last
 * one reached is the root. Undefined if the chain is longer than the depth limit.
 */
async function climbToRoot(signer: ParsedCert, certs: readonly ParsedCert[], walk: Walk): Promise<ParsedCert | undefined> {
  const path = [signer];
  let cur = signer;
  while (!walk.selfIssued(cur)) {
    let next: ParsedCert | undefined;
    for (const c of certs) {
      if (path.some((p) => bytesEqual(p.der, c.der)) || !walk.namesIssuer(cur, c)) continue;
      if (!walk.take()) return undefined;
      if (await isIssuedBy(cur.cert, c.cert)) { next = c; break; }
    }
    if (!next) break;
    if (path.length > PKCS7_LIMITS.maxChainDepth) return undefined;
    path.push(next);
    cur = next;
  }
  return cur;
}

/**
 * Private (non Secure Boot) time-based authenticated variable: verify with the top
 * certificate of the signer's chain inside the PKCS#7 as the only anchor, and
 * return QEMU's digest SHA-256(CN(signer) || SHA-256(DER(root))) (spec §4.8).
 * The signer is the certificate the SignerInfo names (spec §10.2), not QEMU's
 * "certificate 0"; the root is reached through verified links, so trust in it holds
 * by construction. A signer without a commonName is refused, as QEMU refuses it.
 */
export async function verifyPrivate(certData: Uint8Array, content: Uint8Array): Promise<PrivateResult> {
  try {
    const v = await verifySignerSignature(certData, content);
    if ('ok' in v) return v;
    const cn = commonName(v.signer.cert);
    if (cn === undefined) return fail('untrusted', 'signer certificate has no commonName to bind the variable to');
    const root = await climbToRoot(v.signer, v.certs, new Walk());
    if (!root) return fail('untrusted', `signer chain exceeds ${PKCS7_LIMITS.maxChainDepth} links or the check budget`);
    const rootHash = await digest('SHA-256', root.der);
    const value = await digest('SHA-256', concatBytes([new TextEncoder().encode(cn), rootHash]));
    const qemuBinding = v.certs[0] === v.signer && v.certs[v.certs.length - 1] === root;
    return { ok: true, digest: value, signerCert: v.signer.der.slice(), wrapped: v.wrapped, qemuBinding };
  } catch (e) {
    return fail('malformed', `unexpected: ${e instanceof Error ? e.message : String(e)}`);
  }
}
