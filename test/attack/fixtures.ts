/**
 * Shared material for the attack suite (issue 3): starting states built from REAL
 * certificates, real signed payloads from ../shared/vectors/signed, a small DER walker
 * that locates fields inside the PKCS#7 independently of src/auth, and the one
 * assertion every attack ends with — exact EFI status, store byte-identical, target
 * GetVariable reply identical.
 */
import assert from 'node:assert/strict';
import { VariableService, type ServiceInit } from '../../src/service/variable-service.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';
import { getVariableRequest, setVariableRequest } from '../../src/client/requests.js';
import { signVariable } from '../../src/auth/sign.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { image, type VariableImage } from '../helpers/service.js';
import type { TestIdentity } from '../helpers/keys.js';
import { GLOBAL_GUID, SECURITY_GUID, guidLe, loadSigned, vector, type SignedFile } from '../auth/vectors.js';

export { GLOBAL_GUID, SECURITY_GUID };

/** Status values spelled out (spec §2.4), not imported from the code under test. */
export const S = {
  SUCCESS: 0x0n,
  INVALID_PARAMETER: 0x8000000000000002n,
  UNSUPPORTED: 0x8000000000000003n,
  WRITE_PROTECTED: 0x8000000000000008n,
  NOT_FOUND: 0x800000000000000En,
  ACCESS_DENIED: 0x800000000000000Fn,
  SECURITY_VIOLATION: 0x800000000000001An,
} as const;

export const STATUS_NAME = new Map<bigint, string>(Object.entries(S).map(([k, v]) => [v, `EFI_${k}`]));
export const statusText = (s: bigint): string => STATUS_NAME.get(s) ?? `0x${s.toString(16)}`;

export const TEST_GUID = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
export const CUSTOM_MODE_GUID = 'c076ec0c-7028-4399-a072-71ee5c448b9f';
const X509_GUID = 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072';
const SHA256_GUID = 'c1c41626-504c-4092-aca9-41f936934328';
export const MS_OWNER = '77fa9abd-0359-4d32-bd60-28f4e78f784b';
export const REDHAT_OWNER = 'a0baa8a3-041d-48a8-bc87-c36d121b5e3d';

/** Stored (0x27) and update (0x67) attributes of the key databases. */
export const SB_ATTR = 0x27;
export const UPDATE_ATTR = 0x67;

// ---------------------------------------------------------------------------------
// Real material

export const CERT = {
  redHatPk: vector('certs/distro/RedHatSecureBootPKKEKkey1.der'),
  msKekCa2011: vector('certs/microsoft/MicCorKEKCA2011_2011-06-24.der'),
  msWinPca2011: vector('certs/microsoft/MicWinProPCA2011_2011-10-19.der'),
  amiTestPk: vector('certs/oem-pk/KEKUpdate_AMI_PK1.signer.der'),
};

export const FILES = {
  dbx: loadSigned('dbx/DBXUpdate_amd64.bin'),
  dbxArm: loadSigned('dbx/DBXUpdate_arm64.bin'),
  db: loadSigned('db/DBUpdate2024.bin'),
  db3p: loadSigned('db/DBUpdate3P2023.bin'),
  kekRedHat: loadSigned('kek/KEKUpdate_RedHat_PK1.bin'),
  kekAmi: loadSigned('kek/KEKUpdate_AMI_PK1.bin'),
  kekMsPk1: loadSigned('kek/KEKUpdate_Microsoft_PK1.bin'),
  kekDell: loadSigned('kek/KEKUpdate_Dell_PK2.bin'),
} as const satisfies Record<string, SignedFile>;

// ---------------------------------------------------------------------------------
// EFI structures, encoded here independently of src/wire

export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** One EFI_SIGNATURE_LIST of X.509 type holding one certificate. */
export function x509List(cert: Uint8Array, owner = MS_OWNER): Uint8Array {
  return cat(guidLe(X509_GUID), u32(28 + 16 + cert.length), u32(0), u32(16 + cert.length), guidLe(owner), cert);
}

/** One EFI_SIGNATURE_LIST of SHA-256 type. */
export function sha256List(hashes: Uint8Array[], owner = MS_OWNER): Uint8Array {
  return cat(guidLe(SHA256_GUID), u32(28 + 48 * hashes.length), u32(0), u32(48), ...hashes.flatMap((h) => [guidLe(owner), h]));
}

/** EFI_TIME with only the date/time fields set. */
export function efiTime(year: number, month = 1, day = 1, hour = 0, minute = 0, second = 0): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint16(0, year, true);
  b[2] = month; b[3] = day; b[4] = hour; b[5] = minute; b[6] = second;
  return b;
}

export const T2010 = efiTime(2010, 1, 1);
/** A dbx entry that none of the real updates carries. */
export const DUMMY_HASH = new Uint8Array(32).fill(0x5a);

/** EFI_VARIABLE_AUTHENTICATION_2 with the given CertData (no signature check implied). */
export function auth2(time: Uint8Array, certData: Uint8Array, payload: Uint8Array, opts: { revision?: number; certType?: number; dwLength?: number } = {}): Uint8Array {
  const hdr = new Uint8Array(24);
  const v = new DataView(hdr.buffer);
  v.setUint32(0, opts.dwLength ?? 24 + certData.length, true);
  v.setUint16(4, opts.revision ?? 0x0200, true);
  v.setUint16(6, opts.certType ?? 0x0ef1, true);
  hdr.set(guidLe('4aafd29d-68df-49ee-8aa9-347d375665a7'), 8);
  return cat(time, hdr, certData, payload);
}

// ---------------------------------------------------------------------------------
// Starting states

function sbVar(name: string, guid: string, data: Uint8Array, time = T2010): Variable {
  return makeVariable({ guid, name: encodeName(name), attributes: SB_ATTR, data, time });
}

export interface KeySet { pk: Uint8Array; kek: Uint8Array[]; db?: Uint8Array; dbx?: boolean }

/** PK, KEK, db, dbx (attributes 0x27, timestamp 2010-01-01) from the given certificates. */
export function keyDatabases(k: KeySet): Variable[] {
  const out = [
    sbVar('PK', GLOBAL_GUID, x509List(k.pk, REDHAT_OWNER)),
    sbVar('KEK', GLOBAL_GUID, cat(...k.kek.map((c) => x509List(c)))),
  ];
  if (k.db) out.push(sbVar('db', SECURITY_GUID, x509List(k.db)));
  if (k.dbx !== false) out.push(sbVar('dbx', SECURITY_GUID, sha256List([DUMMY_HASH])));
  return out;
}

/**
 * The real-certificate state: PK = Red Hat Secure Boot (PK/KEK key 1) (signer of
 * KEKUpdate_RedHat_PK1), KEK = [Microsoft KEK CA 2011 (anchors every Microsoft db/dbx
 * update), Red Hat], db = [Windows Production PCA 2011], dbx = one SHA-256 entry.
 */
export const REAL_KEYS: KeySet = { pk: CERT.redHatPk, kek: [CERT.msKekCa2011, CERT.redHatPk], db: CERT.msWinPca2011 };

export function realState(init: Omit<ServiceInit, 'variables'> = {}, keys: KeySet = REAL_KEYS): Promise<VariableService> {
  return VariableService.create({ ...init, variables: keyDatabases(keys) });
}

/** Our own PK and KEK (test keys, so we can sign fresh writes); Microsoft KEK CA 2011 stays in KEK. */
export function ownState(pk: TestIdentity, kek: TestIdentity, init: Omit<ServiceInit, 'variables'> = {}): Promise<VariableService> {
  return VariableService.create({ ...init, variables: keyDatabases({ pk: pk.cert, kek: [kek.cert, CERT.msKekCa2011], db: CERT.msWinPca2011 }) });
}

// ---------------------------------------------------------------------------------
// Requests and the common assertion

export interface Target { name: string | Uint8Array; guid: string }

export function setRequest(t: Target, attributes: number, data: Uint8Array): Uint8Array {
  return setVariableRequest({ name: t.name, guid: t.guid, attributes, data });
}

const REPLY_STATUS = 32;

export function status(reply: Uint8Array): bigint {
  return new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getBigUint64(REPLY_STATUS, true);
}

export interface SetResult { status: bigint; reason: string | undefined }

export async function send(svc: VariableService, req: Uint8Array): Promise<SetResult> {
  const r = await svc.process(req, 65536);
  assert.equal(r.deviceStatus, 0, 'device status');
  assert.ok(r.reply, 'a reply');
  return { status: status(r.reply), reason: r.reason };
}

export async function set(svc: VariableService, t: Target, attributes: number, data: Uint8Array): Promise<SetResult> {
  return send(svc, setRequest(t, attributes, data));
}

/** The complete GetVariable reply for the target (status, attributes, size, data). */
export async function getReply(svc: VariableService, t: Target): Promise<Uint8Array> {
  const r = await svc.process(getVariableRequest({ name: t.name, guid: t.guid, dataSize: 32768 }), 65536);
  assert.ok(r.reply);
  return r.reply.slice();
}

export interface Snapshot { vars: VariableImage[]; get: Uint8Array; sb: string; used: number }

export async function snapshot(svc: VariableService, t: Target): Promise<Snapshot> {
  return { vars: image(svc.variables()), get: await getReply(svc, t), sb: JSON.stringify(svc.secureBoot), used: svc.usedStorage };
}

/**
 * Send `req` (a SetVariable on `t`), expect exactly `expected` (and, when given, the
 * named reason), and prove nothing changed: every variable (guid, name bytes,
 * attributes, data, time, digest) in the same order, the Secure Boot state, the
 * accounted storage, and the GetVariable reply of the target.
 */
export async function expectRejected(svc: VariableService, t: Target, req: Uint8Array, expected: bigint, reason?: string): Promise<void> {
  const before = await snapshot(svc, t);
  const r = await send(svc, req);
  assert.equal(statusText(r.status), statusText(expected), `status (reason ${r.reason})`);
  if (reason !== undefined) assert.equal(r.reason, reason, 'reason');
  const after = await snapshot(svc, t);
  assert.deepEqual(after.vars, before.vars, 'store byte-identical');
  assert.deepEqual(after.get, before.get, 'GetVariable reply of the target unchanged');
  assert.equal(after.sb, before.sb, 'Secure Boot state unchanged');
  assert.equal(after.used, before.used, 'storage accounting unchanged');
}

/** A positive control: the write must succeed and must change the target. */
export async function expectAccepted(svc: VariableService, t: Target, req: Uint8Array): Promise<void> {
  const before = await getReply(svc, t);
  const r = await send(svc, req);
  assert.equal(statusText(r.status), 'EFI_SUCCESS', `status (reason ${r.reason})`);
  assert.notDeepEqual(await getReply(svc, t), before, 'the target changed');
}

export const DBX: Target = { name: 'dbx', guid: SECURITY_GUID };
export const DB: Target = { name: 'db', guid: SECURITY_GUID };
export const KEK: Target = { name: 'KEK', guid: GLOBAL_GUID };
export const PK: Target = { name: 'PK', guid: GLOBAL_GUID };

/** A copy of `b` with byte `off` replaced by `b[off] ^ mask`. */
export function flip(b: Uint8Array, off: number, mask = 0x01): Uint8Array {
  assert.ok(off >= 0 && off < b.length, `offset ${off} inside ${b.length} bytes`);
  const out = b.slice();
  out[off] = out[off]! ^ mask;
  return out;
}

export function withU32At(b: Uint8Array, off: number, v: number): Uint8Array {
  const out = b.slice();
  new DataView(out.buffer).setUint32(off, v >>> 0, true);
  return out;
}

export function withU16At(b: Uint8Array, off: number, v: number): Uint8Array {
  const out = b.slice();
  new DataView(out.buffer).setUint16(off, v, true);
  return out;
}

// ---------------------------------------------------------------------------------
// DER walker (X.690), independent of asn1js / src/auth: offsets of fields in CertData

export interface Tlv { tag: number; start: number; header: number; length: number; end: number }

export function tlvAt(b: Uint8Array, start: number): Tlv {
  const tag = b[start]!;
  let len = b[start + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + 2 + i]!;
    header += n;
  }
  return { tag, start, header, length: len, end: start + header + len };
}

export function children(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start + t.header; p < t.end;) {
    const c = tlvAt(b, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** DER length octets for `n`. */
function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function der(tag: number, content: Uint8Array): Uint8Array {
  return cat(Uint8Array.of(tag), derLength(content.length), content);
}

export interface CertLayout {
  /** The whole Certificate, and its parts (offsets into CertData). */
  cert: Tlv;
  tbs: Tlv;
  serial: Tlv;
  subject: Tlv;
  spki: Tlv;
  signatureValue: Tlv;
}

export interface Pkcs7Layout {
  signedData: Tlv;
  version: Tlv;
  digestAlgorithms: Tlv;
  encapContentInfo: Tlv;
  certificates: Tlv | undefined;
  certs: CertLayout[];
  signerInfos: Tlv;
  signerInfo: Tlv;
  sidSerial: Tlv;
  signedAttrs: Tlv | undefined;
  signature: Tlv;
  /** Index in `certs` of the certificate whose serial the SignerInfo names. */
  signerIndex: number;
}

/** Locate the fields of a bare SignedData (RFC 5652 §5.1, §5.3). */
export function pkcs7Layout(cd: Uint8Array): Pkcs7Layout {
  const signedData = tlvAt(cd, 0);
  assert.equal(signedData.tag, 0x30);
  assert.equal(signedData.end, cd.length, 'CertData is exactly one SignedData');
  const f = children(cd, signedData);
  const [version, digestAlgorithms, encapContentInfo] = f as [Tlv, Tlv, Tlv];
  let i = 3;
  const certificates = f[i]?.tag === 0xa0 ? f[i++] : undefined;
  if (f[i]?.tag === 0xa1) i++;
  const signerInfos = f[i]!;
  assert.equal(signerInfos.tag, 0x31);
  const certs: CertLayout[] = (certificates ? children(cd, certificates) : []).map((cert) => {
    const [tbs, , signatureValue] = children(cd, cert) as [Tlv, Tlv, Tlv];
    const t = children(cd, tbs);
    const o = t[0]!.tag === 0xa0 ? 1 : 0;
    return { cert, tbs, serial: t[o]!, subject: t[o + 4]!, spki: t[o + 5]!, signatureValue };
  });
  const signerInfo = children(cd, signerInfos)[0]!;
  const s = children(cd, signerInfo);
  const sidSerial = children(cd, s[1]!)[1]!;
  let j = 3;
  const signedAttrs = s[j]?.tag === 0xa0 ? s[j++] : undefined;
  const signature = s[j + 1]!;
  assert.equal(signature.tag, 0x04, 'SignerInfo.signature is an OCTET STRING');
  const serialHex = (t: Tlv): string => Buffer.from(cd.subarray(t.start + t.header, t.end)).toString('hex');
  const signerIndex = certs.findIndex((c) => serialHex(c.serial) === serialHex(sidSerial));
  return { signedData, version, digestAlgorithms, encapContentInfo, certificates, certs, signerInfos, signerInfo, sidSerial, signedAttrs, signature, signerIndex };
}

/** Offset of CertData inside a SetVariable Data buffer. */
export const CERT_DATA = 40;

/** Sign `payload` for `t` with a test identity (bare detached SignedData, like the real files). */
export function sign(t: { name: string; guid: string }, attributes: number, time: Uint8Array, payload: Uint8Array, who: TestIdentity): Promise<Uint8Array> {
  return signVariable({ name: t.name, guid: t.guid, attributes, time, payload, signerCert: who.cert, signerKey: who.key });
}
