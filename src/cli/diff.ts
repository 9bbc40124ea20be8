import { createHash } from 'node:crypto';
import { nameKey } from '../wire/ucs2.js';
import { formatAttributes } from '../wire/attributes.js';
import { bytesEqual } from '../wire/hex.js';
import { formatTime } from '../wire/time.js';
import type { Variable } from '../store/variable.js';
import { secureBootVariable } from '../auth/secure-boot.js';
import { parseStoreTarget, readTarget } from './store-target.js';
import { type CommandSpec, parseCommand, UsageError } from './command.js';
import { describeEntries, entryId, type EntryInfo } from './esl-entries.js';
import { Exit, out } from './io.js';

export const diffSpec: CommandSpec = {
  name: 'diff',
  summary: 'compare two stores: variables added, removed, changed; signature database entries',
  usage: ['diff A B [--json]'],
  options: [{ name: 'json', type: 'boolean', help: 'the differences as JSON (docs/cli.md)' }],
  details: `A, B: store files of any format, or postgresql://HOST/DB#VM. A variable is changed when its
attributes, size, timestamp or data differ. For PK, KEK, db, dbx, dbt, dbr the entries
added and removed are listed by type, owner, subject and hash.
exit codes: 0 the stores hold the same variables; 2 they differ; 1 usage or I/O error.`,
};

export interface VariableChange {
  name: string;
  guid: string;
  attributes?: { a: number; b: number };
  size?: { a: number; b: number };
  time?: { a: string; b: string };
  data?: { a: string; b: string };
  entries?: { added: EntryInfo[]; removed: EntryInfo[] };
}

export interface StoreDiff {
  added: { name: string; guid: string; attributes: number; size: number }[];
  removed: { name: string; guid: string; attributes: number; size: number }[];
  changed: VariableChange[];
}

const key = (v: Variable): string => `${v.guid}/${nameKey(v.name)}`;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const brief = (v: Variable): StoreDiff['added'][number] => ({ name: nameKey(v.name), guid: v.guid, attributes: v.attributes, size: v.data.length });

/** The differences from A to B, variables in A's order then B's new ones. */
export function diffVariables(a: readonly Variable[], b: readonly Variable[]): StoreDiff {
  const inB = new Map(b.map((v) => [key(v), v]));
  const inA = new Map(a.map((v) => [key(v), v]));
  const d: StoreDiff = { added: [], removed: [], changed: [] };
  for (const va of a) {
    const vb = inB.get(key(va));
    if (!vb) { d.removed.push(brief(va)); continue; }
    const c: VariableChange = { name: nameKey(va.name), guid: va.guid };
    if (va.attributes !== vb.attributes) c.attributes = { a: va.attributes, b: vb.attributes };
    if (va.data.length !== vb.data.length) c.size = { a: va.data.length, b: vb.data.length };
    if (!bytesEqual(va.time, vb.time)) c.time = { a: formatTime(va.time), b: formatTime(vb.time) };
    if (!bytesEqual(va.data, vb.data)) {
      c.data = { a: sha(va.data), b: sha(vb.data) };
      if (secureBootVariable(va.guid, va.name)) {
        const ea = describeEntries(va.data), eb = describeEntries(vb.data);
        const ida = new Set(ea.map(entryId)), idb = new Set(eb.map(entryId));
        c.entries = { added: eb.filter((e) => !ida.has(entryId(e))), removed: ea.filter((e) => !idb.has(entryId(e))) };
      }
    }
    if (c.attributes || c.size || c.time || c.data) d.changed.push(c);
  }
  for (const vb of b) if (!inA.has(key(vb))) d.added.push(brief(vb));
  return d;
}

async function load(arg: string): Promise<Variable[]> {
  return (await readTarget(parseStoreTarget(arg))).variables;
}

function entryLine(sign: string, e: EntryInfo): string {
  return `      ${sign} ${e.type} ${e.owner}${e.subject ? ` ${e.subject}` : ''} ${e.hash}`;
}

/** uefi-vars diff A B [--json] */
export async function runDiff(argv: string[]): Promise<number> {
  const p = parseCommand(diffSpec, argv);
  const [a, b, ...rest] = p.positional;
  if (!a || !b || rest.length) throw new UsageError('usage: uefi-vars diff A B [--json]');
  const d = diffVariables(await load(a), await load(b));
  const same = !d.added.length && !d.removed.length && !d.changed.length;
  if (p.flags.has('json')) {
    out(JSON.stringify({ a, b, same, ...d }, null, 2));
    return same ? Exit.OK : Exit.EFI_ERROR;
  }
  if (same) { out(`${a} and ${b} hold the same variables`); return Exit.OK; }
  for (const v of d.removed) out(`- ${v.guid} ${v.name} ${formatAttributes(v.attributes)} ${v.size} bytes`);
  for (const v of d.added) out(`+ ${v.guid} ${v.name} ${formatAttributes(v.attributes)} ${v.size} bytes`);
  for (const c of d.changed) {
    const what: string[] = [];
    if (c.attributes) what.push(`attributes ${formatAttributes(c.attributes.a)} → ${formatAttributes(c.attributes.b)}`);
    if (c.size) what.push(`size ${c.size.a} → ${c.size.b}`);
    if (c.time) what.push(`time ${c.time.a} → ${c.time.b}`);
    if (c.data && !c.size) what.push('data');
    out(`~ ${c.guid} ${c.name}: ${what.join(', ')}`);
    if (c.entries) {
      for (const e of c.entries.removed) out(entryLine('-', e));
      for (const e of c.entries.added) out(entryLine('+', e));
    }
  }
  out(`${d.removed.length} removed, ${d.added.length} added, ${d.changed.length} changed`);
  return Exit.EFI_ERROR;
}
