import * as asn1js from 'asn1js';
import {
  AttributeTypeAndValue, BasicConstraints, Certificate, Extension, RelativeDistinguishedNames,
} from 'pkijs';
import { bufferSource } from './x509.js';

/**
 * Self-signed RSA certificates for Secure Boot keys (`uefi-vars keys generate`),
 * WebCrypto + pkijs only, so it runs in a browser too. The shape follows the usual
 * `openssl req -x509 -newkey rsa:2048 -sha256` recipe the efitools and distro
 * guides use: v3, basicConstraints CA, keyUsage digitalSignature+keyCertSign,
 * subjectKeyIdentifier. Firmware checks none of these (edk2 verifies with
 * X509_PURPOSE_ANY and no time check), but other tools print and use them.
 */
export interface GeneratedKey {
  /** Certificate, DER. */
  cert: Uint8Array;
  /** Private key, PKCS#8 DER. */
  key: Uint8Array;
}

export interface CertOptions {
  cn: string;
  bits?: number;
  notBefore?: Date;
  /** Validity in days (default 3650). */
  days?: number;
  /**
   * `ca` (default): the openssl-req recipe above. `leaf`: virt-firmware's
   * certs.pk_generate shape (basicConstraints cA=FALSE, not critical, nothing
   * else, a 20-byte serial), which `enroll --enroll-generate` reproduces.
   */
  profile?: 'ca' | 'leaf';
}

const OID_CN = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_SUBJECT_KEY_ID = '2.5.29.14';

export async function generateSelfSigned(o: CertOptions): Promise<GeneratedKey> {
  const subtle = globalThis.crypto.subtle;
  const pair = await subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: o.bits ?? 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true, ['sign', 'verify']);
  const cert = new Certificate();
  cert.version = 2;
  const leaf = o.profile === 'leaf';
  const serial = globalThis.crypto.getRandomValues(new Uint8Array(leaf ? 20 : 16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = new RelativeDistinguishedNames({
    typesAndValues: [new AttributeTypeAndValue({ type: OID_CN, value: new asn1js.Utf8String({ value: o.cn }) })],
  });
  cert.issuer = cert.subject;
  const start = o.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  cert.notBefore.value = start;
  cert.notAfter.value = new Date(start.getTime() + (o.days ?? 3650) * 86400_000);
  await cert.subjectPublicKeyInfo.importKey(pair.publicKey);
  const spki = new Uint8Array(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
  const keyId = new Uint8Array(await subtle.digest('SHA-1', bufferSource(spki)));
  // keyUsage: digitalSignature (bit 0) and keyCertSign (bit 5) → 0x84, 2 unused bits.
  const keyUsage = new asn1js.BitString({ valueHex: Uint8Array.of(0x84).buffer, unusedBits: 2 });
  cert.extensions = leaf ? [
    new Extension({ extnID: OID_BASIC_CONSTRAINTS, critical: false, extnValue: new BasicConstraints({ cA: false }).toSchema().toBER(false) }),
  ] : [
    new Extension({ extnID: OID_BASIC_CONSTRAINTS, critical: true, extnValue: new BasicConstraints({ cA: true }).toSchema().toBER(false) }),
    new Extension({ extnID: OID_KEY_USAGE, critical: true, extnValue: keyUsage.toBER(false) }),
    new Extension({ extnID: OID_SUBJECT_KEY_ID, extnValue: new asn1js.OctetString({ valueHex: keyId }).toBER(false) }),
  ];
  await cert.sign(pair.privateKey, 'SHA-256');
  const key = new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey));
  return { cert: new Uint8Array(cert.toSchema(true).toBER(false)), key };
}

function base64(der: Uint8Array): string {
  let s = '';
  for (let i = 0; i < der.length; i++) s += String.fromCharCode(der[i]!);
  return btoa(s);
}

/** PEM armour (RFC 7468), 64 columns. */
export function toPem(der: Uint8Array, label: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  const lines = base64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
