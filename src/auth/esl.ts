import { GUID_SIZE, type GuidText } from '../wire/guid.js';
import { encodeSignatureLists, SignatureTypes, type SignatureList } from '../wire/siglist.js';

/**
 * Building EFI_SIGNATURE_LISTs (UEFI 2.10 §32.4.1) from certificates and hashes —
 * what efitools' cert-to-efi-sig-list and hash-to-efi-sig-list write. The owner
 * GUID defaults to all zeros, as cert-to-efi-sig-list's does.
 */
export const ZERO_OWNER: GuidText = '00000000-0000-0000-0000-000000000000';

/** One EFI_CERT_X509 list holding one certificate (SignatureSize = 16 + DER length). */
export function certificateList(der: Uint8Array, owner: GuidText = ZERO_OWNER): SignatureList {
  return { type: SignatureTypes.x509, headerSize: 0, signatureSize: GUID_SIZE + der.length, header: new Uint8Array(0), entries: [{ owner, data: der }] };
}

/** One EFI_CERT_SHA256 list holding every hash (SignatureSize 48). */
export function sha256List(hashes: readonly Uint8Array[], owner: GuidText = ZERO_OWNER): SignatureList {
  for (const h of hashes) if (h.length !== 32) throw new RangeError(`a SHA-256 hash is 32 bytes, got ${h.length}`);
  return { type: SignatureTypes.sha256, headerSize: 0, signatureSize: GUID_SIZE + 32, header: new Uint8Array(0), entries: hashes.map((data) => ({ owner, data })) };
}

/** The bytes of a variable value holding these certificates (one list each) and then these hashes (one list). */
export function buildEsl(certs: readonly Uint8Array[], hashes: readonly Uint8Array[], owner: GuidText = ZERO_OWNER): Uint8Array {
  const lists = certs.map((c) => certificateList(c, owner));
  if (hashes.length) lists.push(sha256List(hashes, owner));
  return encodeSignatureLists(lists);
}
