/**
 * Throwaway signing identities for the authenticated-variable cases: RSA 2048
 * keys and self-signed X.509 certificates made with WebCrypto + pkijs at run
 * time (nothing secret ships with the suite). Made once per run.
 */
import * as asn1js from 'asn1js';
import { AttributeTypeAndValue, BasicConstraints, Certificate, Extension, RelativeDistinguishedNames } from 'pkijs';

export interface Identity {
  cn: string;
  /** DER certificate. */
  cert: Uint8Array;
  /** PKCS#8 DER private key. */
  key: Uint8Array;
}

export interface Keys {
  pk: Identity;
  kek: Identity;
  /** Signer of private (non Secure Boot) authenticated variables. */
  signer: Identity;
  /** A second, unrelated signer. */
  other: Identity;
}

async function identity(cn: string): Promise<Identity> {
  const pair = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true, ['sign', 'verify']);
  const cert = new Certificate();
  cert.version = 2;
  const serial = crypto.getRandomValues(new Uint8Array(8));
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  const name = new RelativeDistinguishedNames({
    typesAndValues: [new AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) })],
  });
  cert.subject = name;
  cert.issuer = name;
  cert.notBefore.value = new Date(Date.UTC(2020, 0, 1));
  cert.notAfter.value = new Date(Date.UTC(2040, 0, 1));
  cert.extensions = [new Extension({ extnID: '2.5.29.19', critical: true, extnValue: new BasicConstraints({ cA: true }).toSchema().toBER() })];
  await cert.subjectPublicKeyInfo.importKey(pair.publicKey);
  await cert.sign(pair.privateKey, 'SHA-256');
  return {
    cn,
    cert: new Uint8Array(cert.toSchema(true).toBER()),
    key: new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)),
  };
}

export async function makeKeys(): Promise<Keys> {
  const [pk, kek, signer, other] = await Promise.all([
    identity('uefi-vars conformance PK'), identity('uefi-vars conformance KEK'),
    identity('uefi-vars conformance signer'), identity('uefi-vars conformance other'),
  ]);
  return { pk, kek, signer, other };
}
