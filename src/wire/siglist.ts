import { WireError } from './errors.js';
import { GUID_SIZE, Guids, guidAt, writeGuid, type GuidText } from './guid.js';

/**
 * EFI_SIGNATURE_LIST (UEFI 2.10 §32.4.1; spec §4.7):
 *   SignatureType GUID @0, SignatureListSize u32 @16, SignatureHeaderSize u32 @20,
 *   SignatureSize u32 @24, SignatureHeader[HeaderSize], then
 *   (ListSize − 28 − HeaderSize) / SignatureSize × EFI_SIGNATURE_DATA {owner GUID, data}.
 * A variable value (PK, KEK, db, dbx, …) is a plain concatenation of such lists.
 */
export interface SignatureList {
  type: string;            // GUID text
  headerSize: number;
  signatureSize: number;
  header: Uint8Array;
  /** Each EFI_SIGNATURE_DATA: owner GUID text + data. */
  entries: { owner: string; data: Uint8Array }[];
}

export const SIGNATURE_LIST_HEADER_SIZE = 28;

/** Signature types edk2 AuthVariableLib knows (mSupportSigItem) — UEFI 2.10 §32.4.1. */
export const SignatureTypes = {
  sha256: Guids.certSha256,
  rsa2048: Guids.certRsa2048,
  rsa2048Sha256: 'e2b36190-879b-4a3d-ad8d-f2e7bba32784',
  sha1: '826ca512-cf10-4ac9-b187-be01496631bd',
  rsa2048Sha1: '67f8444f-8743-48f1-a328-1eaab8736080',
  x509: Guids.certX509,
  sha224: '0b6e5233-a65c-44c9-9407-d9ab83bfc8bd',
  sha384: Guids.certSha384,
  sha512: Guids.certSha512,
  x509Sha256: '3bd2a492-96c0-4079-b420-fcf98ef103ed',
  x509Sha384: '7076876e-80c2-4ee6-aad2-28b349a6865b',
  x509Sha512: '446dbf63-2502-4cda-bcfa-2465d2b0fe9d',
} as const satisfies Record<string, GuidText>;

const TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  [SignatureTypes.sha256, 'EFI_CERT_SHA256'],
  [SignatureTypes.rsa2048, 'EFI_CERT_RSA2048'],
  [SignatureTypes.rsa2048Sha256, 'EFI_CERT_RSA2048_SHA256'],
  [SignatureTypes.sha1, 'EFI_CERT_SHA1'],
  [SignatureTypes.rsa2048Sha1, 'EFI_CERT_RSA2048_SHA1'],
  [SignatureTypes.x509, 'EFI_CERT_X509'],
  [SignatureTypes.sha224, 'EFI_CERT_SHA224'],
  [SignatureTypes.sha384, 'EFI_CERT_SHA384'],
  [SignatureTypes.sha512, 'EFI_CERT_SHA512'],
  [SignatureTypes.x509Sha256, 'EFI_CERT_X509_SHA256'],
  [SignatureTypes.x509Sha384, 'EFI_CERT_X509_SHA384'],
  [SignatureTypes.x509Sha512, 'EFI_CERT_X509_SHA512'],
]);

/** `EFI_CERT_SHA256`, …; the GUID text for types we do not know. */
export function signatureTypeName(type: GuidText): string {
  return TYPE_NAMES.get(type) ?? type;
}

/** Raw header fields of the list at `off`, or undefined if fewer than 28 bytes remain. */
interface RawHeader { type: GuidText; listSize: number; headerSize: number; signatureSize: number }

function headerAt(data: Uint8Array, off: number): RawHeader | undefined {
  if (data.length - off < SIGNATURE_LIST_HEADER_SIZE) return undefined;
  const v = new DataView(data.buffer, data.byteOffset + off, SIGNATURE_LIST_HEADER_SIZE);
  return {
    type: guidAt(data, off),
    listSize: v.getUint32(16, true),
    headerSize: v.getUint32(20, true),
    signatureSize: v.getUint32(24, true),
  };
}

/**
 * Whether a header's sizes describe a self-consistent list of `listSize` bytes that
 * fits in `remaining`. SignatureSize must exceed the 16-byte owner so every entry
 * carries data — and so a count computed from it can never divide by zero or loop.
 */
function consistent(h: RawHeader, remaining: number): boolean {
  if (h.listSize < SIGNATURE_LIST_HEADER_SIZE || h.listSize > remaining) return false;
  if (h.signatureSize <= GUID_SIZE) return false;
  const body = h.listSize - SIGNATURE_LIST_HEADER_SIZE;
  if (h.headerSize > body) return false;
  return (body - h.headerSize) % h.signatureSize === 0;
}

function listAt(data: Uint8Array, off: number, h: RawHeader): SignatureList {
  const headerStart = off + SIGNATURE_LIST_HEADER_SIZE;
  const first = headerStart + h.headerSize;
  const count = (h.listSize - SIGNATURE_LIST_HEADER_SIZE - h.headerSize) / h.signatureSize;
  const entries: SignatureList['entries'] = [];
  for (let i = 0; i < count; i++) {
    const at = first + i * h.signatureSize;
    // Views, not copies: a 443-entry dbx would otherwise allocate 443 ArrayBuffers per parse.
    entries.push({ owner: guidAt(data, at), data: data.subarray(at + GUID_SIZE, at + h.signatureSize) });
  }
  return {
    type: h.type,
    headerSize: h.headerSize,
    signatureSize: h.signatureSize,
    header: data.subarray(headerStart, headerStart + h.headerSize),
    entries,
  };
}

/**
 * Strict parse of a concatenation of EFI_SIGNATURE_LISTs; undefined if malformed.
 * Every list must be self-consistent (see `consistent`) and the lists must cover the
 * buffer exactly — edk2 CheckSignatureListFormat's "sizes must add up" rule. An empty
 * buffer is zero lists. Work is bounded by the buffer size: each list advances by at
 * least 28 bytes and each entry by at least 17.
 */
export function parseSignatureLists(data: Uint8Array): SignatureList[] | undefined {
  const lists: SignatureList[] = [];
  let off = 0;
  while (off < data.length) {
    const h = headerAt(data, off);
    if (!h || !consistent(h, data.length - off)) return undefined;
    lists.push(listAt(data, off, h));
    off += h.listSize;
  }
  return lists;
}

/**
 * Lenient walk: the lists before the first one that is truncated or inconsistent.
 * edk2 walks stored databases this way (`while (Size > 0 && Size >= ListSize)`) when it
 * looks for trust anchors or duplicates, so a damaged tail costs only the damaged part.
 */
export function scanSignatureLists(data: Uint8Array): SignatureList[] {
  const lists: SignatureList[] = [];
  let off = 0;
  while (off < data.length) {
    const h = headerAt(data, off);
    if (!h || !consistent(h, data.length - off)) break;
    lists.push(listAt(data, off, h));
    off += h.listSize;
  }
  return lists;
}

/** Byte size of one encoded list. */
export function signatureListSize(list: SignatureList): number {
  return SIGNATURE_LIST_HEADER_SIZE + list.header.length + list.entries.length * list.signatureSize;
}

/**
 * Encode lists back to bytes; the exact inverse of parseSignatureLists. ListSize is
 * recomputed from the entries. Throws WireError('bad-value') when an entry's data does
 * not fill SignatureSize − 16 bytes or headerSize disagrees with the header bytes.
 */
export function encodeSignatureLists(lists: readonly SignatureList[]): Uint8Array {
  let total = 0;
  for (const l of lists) {
    if (l.header.length !== l.headerSize) {
      throw new WireError('bad-value', `signature list header is ${l.header.length} bytes, headerSize says ${l.headerSize}`);
    }
    if (!Number.isInteger(l.signatureSize) || l.signatureSize <= GUID_SIZE || l.signatureSize > 0xffffffff) {
      throw new WireError('bad-value', `SignatureSize ${l.signatureSize} must exceed the 16-byte owner`);
    }
    for (const e of l.entries) {
      if (e.data.length !== l.signatureSize - GUID_SIZE) {
        throw new WireError('bad-value', `signature data is ${e.data.length} bytes, SignatureSize ${l.signatureSize} needs ${l.signatureSize - GUID_SIZE}`);
      }
    }
    total += signatureListSize(l);
  }
  if (total > 0xffffffff) throw new WireError('bad-value', 'signature lists exceed 4 GiB');
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let off = 0;
  for (const l of lists) {
    writeGuid(l.type, out, off);
    v.setUint32(off + 16, signatureListSize(l), true);
    v.setUint32(off + 20, l.headerSize, true);
    v.setUint32(off + 24, l.signatureSize, true);
    out.set(l.header, off + SIGNATURE_LIST_HEADER_SIZE);
    off += SIGNATURE_LIST_HEADER_SIZE + l.headerSize;
    for (const e of l.entries) {
      writeGuid(e.owner, out, off);
      out.set(e.data, off + GUID_SIZE);
      off += l.signatureSize;
    }
  }
  return out;
}

/**
 * DER certificates of every EFI_CERT_X509 entry (trust anchors), in order. Uses the
 * lenient walk, as edk2 does when it collects KEK/PK anchors (AuthService.c
 * VerifyTimeBasedPayload), so a stored database is never "all or nothing".
 */
export function x509Certificates(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const l of scanSignatureLists(data)) {
    if (l.type !== SignatureTypes.x509) continue;
    for (const e of l.entries) out.push(e.data);
  }
  return out;
}
