/**
 * Hostile PKCS#7 material for the cost tests and the bench (issue 18): SignedData
 * blobs a guest can send whose verification work grows with what they carry —
 * long issuer Names, many certificates sharing the signer's serial, issuer loops,
 * deep chains, key-database payloads with hundreds of X.509 lists. Built with
 * pkijs/asn1js directly (the signatures that matter are real; the rest is whatever
 * makes the verifier work hardest before it can say no).
 */
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier, AttributeTypeAndValue, Certificate, EncapsulatedContentInfo, IssuerAndSerialNumber,
  RelativeDistinguishedNames, SignerInfo,
} from 'pkijs';
import { makeIdentity, type TestIdentity } from '../helpers/keys.js';
import { signDetached } from '../../src/auth/sign.js';
import { cat, der, u32 } from '../attack/fixtures.js';
import { guidLe } from './vectors.js';

const OID_CN = '2.5.4.3';
const OID_OU = '2.5.4.11';
const OID_DATA = '1.2.840.113549.1.7.1';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const X509_GUID = 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072';

/**
 * A Name of `n` RDNs, each one single-valued with a two-character value (~13 bytes an
 * RDN, the densest a guest can pack). `last` replaces the final RDN's value, so two
 * names can differ only at their very end.
 */
export function longName(n: number, last?: string): RelativeDistinguishedNames {
  const typesAndValues: AttributeTypeAndValue[] = [];
  for (let i = 0; i < n; i++) {
    const v = i === n - 1 && last !== undefined ? last : String.fromCharCode(0x41 + (i % 26), 0x61 + ((i / 26) % 26));
    typesAndValues.push(new AttributeTypeAndValue({ type: i % 2 ? OID_OU : OID_CN, value: new asn1js.PrintableString({ value: v }) }));
  }
  // One RDN per attribute: pkijs groups typesAndValues into one SET each.
  return new RelativeDistinguishedNames({ typesAndValues });
}

/** DER of a Name. */
export function nameDer(n: RelativeDistinguishedNames): Uint8Array {
  return new Uint8Array(n.toSchema().toBER());
}

function cnName(cn: string): RelativeDistinguishedNames {
  return new RelativeDistinguishedNames({
    typesAndValues: [new AttributeTypeAndValue({ type: OID_CN, value: new asn1js.Utf8String({ value: cn }) })],
  });
}

export interface CertSpec {
  subject: RelativeDistinguishedNames;
  issuer: RelativeDistinguishedNames;
  serial: Uint8Array;
  /** Key certified by this certificate. */
  publicKey: CryptoKey;
  /** Key that signs it. */
  signWith: CryptoKey;
}

/** One X.509 v3 certificate (no extensions), DER. */
export async function makeCert(s: CertSpec): Promise<Uint8Array> {
  const cert = new Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: s.serial });
  cert.subject = s.subject;
  cert.issuer = s.issuer;
  cert.notBefore.value = new Date(Date.UTC(2000, 0, 1));
  cert.notAfter.value = new Date(Date.UTC(2001, 0, 1));
  await cert.subjectPublicKeyInfo.importKey(s.publicKey);
  await cert.sign(s.signWith, 'SHA-256');
  return new Uint8Array(cert.toSchema(true).toBER());
}

/**
 * A bare detached SignedData whose SignerInfo names `issuer` + `serial` and whose
 * signature is `signature` (random by default), carrying `certs` as they are.
 */
export function rawSignedData(issuer: RelativeDistinguishedNames, serial: Uint8Array, certs: readonly Uint8Array[], signature?: Uint8Array): Uint8Array {
  const si = new SignerInfo({
    version: 1,
    sid: new IssuerAndSerialNumber({ issuer, serialNumber: new asn1js.Integer({ valueHex: serial }) }),
    digestAlgorithm: new AlgorithmIdentifier({ algorithmId: OID_SHA256 }),
    signatureAlgorithm: new AlgorithmIdentifier({ algorithmId: OID_RSA, algorithmParams: new asn1js.Null() }),
    signature: new asn1js.OctetString({ valueHex: signature ?? crypto.getRandomValues(new Uint8Array(256)) }),
  });
  // Assembled by hand so certificates stay byte-exact whatever pkijs would make of them.
  const alg = new Uint8Array(new AlgorithmIdentifier({ algorithmId: OID_SHA256 }).toSchema().toBER());
  const encap = new Uint8Array(new EncapsulatedContentInfo({ eContentType: OID_DATA }).toSchema().toBER());
  return der(0x30, cat(
    Uint8Array.of(0x02, 0x01, 0x01), der(0x31, alg), encap,
    ...(certs.length ? [der(0xa0, cat(...certs))] : []),
    der(0x31, new Uint8Array(si.toSchema().toBER())),
  ));
}

/**
 * A small certificate (~150 bytes) whose signature is random and whose RSA key is a
 * 64-bit toy: it parses like any other, so hundreds fit one 64 KiB request.
 */
export function tinyCert(subject: RelativeDistinguishedNames, issuer: RelativeDistinguishedNames, serial: Uint8Array): Uint8Array {
  const cert = new Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = subject;
  cert.issuer = issuer;
  cert.notBefore.value = new Date(Date.UTC(2000, 0, 1));
  cert.notAfter.value = new Date(Date.UTC(2001, 0, 1));
  const sha256Rsa = (): AlgorithmIdentifier => new AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.11', algorithmParams: new asn1js.Null() });
  cert.signature = sha256Rsa();
  cert.signatureAlgorithm = sha256Rsa();
  const rsa = new asn1js.Sequence({ value: [
    new asn1js.Integer({ valueHex: Uint8Array.of(0x00, 0xc3, 0x5a, 0x11, 0x27, 0x9b, 0x04, 0x6d, 0xe5) }),
    new asn1js.Integer({ value: 65537 }),
  ] });
  cert.subjectPublicKeyInfo.algorithm = new AlgorithmIdentifier({ algorithmId: OID_RSA, algorithmParams: new asn1js.Null() });
  cert.subjectPublicKeyInfo.subjectPublicKey = new asn1js.BitString({ valueHex: rsa.toBER() });
  cert.signatureValue = new asn1js.BitString({ valueHex: crypto.getRandomValues(new Uint8Array(16)) });
  return new Uint8Array(cert.toSchema(true).toBER());
}

const SERIAL = Uint8Array.of(0x5e, 0x51, 0xa1, 0x00, 0x42);

let keyPair: Promise<CryptoKeyPair> | undefined;
/** One RSA-1024 pair (small certificates, so many fit one 64 KiB request) for certificates whose own signatures do not matter. */
export function sharedKey(): Promise<CryptoKeyPair> {
  keyPair ??= crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  return keyPair;
}

/**
 * The issue-18 input: the SignerInfo's issuer has `rdns` RDNs and `count` embedded
 * certificates all carry its serial, each with an issuer that equals it except in the
 * last RDN — so every certificate is a candidate and no certificate is the signer.
 * Answer: the signer is not in the PKCS#7 (EFI_SECURITY_VIOLATION).
 */
export function sameSerialSignedData(rdns: number, count: number): Uint8Array {
  const certs: Uint8Array[] = [];
  const certIssuer = longName(Math.max(1, Math.min(rdns, 4)), 'zz');
  for (let i = 0; i < count; i++) certs.push(tinyCert(cnName(`s${i}`), certIssuer, SERIAL));
  return rawSignedData(longName(rdns), SERIAL, certs);
}

/**
 * Like sameSerialSignedData, but the certificates' issuer is the long name itself
 * except for its last RDN: a byte comparison must read nearly the whole name each time.
 */
export function nearMissSignedData(rdns: number, count: number): Uint8Array {
  const near = longName(rdns, 'zz');
  // Distinct DER (the subject differs) so no parse is shared, same long issuer.
  const certs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) certs.push(tinyCert(cnName(`near miss ${i}`), near, SERIAL));
  return rawSignedData(longName(rdns), SERIAL, certs);
}

/**
 * A properly signed PKCS#7 over `content` by `signer`, plus `extra` certificates.
 * For chains: the verifier must walk them.
 */
export function signedWith(content: Uint8Array, signer: TestIdentity, extra: readonly Uint8Array[]): Promise<Uint8Array> {
  return signDetached(content, signer.cert, signer.key, { extraCertificates: extra });
}

export interface LoopPki { a: TestIdentity; b: TestIdentity; leaf: TestIdentity; aByB: Uint8Array; bByA: Uint8Array }

/**
 * A issues B issues A: cross-certificates (A's key certified under B and B's under A)
 * with the leaf signer issued by A, so a walk from the leaf can go round forever.
 */
export async function loopPki(): Promise<LoopPki> {
  const a = await makeIdentity({ cn: 'Loop A', ca: true, bits: 1024 });
  const b = await makeIdentity({ cn: 'Loop B', ca: true, bits: 1024 });
  const leaf = await makeIdentity({ cn: 'Loop Leaf', issuer: a });
  const aByB = (await makeIdentity({ cn: 'Loop A', issuer: b, sameKeyAs: a, ca: true })).cert;
  const bByA = (await makeIdentity({ cn: 'Loop B', issuer: a, sameKeyAs: b, ca: true })).cert;
  return { a, b, leaf, aByB, bByA };
}

/**
 * root → c1 → … → c(depth) → leaf, each link a real signature (1024-bit CAs: fast to
 * make; the verifier accepts RSA-1024 for issuer links). Returns the leaf and the
 * CA certificates leaf-side first.
 */
export async function deepChain(depth: number): Promise<{ leaf: TestIdentity; cas: Uint8Array[] }> {
  let issuer = await makeIdentity({ cn: 'Deep 0', ca: true, bits: 1024 });
  const cas: Uint8Array[] = [issuer.cert];
  for (let i = 1; i < depth; i++) {
    issuer = await makeIdentity({ cn: `Deep ${i}`, issuer, ca: true, bits: 1024 });
    cas.unshift(issuer.cert);
  }
  const leaf = await makeIdentity({ cn: 'Deep Leaf', issuer });
  return { leaf, cas };
}

/**
 * `count` certificates all named as the signer's issuer but signed by another key:
 * every one is a candidate parent and none verifies.
 */
export async function decoyIssuers(issuerCn: string, count: number): Promise<Uint8Array[]> {
  const { publicKey, privateKey } = await sharedKey();
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const serial = Uint8Array.of(0x11, i >> 8, i & 0xff);
    const subject = new RelativeDistinguishedNames({
      typesAndValues: [
        new AttributeTypeAndValue({ type: '2.5.4.10', value: new asn1js.Utf8String({ value: 'uefi-vars tests' }) }),
        new AttributeTypeAndValue({ type: OID_CN, value: new asn1js.Utf8String({ value: issuerCn }) }),
      ],
    });
    out.push(await makeCert({ subject, issuer: cnName(`decoy root ${i}`), serial, publicKey, signWith: privateKey }));
  }
  return out;
}

/**
 * `count` distinct small RSA certificates (tinyCert) as EFI_SIGNATURE_LISTs of X.509
 * type, one each: a well-formed key-database payload that makes the format check
 * parse as many certificates as fit one request.
 */
export function manyX509Lists(count: number, owner = '77fa9abd-0359-4d32-bd60-28f4e78f784b'): Uint8Array {
  const lists: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const n = cnName(`db entry ${i}`);
    const cert = tinyCert(n, n, Uint8Array.of(0x22, i >> 8, i & 0xff));
    lists.push(cat(guidLe(X509_GUID), u32(28 + 16 + cert.length), u32(0), u32(16 + cert.length), guidLe(owner), cert));
  }
  return cat(...lists);
}
