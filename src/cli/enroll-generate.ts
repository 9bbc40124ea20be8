import * as asn1js from 'asn1js';
import { AttributeTypeAndValue, BasicConstraints, Certificate, Extension } from 'pkijs';

/**
 * --enroll-generate CN: a fresh self-signed platform certificate, as
 * virt-firmware's certs.pk_generate makes it: RSA-2048, SHA-256, subject =
 * issuer = CN only, a random positive serial, valid from now for 3650 days,
 * basicConstraints cA=FALSE (not critical). virt-fw-vars throws the private
 * key away; `--generated-key FILE` keeps it (PKCS#8 PEM).
 */
export interface GeneratedPlatformKey { cert: Uint8Array; keyPkcs8: Uint8Array }

export async function generatePlatformKey(cn: string, now: Date): Promise<GeneratedPlatformKey> {
  const pair = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true, ['sign', 'verify']);
  const cert = new Certificate();
  cert.version = 2;
  const serial = crypto.getRandomValues(new Uint8Array(20));
  serial[0] = (serial[0]! & 0x3f) | 0x01;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  const name = [new AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) })];
  cert.subject.typesAndValues = name;
  cert.issuer.typesAndValues = [...name];
  const start = new Date(Math.floor(now.getTime() / 1000) * 1000);
  cert.notBefore.value = start;
  cert.notAfter.value = new Date(start.getTime() + 3650 * 86_400_000);
  cert.extensions = [new Extension({ extnID: '2.5.29.19', critical: false, extnValue: new BasicConstraints({ cA: false }).toSchema().toBER() })];
  await cert.subjectPublicKeyInfo.importKey(pair.publicKey);
  await cert.sign(pair.privateKey, 'SHA-256');
  return {
    cert: new Uint8Array(cert.toSchema(true).toBER()),
    keyPkcs8: new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)),
  };
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}
