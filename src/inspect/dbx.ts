import type { KeyDatabase } from './esl.js';
import { DBX_CERTIFICATES, DBX_HASH_PREFIX, DBX_IMAGES, DBX_SVNS } from './dbx-known.js';

/**
 * How a dbx compares with Microsoft's published revocations
 * (dbx_info_msft_latest.json, digested by scripts/gen-dbx-known.mjs). Each
 * published dbx update contains every revocation added up to its date, so a
 * dbx "is at" revision D when it holds every image hash of its architecture
 * dated D or earlier; the newest such D is its revision.
 */
export interface DbxFacts {
  /** Entry count by type name. */
  entries: Record<string, number>;
  total: number;
  /** The architecture whose list the dbx matches best (most entries known), if any matches. */
  arch?: string;
  /** Newest date D such that every image hash of `arch` added by D is present; undefined if not even the first. */
  revision?: string;
  /** Newest date of any known entry present (images, SVNs, certificates). */
  newestEntry?: string;
  /** Entries found in Microsoft's list / not in it. */
  known: number;
  unknown: number;
  /** Image hashes of `arch` in the latest list that this dbx lacks, and the latest list's date. */
  missing: number;
  latest?: string;
  /** Revoked certificates and SVNs present, by description. */
  revokedCertificates: string[];
  svns: string[];
}

interface ArchIndex { dates: string[]; byPrefix: Map<string, string>; countByDate: Map<string, number> }

let archIndex: Map<string, ArchIndex> | undefined;

function indexes(): Map<string, ArchIndex> {
  if (archIndex) return archIndex;
  archIndex = new Map();
  for (const [arch, rows] of Object.entries(DBX_IMAGES)) {
    const idx: ArchIndex = { dates: [], byPrefix: new Map(), countByDate: new Map() };
    for (const [date, list] of rows) {
      const prefixes = list.split(' ').filter(Boolean);
      idx.dates.push(date);
      idx.countByDate.set(date, prefixes.length);
      for (const p of prefixes) idx.byPrefix.set(p, date);
    }
    archIndex.set(arch, idx);
  }
  return archIndex;
}

/**
 * `certSha1` gives the SHA-1 thumbprints of the X.509 entries (Microsoft lists
 * revoked certificates by thumbprint); the caller computes them with WebCrypto.
 */
export function dbxFacts(db: KeyDatabase, certSha1: readonly string[] = []): DbxFacts {
  const sha256 = db.lists.filter((l) => l.type === 'EFI_CERT_SHA256').flatMap((l) => l.entries.map((e) => e.hash ?? ''));
  const total = Object.values(db.entries).reduce((a, b) => a + b, 0);
  const svnByValue = new Map(DBX_SVNS.map(([date, value, desc]) => [value, { date, desc }]));
  const certByThumb = new Map(DBX_CERTIFICATES.map(([date, thumb, subject]) => [thumb, { date, subject }]));
  const svns: string[] = [];
  const revokedCertificates: string[] = [];
  let newest: string | undefined;
  const seen = (d: string): void => { if (!newest || d > newest) newest = d; };
  let known = 0;
  // Per architecture: which known dates each present hash falls on.
  const hits = new Map<string, Map<string, number>>();
  for (const h of new Set(sha256)) {
    const svn = svnByValue.get(h);
    if (svn) { svns.push(svn.desc); seen(svn.date); known++; continue; }
    let matched = false;
    for (const [arch, idx] of indexes()) {
      const date = h.length === 64 ? idx.byPrefix.get(h.slice(0, DBX_HASH_PREFIX)) : undefined;
      if (!date) continue;
      matched = true;
      seen(date);
      const m = hits.get(arch) ?? new Map<string, number>();
      m.set(date, (m.get(date) ?? 0) + 1);
      hits.set(arch, m);
    }
    if (matched) known++;
  }
  for (const t of certSha1) {
    const c = certByThumb.get(t.toLowerCase());
    if (c) { revokedCertificates.push(c.subject); seen(c.date); known++; }
  }
  const facts: DbxFacts = { entries: db.entries, total, known, unknown: total - known, missing: 0, revokedCertificates, svns };
  if (newest) facts.newestEntry = newest;
  let best: [string, number] | undefined;
  for (const [arch, m] of hits) {
    const n = [...m.values()].reduce((a, b) => a + b, 0);
    if (!best || n > best[1]) best = [arch, n];
  }
  if (!best) return facts;
  const [arch] = best;
  const idx = indexes().get(arch)!;
  const m = hits.get(arch)!;
  facts.arch = arch;
  facts.latest = idx.dates[idx.dates.length - 1];
  for (const d of idx.dates) {
    const have = m.get(d) ?? 0;
    facts.missing += idx.countByDate.get(d)! - have;
    if (facts.missing === 0) facts.revision = d;
  }
  return facts;
}
