import { Guids } from '../wire/guid.js';
import { encodeName } from '../wire/ucs2.js';
import { parseSignatureLists } from '../wire/siglist.js';
import { VariableStore } from '../store/store.js';
import type { Variable } from '../store/variable.js';
import { certificateSubject } from '../auth/x509.js';

export interface SecureBootSummary {
  mode: 'setup' | 'user';
  secureBootEnable: number | undefined;
  pk: string[];
  kek: string[];
  db: string[];
  /** Entry count by signature type name. */
  dbx: Record<string, number>;
}

const TYPE_NAMES: Record<string, string> = {
  [Guids.certSha256]: 'SHA256', [Guids.certX509]: 'X509', [Guids.certSha384]: 'SHA384',
  [Guids.certSha512]: 'SHA512', [Guids.certRsa2048]: 'RSA2048',
};

/** The Secure Boot state a store file implies (print, management API). */
export function describeSecureBoot(variables: readonly Variable[]): SecureBootSummary {
  const store = new VariableStore(variables);
  const get = (guid: string, name: string): Variable | undefined => store.get(guid, encodeName(name));
  const pk = get(Guids.globalVariable, 'PK');
  const sbe = get(Guids.secureBootEnableDisable, 'SecureBootEnable');
  return {
    mode: pk ? 'user' : 'setup',
    secureBootEnable: sbe?.data[0],
    pk: subjects(pk), kek: subjects(get(Guids.globalVariable, 'KEK')), db: subjects(get(Guids.imageSecurityDatabase, 'db')),
    dbx: countByType(get(Guids.imageSecurityDatabase, 'dbx')),
  };
}

function subjects(v: Variable | undefined): string[] {
  if (!v) return [];
  const lists = parseSignatureLists(v.data);
  if (!lists) return ['(malformed signature lists)'];
  const out: string[] = [];
  for (const l of lists) {
    for (const e of l.entries) {
      if (l.type === Guids.certX509) out.push(certificateSubject(e.data) ?? '(unparseable certificate)');
      else out.push(`${TYPE_NAMES[l.type] ?? l.type} ${e.data.length} bytes`);
    }
  }
  return out;
}

function countByType(v: Variable | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  if (!v) return counts;
  const lists = parseSignatureLists(v.data);
  if (!lists) return { malformed: 1 };
  for (const l of lists) {
    const t = TYPE_NAMES[l.type] ?? l.type;
    counts[t] = (counts[t] ?? 0) + l.entries.length;
  }
  return counts;
}
