import type { Variable } from '../store/variable.js';
import { variableKey } from '../store/variable.js';
import { nameKey } from '../wire/ucs2.js';
import { Attr } from '../wire/attributes.js';
import { bytesEqual } from '../wire/hex.js';
import { formatTime } from '../wire/time.js';
import { parseSignatureLists, signatureTypeName } from '../wire/siglist.js';
import { EXTERNAL_MANAGEMENT_TYPE } from '../auth/esl-build.js';
import { out } from './io.js';

/** One line of `enroll`'s report (docs/cli.md, "--dry-run --json"). */
export interface VariableChange {
  action: 'added' | 'changed' | 'deleted';
  name: string;
  guid: string;
  attributes: number;
  size: number;
  /** EFI_TIME as YYYY-MM-DDThh:mm:ss, time-based authenticated variables only. */
  time?: string;
  /** For signature databases: each list's type and entry count. */
  lists?: Array<{ type: string; entries: number }>;
}

function describe(action: VariableChange['action'], v: Variable): VariableChange {
  const c: VariableChange = { action, name: nameKey(v.name), guid: v.guid, attributes: v.attributes, size: v.data.length };
  if (v.attributes & Attr.AT) c.time = formatTime(v.time);
  if (action !== 'deleted' && ['PK', 'KEK', 'db', 'dbx', 'dbt', 'dbr'].includes(c.name) && v.data.length) {
    const lists = parseSignatureLists(v.data);
    if (lists) c.lists = lists.map((l) => ({ type: l.type === EXTERNAL_MANAGEMENT_TYPE ? 'EFI_CERT_EXTERNAL_MANAGEMENT' : signatureTypeName(l.type), entries: l.entries.length }));
  }
  return c;
}

/** What differs between the store as read and as it would be written (by GUID + name). */
export function describeChanges(before: readonly Variable[], after: readonly Variable[]): VariableChange[] {
  const old = new Map(before.map((v) => [variableKey(v.guid, v.name), v]));
  const now = new Set(after.map((v) => variableKey(v.guid, v.name)));
  const out: VariableChange[] = [];
  for (const v of after) {
    const o = old.get(variableKey(v.guid, v.name));
    if (!o) out.push(describe('added', v));
    else if (o.attributes !== v.attributes || !bytesEqual(o.data, v.data) || !bytesEqual(o.time, v.time)) out.push(describe('changed', v));
  }
  for (const v of before) if (!now.has(variableKey(v.guid, v.name))) out.push(describe('deleted', v));
  return out;
}

export interface Report {
  source: string;
  written: string[];
  dryRun: boolean;
  variables: number;
  changes: VariableChange[];
  warnings: string[];
  json: boolean;
}

export function printChanges(r: Report): void {
  if (r.json) {
    out(JSON.stringify({ store: r.source, dryRun: r.dryRun, written: r.written, variables: r.variables, changes: r.changes, warnings: r.warnings }, null, 2));
    return;
  }
  for (const c of r.changes) {
    const lists = c.lists ? `  [${c.lists.map((l) => `${l.entries} ${l.type}`).join(', ')}]` : '';
    const time = c.time ? `  time ${c.time}` : '';
    out(`${c.action.padEnd(8)}${c.name.padEnd(18)} ${c.guid}  attr 0x${c.attributes.toString(16)}  ${c.size} bytes${time}${lists}`);
  }
  const what = r.changes.length ? `${r.changes.length} change${r.changes.length === 1 ? '' : 's'}` : 'no changes';
  out(r.dryRun
    ? `${r.source}: dry run, ${what}; nothing written`
    : `${r.source}: ${what}; ${r.variables} variables written to ${r.written.join(', ')}`);
}
