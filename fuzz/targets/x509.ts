/**
 * X.509 parsing (src/auth/x509.ts): DER certificate -> parsed certificate, RSA
 * key, names, description. Invariants: nothing throws; a strict parse implies
 * the lenient one; the lenient parse's DER is a prefix of the input and parses
 * strictly itself; a certificate's RSA key has a sane size.
 */
import {
  parseCertificate, rsaPublicKey, isSelfIssued, isIssuedBy, subjectDer, issuerDer, formatName, commonName,
  subjectKeyIdentifier, describeCertificate,
} from '../../src/auth/x509.js';
import { check, timed, bytesEqual, sharedFiles, readShared } from './harness.js';

export async function fuzz(der: Uint8Array): Promise<void> {
  await timed(async () => {
    const strict = parseCertificate(der);
    const lenient = parseCertificate(der, true);
    if (strict) check(lenient !== undefined, 'strict parse succeeded, lenient failed');
    if (lenient) {
      check(bytesEqual(lenient.der, der.subarray(0, lenient.der.length)), 'lenient DER is not a prefix of the input');
      check(parseCertificate(lenient.der.slice()) !== undefined, 'lenient DER does not parse strictly');
      const c = lenient.cert;
      const k = rsaPublicKey(c);
      if (k) check(k.bits > 0 && k.bits <= k.modulus.length * 8, 'RSA key size inconsistent');
      isSelfIssued(c);
      formatName(subjectDer(c)); formatName(issuerDer(c));
      commonName(c); subjectKeyIdentifier(c);
      await isIssuedBy(c, c);
      await describeCertificate(lenient.der);
    }
  });
}

function pemToDer(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) out.push(new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  return out;
}

/** Every certificate of the shared vectors (DER and PEM). */
export function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of sharedFiles('vectors/certs')) {
    if (f.endsWith('.der') || f.endsWith('.cer') || f.endsWith('.crt')) out.push(readShared(f));
    else if (f.endsWith('.pem')) out.push(...pemToDer(Buffer.from(readShared(f)).toString('utf8')));
  }
  return out;
}
