import { bytesEqual } from '../wire/hex.js';
import {
  SignatureTypes, encodeSignatureLists, parseSignatureLists, scanSignatureLists, type SignatureList,
} from '../wire/siglist.js';
import { rsaKeyOfCertificate } from './x509.js';

export type SignatureListProblem = 'malformed' | 'bad-size' | 'bad-x509' | 'pk-multiple' | 'unknown-type';

/**
 * edk2 AuthService.c mSupportSigItem: every signature type the format check knows and
 * the size of its SignatureData (SignatureSize − 16); `undefined` = variable (X.509).
 * SignatureHeaderSize must be 0 for all of them.
 */
const KNOWN_TYPES: ReadonlyMap<string, number | undefined> = new Map<string, number | undefined>([
  [SignatureTypes.sha256, 32],
  [SignatureTypes.rsa2048, 256],
  [SignatureTypes.rsa2048Sha256, 256],
  [SignatureTypes.sha1, 20],
  [SignatureTypes.rsa2048Sha1, 256],
  [SignatureTypes.x509, undefined],
  [SignatureTypes.sha224, 28],
  [SignatureTypes.sha384, 48],
  [SignatureTypes.sha512, 64],
  [SignatureTypes.x509Sha256, 32 + 16],   // ToBeSignedHash + EFI_TIME TimeOfRevocation
  [SignatureTypes.x509Sha384, 48 + 16],
  [SignatureTypes.x509Sha512, 64 + 16],
]);

/**
 * edk2 RsaGetPublicKeyFromX509: the entry must hold a certificate (d2i_X509, trailing
 * bytes ignored) with an RSA key. Judged from the DER layout alone (x509.ts
 * rsaKeyOfCertificate): a key database may carry hundreds of certificates and a full
 * pkijs decode costs ~1 ms each (issue 18: 193 lists took ~185 ms); this check is linear.
 */
function holdsRsaCertificate(data: Uint8Array): boolean {
  return rsaKeyOfCertificate(data, true) !== undefined;
}

/**
 * edk2 AuthVariableLib CheckSignatureListFormat for PK/KEK/db/dbx/dbt/dbr payloads:
 * undefined when valid, else the problem (the caller answers EFI_INVALID_PARAMETER).
 *
 * An empty payload is valid (it is a delete). Otherwise the lists must parse strictly
 * and cover the data exactly; each list's type must be known, with HeaderSize 0 and
 * the type's fixed SignatureSize; X.509 entries must carry a certificate with an RSA
 * key; PK may hold at most one signature in total. edk2 parses only the first
 * certificate of an X.509 list — we check every one, which only refuses lists whose
 * later entries are garbage.
 */
export function checkSignatureListFormat(variable: 'PK' | 'KEK' | 'db' | 'dbx' | 'dbt' | 'dbr', data: Uint8Array): SignatureListProblem | undefined {
  if (data.length === 0) return undefined;
  const lists = parseSignatureLists(data);
  if (!lists) return 'malformed';
  let count = 0;
  for (const l of lists) {
    if (!KNOWN_TYPES.has(l.type)) return 'unknown-type';
    const dataSize = KNOWN_TYPES.get(l.type);
    if (dataSize !== undefined && l.signatureSize - 16 !== dataSize) return 'bad-size';
    if (l.headerSize !== 0) return 'bad-size';
    if (l.type === SignatureTypes.x509) {
      // edk2 reads the first certificate even when the list claims no entries; an empty
      // X.509 list therefore never passes there either.
      if (l.entries.length === 0 || !l.entries.every((e) => holdsRsaCertificate(e.data))) return 'bad-x509';
    }
    count += l.entries.length;
  }
  if (variable === 'PK' && count > 1) return 'pk-multiple';
  return undefined;
}

/**
 * The EFI_SIGNATURE_DATAs of some lists, findable by identity: same list type and
 * SignatureSize, same owner, same data. Bucketed by a 32-bit FNV-1a of owner and
 * data and confirmed byte for byte, so a 443-entry dbx costs no per-entry strings.
 */
class EntrySet {
  private readonly buckets = new Map<number, { group: string; owner: string; data: Uint8Array }[]>();

  private static hash(group: string, owner: string, data: Uint8Array): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < group.length; i++) h = Math.imul(h ^ group.charCodeAt(i), 0x01000193);
    for (let i = 0; i < owner.length; i++) h = Math.imul(h ^ owner.charCodeAt(i), 0x01000193);
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
    return h >>> 0;
  }

  add(group: string, owner: string, data: Uint8Array): void {
    const h = EntrySet.hash(group, owner, data);
    const b = this.buckets.get(h);
    if (b) b.push({ group, owner, data }); else this.buckets.set(h, [{ group, owner, data }]);
  }

  has(group: string, owner: string, data: Uint8Array): boolean {
    const b = this.buckets.get(EntrySet.hash(group, owner, data));
    return b !== undefined && b.some((e) => e.group === group && e.owner === owner && bytesEqual(e.data, data));
  }
}

/**
 * edk2 FilterSignatureList for APPEND_WRITE: drop from `incoming` every
 * EFI_SIGNATURE_DATA already present in `existing` in a list of the same type and
 * SignatureSize; keep the remaining entries of each incoming list under a copy of
 * that list's header; drop lists left empty. Returns the bytes to append.
 *
 * As in edk2, duplicates are judged against the existing data only (two equal entries
 * inside `incoming` both stay), existing lists are never merged into, and the existing
 * data is walked leniently. `incoming` is expected to have passed
 * checkSignatureListFormat; if it does not parse it is returned unchanged (a copy).
 */
export function filterAppend(existing: Uint8Array, incoming: Uint8Array): Uint8Array {
  const fresh = parseSignatureLists(incoming);
  if (!fresh) return incoming.slice();
  const seen = new EntrySet();
  for (const l of scanSignatureLists(existing)) {
    const group = `${l.type}/${l.signatureSize}`;
    for (const e of l.entries) seen.add(group, e.owner, e.data);
  }
  const kept: SignatureList[] = [];
  for (const l of fresh) {
    const group = `${l.type}/${l.signatureSize}`;
    const entries = l.entries.filter((e) => !seen.has(group, e.owner, e.data));
    if (entries.length > 0) kept.push({ ...l, entries });
  }
  if (kept.length === fresh.length && kept.every((l, i) => l.entries.length === fresh[i]!.entries.length)) return incoming.slice();
  return encodeSignatureLists(kept);
}
