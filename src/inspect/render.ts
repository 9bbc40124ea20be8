import type { StoreSummary } from './summary.js';
import type { CertificateFacts, KeyDatabase } from './esl.js';

/** The summary as text lines (`uefi-vars print --verbose`). Dates are shown to the day. */
export function summaryLines(s: StoreSummary): string[] {
  const out: string[] = [];
  const sb = s.secureBoot;
  out.push('Secure Boot:');
  out.push(`  mode: ${sb.mode}, SetupMode ${on(sb.setupMode)}, SecureBoot ${on(sb.secureBoot)}, CustomMode ${on(sb.customMode)}, SecureBootEnable ${sb.secureBootEnable ?? '(absent)'}`);
  for (const [label, db] of [['PK', s.pk], ['KEK', s.kek], ['db', s.db]] as const) keyDatabaseLines(out, label, db, s.asOf);
  const f = s.dbx.facts;
  const counts = Object.entries(f.entries).map(([t, n]) => `${n} ${t}`).join(', ');
  out.push(`  dbx: ${s.dbx.present ? counts || '(empty)' : '(absent)'}${s.dbx.malformed ? ' (malformed)' : ''}`);
  if (f.total) {
    out.push(`    revision: ${f.revision ? `${f.revision} (${f.arch})` : 'older than any published'}; newest known entry ${f.newestEntry ?? '(none)'}; ${f.known} known, ${f.unknown} not in Microsoft's list${f.latest ? `; ${f.missing} missing from ${f.latest}` : ''}`);
    for (const c of f.revokedCertificates) out.push(`    revoked certificate: ${c}`);
    for (const v of f.svns) out.push(`    SVN: ${v}`);
  }
  out.push(`  2023 readiness: ${s.readiness.verdict}${s.readiness.missing.length ? ` (missing ${s.readiness.missing.join(', ')})` : ''}`);
  for (const i of s.readiness.items.filter((x) => x.sameNameOther)) out.push(`    ${i.name}: a certificate with this name but SHA-256 ${i.sameNameOther} is not Microsoft's`);
  out.push('Boot:');
  if (s.boot.order) out.push(`  BootOrder: ${s.boot.order.join(', ') || '(empty)'}`);
  if (s.boot.next) out.push(`  BootNext: ${s.boot.next}`);
  if (s.boot.current) out.push(`  BootCurrent: ${s.boot.current}`);
  for (const e of s.boot.entries) {
    if ('malformed' in e) { out.push(`  ${e.name}: (malformed load option)`); continue; }
    out.push(`  ${e.name}: title="${e.title}" devpath=${e.devicePath}${e.optionalData ? ` optdata=${e.optionalData}` : ''}${e.active ? '' : ' (inactive)'}`);
  }
  if (s.sbatLevel) { out.push('SbatLevel:'); for (const l of s.sbatLevel) out.push(`  ${l}`); }
  const st = s.storage;
  out.push(`Storage: ${st.used} of ${st.maxStorage} bytes used (${st.percent}%), ${st.remaining} free, max variable ${st.maxVariableSize}, ${st.variables} variables`);
  return out;
}

const on = (b: boolean): string => (b ? 'on' : 'off');
const day = (iso: string): string => iso.slice(0, 10);

function keyDatabaseLines(out: string[], label: string, db: KeyDatabase, asOf: string): void {
  if (!db.present) { out.push(`  ${label}: (absent)`); return; }
  const counts = Object.entries(db.entries).map(([t, n]) => `${n} ${t}`).join(', ');
  out.push(`  ${label}: ${counts || '(empty)'}${db.malformed ? ' (malformed)' : ''}`);
  for (const l of db.lists) {
    for (const e of l.entries) {
      if (e.certificate) certLines(out, e.certificate, asOf);
      else out.push(`    ${e.type} ${e.hash}`);
    }
  }
}

function certLines(out: string[], c: CertificateFacts, asOf: string): void {
  const flag = c.expired ? ` EXPIRED (as of ${day(asOf)})` : c.notYetValid ? ' NOT YET VALID' : '';
  out.push(`    subject ${c.subject}`);
  out.push(`      issuer ${c.issuer}`);
  out.push(`      valid ${day(c.notBefore)} .. ${day(c.notAfter)}${flag}, ${c.key}, sha256 ${c.sha256}`);
}
