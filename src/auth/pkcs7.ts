import * as asn1js from 'asn1js';
import { IssuerAndSerialNumber, SignerInfo } from 'pkijs';
import { bytesEqual, concatBytes, toHex } from '../wire/hex.js';
import {
  DER_LIMITS, TAG, canonicalNameKey, childrenOf, framingExact, minimalInteger, nameShape, nodeCount, tlvAt, type Tlv,
} from './der.js';
import {
  bufferSource, commonName, formatName, rsaPublicKey, rsaVerify, subjectDer, subjectKeyIdentifier, type HashName, type RsaKey,
} from './x509.js';
import { Anchor, ChainCert, TRUST_LIMITS, Walk, climbToRoot, walkToAnchor } from './trust.js';

/**
 * PKCS#7 detached-signature verification for EFI_VARIABLE_AUTHENTICATION_2 CertData
 * (UEFI 2.10 §8.2.2; spec §4.2), following edk2 CryptoPkg Pkcs7Verify: bare or
 * ContentInfo-wrapped SignedData, exactly one signer, SHA-256/384/512, RSA PKCS#1 v1.5,
 * partial chains, no date / key-usage / purpose checks. The SignedData is read from its
 * DER (der.ts) and checked against PKCS7_LIMITS before pkijs decodes anything; the
 * trust walk (trust.ts) is our own because pkijs' chain engine insists on validity dates.
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
 * What one PKCS#7 from a guest may carry (docs/deviations.md, "Work bounds"): beyond any
 * of these the write is refused at once (EFI_SECURITY_VIOLATION, reason malformed,
 * detail "over limit"), before pkijs decodes anything. Real payloads (Microsoft db/dbx/KEK
 * updates, OEM PK signers) carry 1–2 certificates of ≤ 1.9 KB and ≤ 92 DER nodes, ≤ 3.6 KB together, Names
 * of ≤ 6 RDNs and ≤ 190 bytes, one certificate with the signer's serial, 1–2 links.
 * OpenSSL has no such limits; without them one request cost seconds (issue 18).
 */
export const PKCS7_LIMITS = {
  maxCertificates: 32,
  maxCertificateBytes: 32 * 1024,
  maxNameRdns: 64,
  maxNameBytes: 1024,
  maxCertificateNodes: 512,
  maxSignerCandidates: 8,
  maxSignerInfoNodes: 512,
  maxDigestAlgorithms: 16,
  ...TRUST_LIMITS,
} as const;

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
interface Parsed { signerInfo: SignerInfo; certs: ChainCert[]; digestAlgorithms: string[]; wrapped: boolean }
const overLimit = (what: string): Failure => fail('malformed', `over limit: ${what}`);

function isContext(node: asn1js.AsnType, tag: number): boolean {
  return node.idBlock.tagClass === 3 && node.idBlock.tagNumber === tag;
}

/** Decode a small DER piece with asn1js (the SignerInfo, the digest set). */
function berNode(b: Uint8Array, t: Tlv): asn1js.AsnType | undefined {
  const asn = asn1js.fromBER(b.subarray(t.start, t.end), DER_LIMITS);
  return asn.offset === t.end - t.start ? asn.result : undefined;
}

const SIGNED_DATA_OID_DER = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02);

/** A Name from the guest within the caps, else the failure. */
function checkName(b: Uint8Array, t: Tlv, what: string): Failure | undefined {
  const shape = nameShape(b, t);
  if (!shape) return fail('malformed', `${what} is not a Name`);
  if (shape.rdns > PKCS7_LIMITS.maxNameRdns) return overLimit(`${what} has ${shape.rdns} RDNs (limit ${PKCS7_LIMITS.maxNameRdns})`);
  if (shape.bytes > PKCS7_LIMITS.maxNameBytes) return overLimit(`${what} is ${shape.bytes} bytes (limit ${PKCS7_LIMITS.maxNameBytes})`);
  return undefined;
}

/**
 * The SignerInfo's shape and size before asn1js/pkijs decode it: a bounded number of
 * nodes, and when it names its signer by issuerAndSerialNumber, an issuer within the caps.
 */
function checkSignerInfo(b: Uint8Array, si: Tlv): Failure | undefined {
  if (si.tag !== TAG.SEQUENCE) return fail('malformed', 'SignerInfo is not a SEQUENCE');
  if (nodeCount(b, si, PKCS7_LIMITS.maxSignerInfoNodes) > PKCS7_LIMITS.maxSignerInfoNodes) {
    return overLimit(`SignerInfo has more than ${PKCS7_LIMITS.maxSignerInfoNodes} DER nodes`);
  }
  const sid = childrenOf(b, si)![1];
  if (sid?.tag === TAG.SEQUENCE) {
    const issuer = childrenOf(b, sid)![0];
    if (issuer) return checkName(b, issuer, 'the SignerInfo issuer');
  }
  return undefined;
}

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
  if (childrenOf(certData, digestSet)!.length > PKCS7_LIMITS.maxDigestAlgorithms) {
    return overLimit(`more than ${PKCS7_LIMITS.maxDigestAlgorithms} digestAlgorithms`);
  }
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
  const certBytes = certSet ? certSet.end - certSet.body : 0;
  if (certBytes > PKCS7_LIMITS.maxCertificateBytes) return overLimit(`${certBytes} bytes of certificates (limit ${PKCS7_LIMITS.maxCertificateBytes})`);
  const certs: ChainCert[] = [];
  for (const node of certNodes) {
    // CertificateChoices other than a plain Certificate (attribute / other formats) play no part in trust.
    if (node.tag !== TAG.SEQUENCE) continue;
    if (nodeCount(certData, node, PKCS7_LIMITS.maxCertificateNodes) > PKCS7_LIMITS.maxCertificateNodes) {
      return overLimit(`a certificate has more than ${PKCS7_LIMITS.maxCertificateNodes} DER nodes`);
    }
    // Read from the DER layout only; pkijs decodes a certificate when a signature check needs it.
    const c = ChainCert.of(certData.subarray(node.start, node.end));
    if (!c) return fail('malformed', 'an embedded certificate does not decode');
    const bad = checkName(c.issuer, tlvAt(c.issuer, 0, c.issuer.length)!, 'a certificate issuer') ??
      checkName(c.subject, tlvAt(c.subject, 0, c.subject.length)!, 'a certificate subject');
    if (bad) return bad;
    certs.push(c);
  }
  // edk2 Pkcs7Verify requires exactly one signer; decide that before decoding any, so
  // a SET of thousands of SignerInfos costs nothing.
  const infoNodes = childrenOf(certData, infos)!;
  if (infoNodes.length !== 1) return fail('signer-count', `${infoNodes.length} SignerInfos, edk2 requires exactly one`);
  const siBad = checkSignerInfo(certData, infoNodes[0]!);
  if (siBad) return siBad;
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

/**
 * The certificate the SignerInfo names — by issuerAndSerialNumber (compared as the
 * signed INTEGER it is: AMI's test PK has a negative serial) or by subjectKeyIdentifier.
 * Spec §10.2: bind to this certificate, never to "certificate 0". Serials are compared
 * first; the issuer's canonical key is computed at most once, and no more than
 * maxSignerCandidates certificates may carry the signer's serial.
 */
function findSigner(si: SignerInfo, certs: readonly ChainCert[]): ChainCert | Failure | undefined {
  const sid: unknown = si.sid;
  if (sid instanceof IssuerAndSerialNumber) {
    const serial = minimalInteger(sid.serialNumber.valueBlock.valueHexView);
    const issuer = new Uint8Array(sid.issuer.valueBeforeDecode);
    let key: string | undefined;
    const issuerKey = (): string => (key ??= canonicalNameKey(issuer));
    const candidates = certs.filter((c) => bytesEqual(c.serial, serial));
    if (candidates.length > PKCS7_LIMITS.maxSignerCandidates) {
      return overLimit(`${candidates.length} certificates carry the signer's serial (limit ${PKCS7_LIMITS.maxSignerCandidates})`);
    }
    return candidates.find((c) => c.issuerIs(issuer, issuerKey));
  }
  if (sid instanceof asn1js.Primitive && isContext(sid, 0)) {
    const keyId = sid.valueBlock.valueHexView;
    return certs.find((c) => {
      const p = c.parsed;
      const ski = p && subjectKeyIdentifier(p.cert);
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
    const found = findSigner(parsed.signerInfo, parsed.certs);
    const signer = found instanceof ChainCert ? found.parsed : undefined;
    if (signer) return { subject: formatName(subjectDer(signer.cert)), serial: serialText(signer.cert.serialNumber.valueBlock.valueHexView) };
    if (found && !(found instanceof ChainCert)) return undefined;
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

interface Verified { signer: ChainCert; certs: ChainCert[]; wrapped: boolean }

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
  if (!(signer instanceof ChainCert)) return signer;
  const signerCert = signer.parsed;
  if (!signerCert) return fail('malformed', 'an embedded certificate does not decode');
  const key = rsaPublicKey(signerCert.cert);
  if (!key) return fail('unsupported-key', 'signer key is not RSA');
  if (key.bits < SIGNER_RSA_BITS.min || key.bits > SIGNER_RSA_BITS.max) return fail('unsupported-key', `signer key is RSA-${key.bits}`);
  const bad = await checkSignature(si, key, hash, content);
  if (bad) return bad;
  return { signer, certs: parsed.certs, wrapped: parsed.wrapped };
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
    const cn = commonName(v.signer.parsed!.cert);
    if (cn === undefined) return fail('untrusted', 'signer certificate has no commonName to bind the variable to');
    const root = await climbToRoot(v.signer, v.certs, new Walk());
    if (!root) return fail('untrusted', `signer chain exceeds ${PKCS7_LIMITS.maxChainDepth} links or the work budget`);
    const rootHash = await digest('SHA-256', root.der);
    const value = await digest('SHA-256', concatBytes([new TextEncoder().encode(cn), rootHash]));
    const qemuBinding = v.certs[0] === v.signer && v.certs[v.certs.length - 1] === root;
    return { ok: true, digest: value, signerCert: v.signer.der.slice(), wrapped: v.wrapped, qemuBinding };
  } catch (e) {
    return fail('malformed', `unexpected: ${e instanceof Error ? e.message : String(e)}`);
  }
}
