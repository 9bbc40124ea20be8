import * as asn1js from 'asn1js';
import { Certificate } from 'pkijs';
import { bytesEqual, toHex } from '../wire/hex.js';
import { DER_LIMITS, TAG, canonicalNameKey, certificateLayout, childrenOf, tlvAt } from './der.js';

export { DER_LIMITS };

/**
 * X.509 helpers over pkijs/asn1js, shared by the PKCS#7 verifier, the signature-list
 * format check and `uefi-vars print`. Nothing here checks validity dates, key usage,
 * EKU or basic constraints: edk2 verifies Secure Boot payloads with
 * X509_V_FLAG_NO_CHECK_TIME and X509_PURPOSE_ANY (CryptoPkg Pkcs7Verify), and the
 * vectors' Microsoft KEK CA 2011 has expired while its signatures must still verify.
 */

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const OID_COMMON_NAME = '2.5.4.3';
const OID_SUBJECT_KEY_ID = '2.5.29.14';

/** Certificate signature algorithms we accept for chain links: RSA PKCS#1 v1.5 with SHA-2. */
const CERT_SIG_HASH: ReadonlyMap<string, HashName> = new Map([
  ['1.2.840.113549.1.1.11', 'SHA-256'],
  ['1.2.840.113549.1.1.12', 'SHA-384'],
  ['1.2.840.113549.1.1.13', 'SHA-512'],
]);

/** Issuer key sizes we accept for chain links (OpenSSL security level 1 floor; an upper bound keeps work bounded). */
export const ISSUER_RSA_BITS = { min: 1024, max: 8192 } as const;

/** A parsed certificate together with the exact DER it came from. */
export interface ParsedCert {
  der: Uint8Array;
  cert: Certificate;
}

/**
 * Parse one DER certificate. Trailing bytes are an error unless `allowTrailing`
 * (edk2 reads certificates with d2i_X509, which ignores what follows, e.g. for the
 * EFI_CERT_X509 entries of a signature list). Never throws.
 */
export function parseCertificate(der: Uint8Array, allowTrailing = false): ParsedCert | undefined {
  const hit = cached(der);
  if (hit) return hit;
  try {
    const asn = asn1js.fromBER(der, DER_LIMITS);
    if (asn.offset === -1) return undefined;
    if (!allowTrailing && asn.offset !== der.length) return undefined;
    const cert = new Certificate({ schema: asn.result });
    const parsed = { der: allowTrailing ? der.subarray(0, asn.offset) : der, cert };
    if (parsed.der.length === der.length) remember(parsed);
    return parsed;
  } catch {
    return undefined;
  }
}

/**
 * Parsed certificates, by their exact DER. asn1js/pkijs take ~1 ms to decode
 * one certificate, and the same few (PK, the KEK CAs, Microsoft's signers) come
 * back on every key-database write. Bounded (LRU) so a guest cannot grow it;
 * a hit is confirmed byte for byte. Parsed objects are never modified.
 */
const CACHE_LIMIT = 64;
const cache = new Map<string, ParsedCert>();

function derKey(der: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < der.length; i++) h = Math.imul(h ^ der[i]!, 0x01000193);
  return `${der.length}:${h >>> 0}`;
}

function cached(der: Uint8Array): ParsedCert | undefined {
  const k = derKey(der);
  const hit = cache.get(k);
  if (!hit || hit.der.length !== der.length) return undefined;
  for (let i = 0; i < der.length; i++) if (hit.der[i] !== der[i]) return undefined;
  cache.delete(k);
  cache.set(k, hit); // most recently used last
  return hit;
}

function remember(p: ParsedCert): void {
  const k = derKey(p.der);
  cache.delete(k);
  cache.set(k, p);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
}

// ---------------------------------------------------------------------------------------
// Public keys

export interface RsaKey {
  /** Big-endian modulus without leading zero bytes. */
  modulus: Uint8Array;
  /** Big-endian public exponent without leading zero bytes. */
  exponent: Uint8Array;
  bits: number;
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function bitLength(b: Uint8Array): number {
  if (b.length === 0 || (b.length === 1 && b[0] === 0)) return 0;
  return (b.length - 1) * 8 + (32 - Math.clz32(b[0]!));
}

/**
 * Derived per-certificate values, kept as long as the (cached, immutable)
 * certificate object lives: its RSA key and the imported WebCrypto keys.
 */
const rsaKeys = new WeakMap<Certificate, RsaKey | null>();
const importedKeys = new WeakMap<RsaKey, Map<HashName, Promise<CryptoKey>>>();

/** The RSA public key of a certificate (rsaEncryption SPKI), or undefined for any other key. */
export function rsaPublicKey(cert: Certificate): RsaKey | undefined {
  const known = rsaKeys.get(cert);
  if (known !== undefined) return known ?? undefined;
  const k = readRsaPublicKey(cert);
  rsaKeys.set(cert, k ?? null);
  return k;
}

function readRsaPublicKey(cert: Certificate): RsaKey | undefined {
  try {
    const spki = cert.subjectPublicKeyInfo;
    if (spki.algorithm.algorithmId !== OID_RSA_ENCRYPTION) return undefined;
    return rsaKeyFromBits(spki.subjectPublicKey.valueBlock.valueHexView);
  } catch {
    return undefined;
  }
}

/** rsaEncryption (1.2.840.113549.1.1.1) as DER OID contents. */
const RSA_ENCRYPTION_DER = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);

/**
 * RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017
 * A.1.1), read from the subjectPublicKey BIT STRING's bits: a positive modulus and an
 * odd exponent ≥ 3, as OpenSSL's RSA key decoding requires.
 */
function rsaKeyFromBits(bits: Uint8Array): RsaKey | undefined {
  const seq = tlvAt(bits, 0, bits.length);
  if (seq?.tag !== TAG.SEQUENCE) return undefined;
  const [n, e] = childrenOf(bits, seq) ?? [];
  if (n?.tag !== TAG.INTEGER || e?.tag !== TAG.INTEGER || n.end === n.body || e.end === e.body) return undefined;
  const nRaw = bits.subarray(n.body, n.end), eRaw = bits.subarray(e.body, e.end);
  // A set top bit without a leading zero byte is a negative INTEGER: not a modulus.
  if ((nRaw[0]! & 0x80) !== 0 || (eRaw[0]! & 0x80) !== 0) return undefined;
  const modulus = stripZeros(nRaw), exponent = stripZeros(eRaw);
  const size = bitLength(modulus);
  if (size === 0 || bitLength(exponent) < 2 || (exponent[exponent.length - 1]! & 1) === 0) return undefined;
  return { modulus, exponent, bits: size };
}

/**
 * The RSA key of a DER certificate read from its bytes alone (der.ts layout, no
 * pkijs), or undefined when it is not a certificate or its key is not RSA. With
 * `allowTrailing`, bytes after the certificate are ignored (d2i_X509). Linear in the
 * size; what the signature-list format check needs for every X.509 entry.
 */
export function rsaKeyOfCertificate(der: Uint8Array, allowTrailing = false): RsaKey | undefined {
  const t = tlvAt(der, 0, der.length);
  if (!t || (!allowTrailing && t.end !== der.length)) return undefined;
  const l = certificateLayout(der, t);
  if (!l || !bytesEqual(der.subarray(l.keyAlgorithm.body, l.keyAlgorithm.end), RSA_ENCRYPTION_DER)) return undefined;
  if (l.publicKey.end - l.publicKey.body < 1) return undefined;
  return rsaKeyFromBits(der.subarray(l.publicKey.body + 1, l.publicKey.end));
}

/** WebCrypto wants ArrayBuffer-backed views; copy only when a view sits on a SharedArrayBuffer. */
export function bufferSource(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}

function base64url(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Import an RSA key for RSASSA-PKCS1-v1_5 verification with WebCrypto. */
export function importRsaVerifyKey(key: RsaKey, hash: HashName): Promise<CryptoKey> {
  let byHash = importedKeys.get(key);
  if (!byHash) { byHash = new Map(); importedKeys.set(key, byHash); }
  let p = byHash.get(hash);
  if (!p) {
    p = importJwk(key, hash);
    byHash.set(hash, p);
    p.catch(() => byHash!.delete(hash));
  }
  return p;
}

function importJwk(key: RsaKey, hash: HashName): Promise<CryptoKey> {
  const jwk: JsonWebKey = { kty: 'RSA', n: base64url(key.modulus), e: base64url(key.exponent), ext: true };
  return globalThis.crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']);
}

/** RSASSA-PKCS1-v1_5 verify; any WebCrypto error (bad length, odd key) is just "no". */
export async function rsaVerify(key: RsaKey, hash: HashName, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  try {
    const k = await importRsaVerifyKey(key, hash);
    return await globalThis.crypto.subtle.verify('RSASSA-PKCS1-v1_5', k, bufferSource(signature), bufferSource(data));
  } catch {
    return false;
  }
}

/**
 * Whether `issuer`'s key signed `child` (one RSA public-key operation). Only the
 * signature is checked — no names, dates or extensions: the caller matches names and
 * edk2 ignores the rest (X509_PURPOSE_ANY, NO_CHECK_TIME). SHA-1 certificate
 * signatures are refused: OpenSSL 3 at its default security level rejects them too.
 */
export async function isIssuedBy(child: Certificate, issuer: Certificate): Promise<boolean> {
  const hash = CERT_SIG_HASH.get(child.signatureAlgorithm.algorithmId);
  if (!hash) return false;
  // A signature BIT STRING has no unused bits (OpenSSL ASN1_item_verify: INVALID_BIT_STRING_BITS_LEFT).
  if (child.signatureValue.valueBlock.unusedBits !== 0) return false;
  const key = rsaPublicKey(issuer);
  if (!key || key.bits < ISSUER_RSA_BITS.min || key.bits > ISSUER_RSA_BITS.max) return false;
  return rsaVerify(key, hash, child.signatureValue.valueBlock.valueHexView, child.tbsView);
}

// ---------------------------------------------------------------------------------------
// Names

interface Ava { type: string; value: asn1js.AsnType }
type Rdn = Ava[];

/** RDNSequence → RDNs (each a SET of type/value pairs), in encoding order. */
function parseName(der: Uint8Array): Rdn[] | undefined {
  try {
    const asn = asn1js.fromBER(der, DER_LIMITS);
    if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) return undefined;
    const rdns: Rdn[] = [];
    for (const set of asn.result.valueBlock.value) {
      if (!(set instanceof asn1js.Set)) return undefined;
      const rdn: Rdn = [];
      for (const atv of set.valueBlock.value) {
        if (!(atv instanceof asn1js.Sequence)) return undefined;
        const [type, value] = atv.valueBlock.value;
        if (!(type instanceof asn1js.ObjectIdentifier) || !value) return undefined;
        rdn.push({ type: type.getValue(), value });
      }
      rdns.push(rdn);
    }
    return rdns;
  } catch {
    return undefined;
  }
}

function nameBytes(name: { valueBeforeDecode: ArrayBuffer }): Uint8Array {
  return new Uint8Array(name.valueBeforeDecode);
}

function stringValue(node: asn1js.AsnType): string | undefined {
  return node instanceof asn1js.BaseStringBlock ? node.getValue() : undefined;
}

/**
 * A string that is equal for two names exactly when OpenSSL's X509_NAME_cmp would
 * call them equal for chain building (der.ts canonicalNameKey: string values
 * canonicalised, so an issuer written as PrintableString still matches a subject
 * written as UTF8String, whatever the case or spacing). An undecodable name keys by its bytes.
 */
export function nameKey(der: Uint8Array): string {
  return canonicalNameKey(der);
}

/** Name equality for chain building (see nameKey): the bytes first, the canonical keys only when they differ. */
export function namesMatch(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b) || nameKey(a) === nameKey(b);
}

export function subjectDer(cert: Certificate): Uint8Array { return nameBytes(cert.subject); }
export function issuerDer(cert: Certificate): Uint8Array { return nameBytes(cert.issuer); }

/** Self-issued (subject = issuer): the top of any chain built through it. */
export function isSelfIssued(cert: Certificate): boolean {
  return namesMatch(subjectDer(cert), issuerDer(cert));
}

const SHORT_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'], ['2.5.4.7', 'L'], ['2.5.4.8', 'ST'], ['2.5.4.10', 'O'], ['2.5.4.11', 'OU'],
  ['2.5.4.6', 'C'], ['2.5.4.9', 'STREET'], ['0.9.2342.19200300.100.1.25', 'DC'], ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** RFC 4514 §2.4 escaping of an attribute value. */
function escapeDnValue(v: string): string {
  if (v === '') return '';
  let out = v.replace(/[\\"+,;<>]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ')) out = out.slice(0, -1) + '\\ ';
  return out;
}

/**
 * RFC 4514 string of a DER Name: RDNs in reverse encoding order, short names for the
 * common attributes, dotted OIDs otherwise, non-string values as #hex. Matches what
 * Python's cryptography prints (the vectors' reference JSON).
 */
export function formatName(der: Uint8Array): string {
  const rdns = parseName(der);
  if (!rdns) return '#' + toHex(der);
  return rdns.slice().reverse().map((rdn) => rdn.map((a) => {
    const s = stringValue(a.value);
    const v = s === undefined ? '#' + toHex(a.value.valueBeforeDecodeView) : escapeDnValue(s);
    return `${SHORT_NAMES.get(a.type) ?? a.type}=${v}`;
  }).join('+')).join(',');
}

/** The first commonName of the subject in encoding order (what gnutls get_dn_by_oid(CN, 0) returns). */
export function commonName(cert: Certificate): string | undefined {
  const rdns = parseName(subjectDer(cert));
  for (const rdn of rdns ?? []) {
    for (const a of rdn) {
      if (a.type === OID_COMMON_NAME) return stringValue(a.value);
    }
  }
  return undefined;
}

/** The subjectKeyIdentifier extension's key id, if present. */
export function subjectKeyIdentifier(cert: Certificate): Uint8Array | undefined {
  try {
    const ext = cert.extensions?.find((e) => e.extnID === OID_SUBJECT_KEY_ID);
    if (!ext) return undefined;
    const inner = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView, DER_LIMITS);
    if (inner.offset === -1 || !(inner.result instanceof asn1js.OctetString)) return undefined;
    return inner.result.valueBlock.valueHexView;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Display helpers (uefi-vars print)

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(bytes))));
}

/** SHA-256 fingerprint (lower-case hex) of a DER certificate, as `openssl x509 -fingerprint -sha256` without colons. */
export function fingerprintSha256(der: Uint8Array): Promise<string> {
  return sha256Hex(der);
}

/** Subject of a DER certificate as an RFC 4514 string, or undefined if it does not parse. */
export function certificateSubject(der: Uint8Array): string | undefined {
  const p = parseCertificate(der, true);
  return p && formatName(subjectDer(p.cert));
}

/** First commonName of a DER certificate's subject. */
export function certificateCommonName(der: Uint8Array): string | undefined {
  const p = parseCertificate(der, true);
  return p && commonName(p.cert);
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  commonName: string | undefined;
  /** Serial number as signed hex, `-` for negative ones (AMI's test PK), like Python's cryptography prints it. */
  serialHex: string;
  notBefore: string;
  notAfter: string;
  /** `RSA-2048`, …, or the key algorithm OID for anything else. */
  key: string;
  selfIssued: boolean;
  sha256: string;
}

function serialText(n: asn1js.Integer): string {
  const v = n.toBigInt();
  return v < 0n ? '-' + (-v).toString(16) : v.toString(16);
}

/** Everything `uefi-vars print --verbose` shows about a certificate; undefined if it does not parse. */
export async function describeCertificate(der: Uint8Array): Promise<CertificateInfo | undefined> {
  const p = parseCertificate(der, true);
  if (!p) return undefined;
  const c = p.cert;
  const rsa = rsaPublicKey(c);
  return {
    subject: formatName(subjectDer(c)),
    issuer: formatName(issuerDer(c)),
    commonName: commonName(c),
    serialHex: serialText(c.serialNumber),
    notBefore: c.notBefore.value.toISOString(),
    notAfter: c.notAfter.value.toISOString(),
    key: rsa ? `RSA-${rsa.bits}` : c.subjectPublicKeyInfo.algorithm.algorithmId,
    selfIssued: isSelfIssued(c),
    sha256: await sha256Hex(p.der),
  };
}
