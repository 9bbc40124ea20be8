import { createHash } from 'node:crypto';
import { scanSignatureLists, signatureTypeName, SignatureTypes } from '../wire/siglist.js';
import { toHex } from '../wire/hex.js';
import { certificateSubject } from '../auth/x509.js';

/** One EFI_SIGNATURE_DATA as `esl list` and `diff` show it. */
export interface EntryInfo {
  type: string;
  owner: string;
  /** For certificates: the subject; for hashes: absent. */
  subject?: string;
  /** For hash types: the hash itself; for certificates and other types: SHA-256 of the entry's data. */
  hash: string;
}

/** Every entry of every well-formed list (a damaged tail is skipped, as edk2 walks stored databases). */
export function describeEntries(data: Uint8Array): EntryInfo[] {
  const out: EntryInfo[] = [];
  for (const l of scanSignatureLists(data)) {
    const type = signatureTypeName(l.type);
    const isCert = l.type === SignatureTypes.x509;
    const isHash = type.startsWith('EFI_CERT_SHA') || type.startsWith('EFI_CERT_X509_SHA');
    for (const e of l.entries) {
      const info: EntryInfo = { type, owner: e.owner, hash: isHash ? toHex(e.data) : createHash('sha256').update(e.data).digest('hex') };
      if (isCert) info.subject = certificateSubject(e.data) ?? '(unparseable certificate)';
      out.push(info);
    }
  }
  return out;
}

/** Identity for set differences: type, owner and data (edk2's duplicate rule, spec §4.7). */
export const entryId = (e: EntryInfo): string => `${e.type}/${e.owner}/${e.hash}`;
