/**
 * Throwaway RSA keys and X.509 certificates for tests, made with WebCrypto + pkijs.
 * Only the Debian snakeoil key in ../shared has a private key, so every signing test
 * (PK/KEK/db roles, rogue signers, chains with intermediates) builds its own here.
 */
import * as asn1js from 'asn1js';
import {
  AttributeTypeAndValue, BasicConstraints, Certificate, Extension, RelativeDistinguishedNames,
} from 'pkijs';

export interface TestIdentity {
  cn: string;
  /** Certificate, DER. */
  cert: Uint8Array;
  /** Private key, PKCS#8 DER. */
  key: Uint8Array;
  /** The same key, PKCS#8 PEM. */
  keyPem: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface IdentityOptions {
  /** Subject commonName; omit with `noCommonName` for a CN-less subject. */
  cn: string;
  noCommonName?: boolean;
  /** Issuer; self-signed when absent. */
  issuer?: TestIdentity;
  bits?: number;
  /** Serial number content bytes (two's complement); default a random positive 8-byte value. */
  serial?: Uint8Array;
  /** Add basicConstraints cA=TRUE. */
  ca?: boolean;
  /** Add a subjectKeyIdentifier extension with these bytes. */
  subjectKeyId?: Uint8Array;
  /** Validity window (default 2000-01-01 .. 2001-01-01: long expired, which must not matter). */
  notBefore?: Date;
  notAfter?: Date;
  /** Certificate signature hash (default SHA-256). */
  hash?: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** Certify this identity's existing key pair instead of generating one (cross-certificates, loops). */
  sameKeyAs?: TestIdentity;
  /** An ECDSA P-256 key (self-signed only) instead of RSA. */
  ec?: boolean;
}

function name(cn: string, noCommonName: boolean): RelativeDistinguishedNames {
  const typesAndValues = [new AttributeTypeAndValue({ type: '2.5.4.10', value: new asn1js.Utf8String({ value: 'uefi-vars tests' }) })];
  if (!noCommonName) typesAndValues.push(new AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }));
  return new RelativeDistinguishedNames({ typesAndValues });
}

function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Generate a key pair and a certificate for it, signed by `issuer` or by itself. */
export async function makeIdentity(o: IdentityOptions): Promise<TestIdentity> {
  const pair: CryptoKeyPair = o.sameKeyAs
    ? { privateKey: o.sameKeyAs.privateKey, publicKey: o.sameKeyAs.publicKey }
    : o.ec
      ? await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
      : await crypto.subtle.generateKey(
        { name: 'RSASSA-PKCS1-v1_5', modulusLength: o.bits ?? 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        true, ['sign', 'verify']);
  const cert = new Certificate();
  cert.version = 2;
  const serial = o.serial ?? (() => { const s = crypto.getRandomValues(new Uint8Array(8)); s[0] = (s[0]! & 0x7f) | 0x01; return s; })();
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = name(o.cn, o.noCommonName ?? false);
  if (o.issuer) {
    const parsed = new Certificate({ schema: asn1js.fromBER(o.issuer.cert).result });
    cert.issuer = parsed.subject;
  } else {
    cert.issuer = cert.subject;
  }
  cert.notBefore.value = o.notBefore ?? new Date(Date.UTC(2000, 0, 1));
  cert.notAfter.value = o.notAfter ?? new Date(Date.UTC(2001, 0, 1));
  const extensions: Extension[] = [];
  if (o.ca) {
    extensions.push(new Extension({
      extnID: '2.5.29.19', critical: true,
      extnValue: new BasicConstraints({ cA: true }).toSchema().toBER(),
    }));
  }
  if (o.subjectKeyId) {
    extensions.push(new Extension({
      extnID: '2.5.29.14',
      extnValue: new asn1js.OctetString({ valueHex: o.subjectKeyId }).toBER(),
    }));
  }
  if (extensions.length) cert.extensions = extensions;
  await cert.subjectPublicKeyInfo.importKey(pair.publicKey);
  const signingKey = o.issuer?.privateKey ?? pair.privateKey;
  let key = signingKey;
  const hash = o.hash ?? 'SHA-256';
  if (hash !== 'SHA-256' && !o.ec) {
    // WebCrypto binds the hash to the key; re-import the issuer key for another hash.
    const pkcs8 = o.issuer?.key ?? new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    key = await crypto.subtle.importKey('pkcs8', new Uint8Array(pkcs8), { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
  }
  await cert.sign(key, hash);
  const der = new Uint8Array(cert.toSchema(true).toBER());
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return { cn: o.cn, cert: der, key: pkcs8, keyPem: toPem(pkcs8, 'PRIVATE KEY'), privateKey: pair.privateKey, publicKey: pair.publicKey };
}

export interface TestPki {
  /** Self-signed platform key. */
  pk: TestIdentity;
  /** Self-signed KEK. */
  kek: TestIdentity;
  /** db signer issued by the KEK (a partial chain up to a KEK anchor). */
  db: TestIdentity;
  /** Self-signed key nobody trusts. */
  rogue: TestIdentity;
  /** root → intermediate → leaf; the leaf has a subjectKeyIdentifier. */
  root: TestIdentity;
  intermediate: TestIdentity;
  leaf: TestIdentity;
}

let shared: Promise<TestPki> | undefined;

/** One set of identities per test process (RSA key generation is the slow part). */
export function testPki(): Promise<TestPki> {
  shared ??= (async () => {
    const [pk, kek, rogue, root] = await Promise.all([
      makeIdentity({ cn: 'Test PK' }),
      makeIdentity({ cn: 'Test KEK', ca: true }),
      makeIdentity({ cn: 'Rogue Signer' }),
      makeIdentity({ cn: 'Test Root CA', ca: true }),
    ]);
    const db = await makeIdentity({ cn: 'Test db Signer', issuer: kek });
    const intermediate = await makeIdentity({ cn: 'Test Intermediate CA', issuer: root, ca: true });
    const leaf = await makeIdentity({ cn: 'Test Leaf Signer', issuer: intermediate, subjectKeyId: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    return { pk, kek, db, rogue, root, intermediate, leaf };
  })();
  return shared;
}
