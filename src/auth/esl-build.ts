import { GUID_SIZE, type GuidText } from '../wire/guid.js';
import { bytesEqual, fromHex } from '../wire/hex.js';
import { encodeTime } from '../wire/time.js';
import {
  SignatureTypes, encodeSignatureLists, parseSignatureLists, type SignatureList,
} from '../wire/siglist.js';
import { parseCertificate } from './x509.js';

/**
 * Building signature databases host-side, as the platform owner does when it
 * provisions a store (virt-fw-vars' EfiSigDB; `uefi-vars enroll`). The layout
 * is EFI_SIGNATURE_LIST, UEFI 2.10 §32.4.1 (wire/siglist.ts). Pure: no I/O.
 */

/** Owner GUIDs the key-enrolment tools use (virt-firmware guids.py; edk2 EnrollDefaultKeys). */
export const Owners = {
  /** OvmfPkg EnrollDefaultKeys' owner; virt-fw-vars uses it for PK, KEK and distro CAs. */
  ovmfEnrollDefaultKeys: 'a0baa8a3-041d-48a8-bc87-c36d121b5e3d',
  /** Microsoft's SignatureOwner in every key it ships. */
  microsoft: '77fa9abd-0359-4d32-bd60-28f4e78f784b',
} as const satisfies Record<string, GuidText>;

/**
 * EFI_CERT_EXTERNAL_MANAGEMENT_GUID (UEFI 2.10 §32.4.1): a pseudo-signature,
 * SignatureSize 16 + 1, data one zero byte; alone in PK it marks the keys as
 * managed outside the firmware (by the host).
 */
export const EXTERNAL_MANAGEMENT_TYPE: GuidText = '452e8ced-dfff-4b8c-ae01-5118862e682c';

/** SHA-256 of the empty string: the placeholder dbx entry OVMF's EnrollDefaultKeys and virt-fw-vars write. */
export const SHA256_OF_NOTHING = fromHex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

/** One EFI_CERT_X509 list holding one certificate (the only shape firmware and virt-fw-vars write). */
export function x509List(owner: GuidText, der: Uint8Array): SignatureList {
  return { type: SignatureTypes.x509, headerSize: 0, signatureSize: GUID_SIZE + der.length, header: new Uint8Array(0), entries: [{ owner, data: der }] };
}

export function sha256List(owner: GuidText, hashes: readonly Uint8Array[]): SignatureList {
  return { type: SignatureTypes.sha256, headerSize: 0, signatureSize: GUID_SIZE + 32, header: new Uint8Array(0), entries: hashes.map((data) => ({ owner, data })) };
}

export function externalManagementList(owner: GuidText): SignatureList {
  return { type: EXTERNAL_MANAGEMENT_TYPE, headerSize: 0, signatureSize: GUID_SIZE + 1, header: new Uint8Array(0), entries: [{ owner, data: new Uint8Array(1) }] };
}

export class SignatureDbError extends Error {
  override readonly name = 'SignatureDbError';
}

function lists(data: Uint8Array, what: string): SignatureList[] {
  const l = parseSignatureLists(data);
  if (!l) throw new SignatureDbError(`${what} is not a well-formed EFI_SIGNATURE_LIST sequence`);
  return l;
}

/** Whether an EFI_CERT_X509 entry with exactly these DER bytes is in the database. */
export function hasCertificate(data: Uint8Array, der: Uint8Array, what = 'signature database'): boolean {
  return lists(data, what).some((l) => l.type === SignatureTypes.x509 && l.entries.some((e) => bytesEqual(e.data, der)));
}

/**
 * Append a certificate as a new one-entry X509 list, unless the same
 * certificate is already there under any owner (virt-fw-vars EfiSigDB.add_cert).
 */
export function appendCertificate(data: Uint8Array, owner: GuidText, der: Uint8Array, what?: string): { data: Uint8Array; added: boolean } {
  const l = lists(data, what ?? 'signature database');
  if (l.some((x) => x.type === SignatureTypes.x509 && x.entries.some((e) => bytesEqual(e.data, der)))) return { data, added: false };
  return { data: encodeSignatureLists([...l, x509List(owner, der)]), added: true };
}

/**
 * Add a SHA-256 hash to the first SHA-256 list (or a new one at the end),
 * unless it is already in any SHA-256 list (virt-fw-vars EfiSigDB.add_hash).
 */
export function appendSha256(data: Uint8Array, owner: GuidText, hash: Uint8Array, what?: string): { data: Uint8Array; added: boolean } {
  if (hash.length !== 32) throw new SignatureDbError(`a SHA-256 hash is 32 bytes, got ${hash.length}`);
  const l = lists(data, what ?? 'signature database');
  const sha = l.filter((x) => x.type === SignatureTypes.sha256);
  if (sha.some((x) => x.entries.some((e) => bytesEqual(e.data, hash)))) return { data, added: false };
  const first = sha.find((x) => x.signatureSize === GUID_SIZE + 32);
  const out = first
    ? l.map((x) => (x === first ? { ...x, entries: [...x.entries, { owner, data: hash }] } : x))
    : [...l, sha256List(owner, [hash])];
  return { data: encodeSignatureLists(out), added: true };
}

/** The newest notBefore among the database's X509 certificates (those that parse), or undefined. */
export function newestNotBefore(data: Uint8Array): Date | undefined {
  let best: Date | undefined;
  for (const l of parseSignatureLists(data) ?? []) {
    if (l.type !== SignatureTypes.x509) continue;
    for (const e of l.entries) {
      const nb = certificateNotBefore(e.data);
      if (nb && (!best || nb.getTime() > best.getTime())) best = nb;
    }
  }
  return best;
}

export function certificateNotBefore(der: Uint8Array): Date | undefined {
  const c = parseCertificate(der, true);
  const d = c?.cert.notBefore.value;
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d : undefined;
}

/**
 * EFI_TIME of a moment as a wall clock shows it (UTC or the host's local time),
 * TimeZone 0 and Daylight 0 as virt-fw-vars writes them; Nanosecond carries the
 * sub-second part only when asked (virt-fw-vars keeps Python's microseconds).
 */
export function efiTimeOf(d: Date, opts: { local?: boolean; subSecond?: boolean } = {}): Uint8Array {
  const local = opts.local ?? false;
  return encodeTime({
    year: local ? d.getFullYear() : d.getUTCFullYear(),
    month: (local ? d.getMonth() : d.getUTCMonth()) + 1,
    day: local ? d.getDate() : d.getUTCDate(),
    hour: local ? d.getHours() : d.getUTCHours(),
    minute: local ? d.getMinutes() : d.getUTCMinutes(),
    second: local ? d.getSeconds() : d.getUTCSeconds(),
    pad1: 0, nanosecond: opts.subSecond ? d.getMilliseconds() * 1_000_000 : 0, timeZone: 0, daylight: 0, pad2: 0,
  });
}

/** 2010-01-01T00:00:00: virt-fw-vars' timestamp for a cleared or placeholder database. */
export const INITIAL_TIME = efiTimeOf(new Date(Date.UTC(2010, 0, 1)));
