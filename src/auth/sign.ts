import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier, Attribute, ContentInfo, EncapsulatedContentInfo, IssuerAndSerialNumber,
  SignedAndUnsignedAttributes, SignedData, SignerInfo, type Certificate,
} from 'pkijs';
import { Guids, guidBytes, type GuidText } from '../wire/guid.js';
import { concatBytes } from '../wire/hex.js';
import { encodeName } from '../wire/ucs2.js';
import { EFI_TIME_SIZE } from '../wire/time.js';
import { bufferSource, parseCertificate, type HashName } from './x509.js';

/**
 * Producing EFI_VARIABLE_AUTHENTICATION_2 data (UEFI 2.10 §8.2.2; spec §4.1/§4.2) —
 * what `sign-efi-sig-list` / `virt-fw-sigdb` do, for the CLI and for tests. The output
 * has the shape of the Microsoft and OEM payloads: a bare detached SignedData v1, one
 * SignerInfo by issuerAndSerialNumber, rsaEncryption, SHA-256, no signed attributes.
 */

export const WIN_CERT_TYPE_EFI_GUID = 0x0ef1;
export const WIN_CERT_REVISION = 0x0200;
/** EFI_TIME (16) + WIN_CERTIFICATE_UEFI_GUID header (dwLength 4, wRevision 2, wCertificateType 2, CertType 16). */
export const AUTH2_HEADER_SIZE = EFI_TIME_SIZE + 24;

const OID_DATA = '1.2.840.113549.1.7.1';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_TIME = '1.2.840.113549.1.9.5';
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

export interface SignOptions {
  /** Digest for the signature (default SHA-256; edk2 accepts SHA-256/384/512). */
  hash?: HashName;
  /** Add authenticated attributes (contentType, messageDigest, optional signingTime), as RedHat/MiTAC payloads do. */
  signedAttributes?: boolean;
  /** signingTime attribute value; only with signedAttributes. Omitted by default so output is deterministic. */
  signingTime?: Date;
  /** Wrap the SignedData in a ContentInfo (openssl smime output; edk2 accepts it, QEMU does not — spec §4.2). */
  contentInfo?: boolean;
  /** Further certificates to embed after the signer's (intermediate CAs). */
  extraCertificates?: readonly Uint8Array[];
  /** Embed the signer's own certificate (default true; false only to build negative tests). */
  includeSigner?: boolean;
}

export interface SignVariableInput {
  /** Variable name; signed as UCS-2 LE without the terminating NUL. */
  name: string;
  guid: GuidText;
  /** Attributes exactly as they will be passed to SetVariable (e.g. 0x67 for an append). */
  attributes: number;
  /** 16-byte EFI_TIME for the descriptor. */
  time: Uint8Array;
  /** New variable value (for Secure Boot databases: EFI_SIGNATURE_LISTs). */
  payload: Uint8Array;
  /** Signer certificate, DER. */
  signerCert: Uint8Array;
  /** Signer private key: PKCS#8 DER, or PEM ("PRIVATE KEY" or "RSA PRIVATE KEY"). */
  signerKey: Uint8Array | string;
}

/**
 * The bytes a time-based authenticated write signs (spec §4.2, identical in QEMU and
 * edk2): Name (UCS-2, no NUL) ‖ VendorGuid (EFI layout) ‖ Attributes (u32 LE, as
 * passed) ‖ TimeStamp ‖ payload.
 */
export function signedContent(name: string, guid: GuidText, attributes: number, time: Uint8Array, payload: Uint8Array): Uint8Array {
  if (time.length !== EFI_TIME_SIZE) throw new RangeError(`EFI_TIME must be ${EFI_TIME_SIZE} bytes, got ${time.length}`);
  const nameBytes = encodeName(name);
  const attr = new Uint8Array(4);
  new DataView(attr.buffer).setUint32(0, attributes >>> 0, true);
  return concatBytes([nameBytes.subarray(0, nameBytes.length - 2), guidBytes(guid), attr, time, payload]);
}

/** EFI_TIME ‖ WIN_CERTIFICATE_UEFI_GUID{dwLength, 0x0200, 0x0EF1, EFI_CERT_TYPE_PKCS7} ‖ CertData ‖ payload. */
export function encodeAuthentication2(time: Uint8Array, certData: Uint8Array, payload: Uint8Array): Uint8Array {
  if (time.length !== EFI_TIME_SIZE) throw new RangeError(`EFI_TIME must be ${EFI_TIME_SIZE} bytes, got ${time.length}`);
  const hdr = new Uint8Array(24);
  const v = new DataView(hdr.buffer);
  v.setUint32(0, 24 + certData.length, true);
  v.setUint16(4, WIN_CERT_REVISION, true);
  v.setUint16(6, WIN_CERT_TYPE_EFI_GUID, true);
  hdr.set(guidBytes(Guids.certTypePkcs7), 8);
  return concatBytes([time, hdr, certData, payload]);
}

/** The DER of the first PEM block with this label, or undefined. */
export function pemBody(pem: string, label: string): Uint8Array | undefined {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  if (!m) return undefined;
  const bin = atob(m[1]!.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** PKCS#1 RSAPrivateKey → PKCS#8 PrivateKeyInfo (RFC 5208), so WebCrypto can import it. */
function pkcs1ToPkcs8(rsa: Uint8Array): Uint8Array {
  const info = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID_RSA_ENCRYPTION }), new asn1js.Null()] }),
      new asn1js.OctetString({ valueHex: bufferSource(rsa) }),
    ],
  });
  return new Uint8Array(info.toBER());
}

/** Import an RSA signing key from PKCS#8 DER or PEM. Encrypted PEM keys are not supported. */
export async function importSigningKey(key: Uint8Array | string, hash: HashName = 'SHA-256'): Promise<CryptoKey> {
  let pkcs8: Uint8Array | undefined;
  if (typeof key === 'string') {
    if (key.includes('ENCRYPTED PRIVATE KEY')) throw new Error('encrypted private keys are not supported; decrypt it first');
    pkcs8 = pemBody(key, 'PRIVATE KEY');
    if (!pkcs8) {
      const pkcs1 = pemBody(key, 'RSA PRIVATE KEY');
      if (pkcs1) pkcs8 = pkcs1ToPkcs8(pkcs1);
    }
    if (!pkcs8) throw new Error('no "PRIVATE KEY" or "RSA PRIVATE KEY" PEM block found');
  } else {
    pkcs8 = key;
  }
  return globalThis.crypto.subtle.importKey('pkcs8', bufferSource(pkcs8), { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
}

/** X.690 §11.6: DER orders SET OF components by their encodings (shorter padded with zeros). */
function compareDer(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function signedAttributes(content: Uint8Array, hash: HashName, signingTime: Date | undefined): Promise<SignedAndUnsignedAttributes> {
  const digest = await globalThis.crypto.subtle.digest(hash, bufferSource(content));
  const attrs = [
    new Attribute({ type: OID_CONTENT_TYPE, values: [new asn1js.ObjectIdentifier({ value: OID_DATA })] }),
    new Attribute({ type: OID_MESSAGE_DIGEST, values: [new asn1js.OctetString({ valueHex: digest })] }),
  ];
  if (signingTime) attrs.push(new Attribute({ type: OID_SIGNING_TIME, values: [new asn1js.UTCTime({ valueDate: signingTime })] }));
  // OpenSSL (and so edk2) re-encodes the attributes as DER before checking the
  // signature, so they must be signed in DER SET OF order.
  const sorted = attrs
    .map((a) => ({ a, der: new Uint8Array(a.toSchema().toBER()) }))
    .sort((x, y) => compareDer(x.der, y.der))
    .map((x) => x.a);
  return new SignedAndUnsignedAttributes({ type: 0, attributes: sorted });
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * A detached PKCS#7 SignedData over `content`, DER: bare by default, or ContentInfo-
 * wrapped. RSASSA-PKCS1-v1_5 is deterministic, so equal inputs give equal bytes
 * (unless a signingTime is added).
 */
export async function signDetached(content: Uint8Array, signerCert: Uint8Array, signerKey: Uint8Array | string,
  options: SignOptions = {}): Promise<Uint8Array> {
  const hash = options.hash ?? 'SHA-256';
  const signer = parseCertificate(signerCert);
  if (!signer) throw new Error('signer certificate is not a DER X.509 certificate');
  const extra = (options.extraCertificates ?? []).map((der, i) => {
    const p = parseCertificate(der);
    if (!p) throw new Error(`extra certificate ${i} is not a DER X.509 certificate`);
    return p;
  });
  const embedded = [...(options.includeSigner === false ? [] : [signer]), ...extra];
  const key = await importSigningKey(signerKey, hash);
  const signerInfo = new SignerInfo({
    version: 1,
    sid: new IssuerAndSerialNumber({ issuer: signer.cert.issuer, serialNumber: signer.cert.serialNumber }),
  });
  if (options.signedAttributes) signerInfo.signedAttrs = await signedAttributes(content, hash, options.signingTime);
  const sd = new SignedData({
    version: 1,
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID_DATA }),
    signerInfos: [signerInfo],
    certificates: embedded.map((p): Certificate => p.cert),
  });
  await sd.sign(key, 0, hash, bufferSource(content));
  // Microsoft's and the OEMs' payloads name the key algorithm, not the combination;
  // the signature value does not cover this field.
  signerInfo.signatureAlgorithm = new AlgorithmIdentifier({ algorithmId: OID_RSA_ENCRYPTION, algorithmParams: new asn1js.Null() });
  const sdSchema = sd.toSchema(true);
  const der = new Uint8Array(options.contentInfo
    ? new ContentInfo({ contentType: ContentInfo.SIGNED_DATA, content: sdSchema }).toSchema().toBER()
    : sdSchema.toBER());
  // pkijs re-encodes embedded certificates; a PK comparison needs them byte-exact.
  for (const p of embedded) {
    if (!contains(der, p.der)) throw new Error('an embedded certificate did not survive DER re-encoding byte-exact');
  }
  return der;
}

/** A complete SetVariable Data buffer: EFI_VARIABLE_AUTHENTICATION_2 followed by the payload. */
export async function signVariable(input: SignVariableInput, options: SignOptions = {}): Promise<Uint8Array> {
  const content = signedContent(input.name, input.guid, input.attributes, input.time, input.payload);
  const certData = await signDetached(content, input.signerCert, input.signerKey, options);
  return encodeAuthentication2(input.time, certData, input.payload);
}
