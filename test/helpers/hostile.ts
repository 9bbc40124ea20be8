/**
 * Expensive authenticated writes a hostile guest can send (issue 18), built here
 * from scratch so no fixture decides what is hard: a key-database write of many
 * X.509 signature lists (each a distinct certificate the format check must parse)
 * and a private-variable PKCS#7 whose SignerInfo names an issuer of many RDNs
 * while carrying many certificates with the signer's serial number (each a
 * Name comparison that cannot match). Used by test/daemon/fairness.test.ts and
 * bench/fairness.ts.
 */
import { encodeAuthentication2 } from '../../src/auth/sign.js';
import { x509List } from '../../src/auth/esl-build.js';
import { efiTimeOf } from '../../src/auth/auth2-build.js';
import { encodeSignatureLists } from '../../src/wire/siglist.js';
import { setVariableRequest } from '../../src/client/requests.js';

export const HOSTILE_GUID = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
export const IMAGE_SECURITY_GUID = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';
/** NV|BS|RT|TIME_BASED_AUTHENTICATED_WRITE_ACCESS (spec §4.6). */
export const AT_ATTRIBUTES = 0x27;
const OWNER = '11111111-2222-3333-4444-555555555555';

/** DER TLV (definite length). */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : len < 0x10000 ? [tag, 0x82, len >> 8, len & 0xff] : [tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let o = head.length;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const OID_CN = Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x03);
const SHA256_ALG = Uint8Array.of(0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00);
const RSA_ALG = Uint8Array.of(0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00);
const OID_DATA = Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01);

/** A Name of `rdns` single-attribute RDNs (CN=n0, CN=n1, …), the last one's value chosen by `last`. */
export function longName(rdns: number, last: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < rdns; i++) {
    const value = new TextEncoder().encode(i === rdns - 1 ? last : 'n');
    parts.push(tlv(0x31, tlv(0x30, OID_CN, tlv(0x0c, value))));
  }
  return tlv(0x30, ...parts);
}

/**
 * `count` distinct minimal X.509 v1 certificates with this serial (one RSA-512 key,
 * a garbage signature: nothing here checks it), ~260 bytes each so 200 fit one MM
 * buffer; each is a full decode for the verifier.
 */
export async function smallCerts(count: number, serial: Uint8Array, tag: string): Promise<Uint8Array[]> {
  const pair = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 512, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const sigAlg = Uint8Array.of(0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00);
  const utc = (s: string): Uint8Array => tlv(0x17, new TextEncoder().encode(s));
  const cn = (v: string): Uint8Array => tlv(0x30, tlv(0x31, tlv(0x30, OID_CN, tlv(0x0c, new TextEncoder().encode(v)))));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const tbs = tlv(0x30, tlv(0x02, serial), sigAlg, cn(tag), tlv(0x30, utc('000101000000Z'), utc('300101000000Z')), cn(`${tag}-${i}`), spki);
    out.push(tlv(0x30, tbs, sigAlg, tlv(0x03, Uint8Array.of(0), new Uint8Array(64).fill(i & 0xff))));
  }
  return out;
}

export interface HostileSet {
  /** SetVariable requests, sent in turn; each is valid MM framing. */
  requests: Uint8Array[];
  /** What each is (for messages). */
  labels: string[];
}

/**
 * A private time-based authenticated write whose PKCS#7 names an issuer of
 * `rdns` RDNs, carries `certs` certificates with the signer's serial and a
 * garbage signature: the answer is EFI_SECURITY_VIOLATION after the signer
 * lookup, however long that takes.
 */
export async function privateLookupWrite(rdns: number, certs: number, second: number): Promise<Uint8Array> {
  const serial = Uint8Array.of(0x11, 0x22, 0x33, 0x44);
  const embedded = await smallCerts(certs, serial, `same-serial-${rdns}`);
  const issuer = longName(rdns, 'not-any-of-them');
  const signerInfo = tlv(0x30,
    tlv(0x02, Uint8Array.of(1)),
    tlv(0x30, issuer, tlv(0x02, serial)),
    SHA256_ALG, RSA_ALG,
    tlv(0x04, new Uint8Array(256).fill(0x5a)));
  const signedData = tlv(0x30,
    tlv(0x02, Uint8Array.of(1)),
    tlv(0x31, SHA256_ALG),
    tlv(0x30, OID_DATA),
    tlv(0xa0, ...embedded),
    tlv(0x31, signerInfo));
  const time = efiTimeOf(new Date(Date.UTC(2030, 0, 1, 0, 0, second % 60)));
  const data = encodeAuthentication2(time, signedData, Uint8Array.of(1, 2, 3, 4));
  return setVariableRequest({ name: 'HostileLookup', guid: HOSTILE_GUID, attributes: AT_ATTRIBUTES, data });
}

/**
 * A db write in Setup Mode (no signature needed, spec §4.3; the format check of
 * every X.509 list still runs) of `lists` X.509 lists, each a distinct
 * certificate. `second` makes each write's timestamp later than the last.
 */
export async function manyListsDbWrite(lists: number, second: number, certs?: Uint8Array[]): Promise<Uint8Array> {
  const all = certs ?? await smallCerts(lists, Uint8Array.of(0x01, second & 0x7f), `db-${second}`);
  const payload = encodeSignatureLists(all.slice(0, lists).map((c) => x509List(OWNER, c)));
  const time = efiTimeOf(new Date(Date.UTC(2030, 0, 1, 0, Math.floor(second / 60), second % 60)));
  const data = encodeAuthentication2(time, new Uint8Array(0), payload);
  return setVariableRequest({ name: 'db', guid: IMAGE_SECURITY_GUID, attributes: AT_ATTRIBUTES, data });
}

