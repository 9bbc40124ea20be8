import { parseSignatureLists, scanSignatureLists, signatureTypeName, SignatureTypes } from '../wire/siglist.js';
import { toHex } from '../wire/hex.js';
import { bufferSource, describeCertificate, type CertificateInfo } from '../auth/x509.js';

/** One certificate as the summary shows it: who, by whom, when, and whether it has expired by `asOf`. */
export interface CertificateFacts extends CertificateInfo {
  expired: boolean;
  notYetValid: boolean;
  /** SHA-1 thumbprint (how Microsoft's dbx list names revoked certificates). */
  sha1: string;
}

/** One EFI_SIGNATURE_DATA of a signature list (UEFI 2.10 §32.4.1). */
export interface SignatureEntry {
  /** EFI_CERT_X509, EFI_CERT_SHA256, … (the GUID for types UEFI does not name). */
  type: string;
  owner: string;
  size: number;
  /** EFI_CERT_X509 entries that parse. */
  certificate?: CertificateFacts;
  /** Hash types (and X.509 entries that do not parse): the data as lower-case hex. */
  hash?: string;
}

/** A key database (PK, KEK, db, dbx, …) decoded. */
export interface KeyDatabase {
  present: boolean;
  /** The value is not a well-formed concatenation of signature lists; `lists` holds what precedes the damage. */
  malformed?: true;
  /** Entry count by type name. */
  entries: Record<string, number>;
  /** Subjects of the X.509 entries, in order. */
  subjects: string[];
  lists: Array<{ type: string; entries: SignatureEntry[] }>;
}

export async function certificateFacts(der: Uint8Array, asOf: Date): Promise<CertificateFacts | undefined> {
  const info = await describeCertificate(der);
  if (!info) return undefined;
  const t = asOf.getTime();
  const sha1 = toHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-1', bufferSource(der))));
  return { ...info, expired: Date.parse(info.notAfter) < t, notYetValid: Date.parse(info.notBefore) > t, sha1 };
}

/** Decode one key database value; `undefined` data is an absent variable. */
export async function decodeKeyDatabase(data: Uint8Array | undefined, asOf: Date): Promise<KeyDatabase> {
  if (!data) return { present: false, entries: {}, subjects: [], lists: [] };
  const strict = parseSignatureLists(data);
  const parsed = strict ?? scanSignatureLists(data);
  const db: KeyDatabase = { present: true, entries: {}, subjects: [], lists: [] };
  if (!strict) db.malformed = true;
  for (const l of parsed) {
    const type = signatureTypeName(l.type);
    const entries: SignatureEntry[] = [];
    for (const e of l.entries) {
      const entry: SignatureEntry = { type, owner: e.owner, size: e.data.length };
      const cert = l.type === SignatureTypes.x509 ? await certificateFacts(e.data, asOf) : undefined;
      if (cert) {
        entry.certificate = cert;
        db.subjects.push(cert.subject);
      } else {
        if (l.type === SignatureTypes.x509) db.subjects.push('(certificate does not parse)');
        entry.hash = toHex(e.data);
      }
      entries.push(entry);
    }
    db.entries[type] = (db.entries[type] ?? 0) + entries.length;
    db.lists.push({ type, entries });
  }
  return db;
}

export function certificatesOf(db: KeyDatabase): CertificateFacts[] {
  return db.lists.flatMap((l) => l.entries.flatMap((e) => (e.certificate ? [e.certificate] : [])));
}
