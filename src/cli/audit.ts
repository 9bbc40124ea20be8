import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDITED_VARIABLES } from '../service/audit.js';
import { auditFilePath, readAuditFile } from '../persist/audit-file.js';
import { auditMatches, type AuditFilter } from '../daemon/server/audit-sink.js';
import { VM_ID_PATTERN } from '../daemon/protocol/frames.js';
import { pgTarget, withDatabase } from './pg-target.js';
import { parseCommand, type CommandSpec } from './command.js';
import { UsageError, JSON_OPTION } from './args.js';
import { Exit, out, err } from './io.js';

export const auditSpec: CommandSpec = {
  name: 'audit',
  summary: 'print the audit trail of Secure Boot changes of a store or VM',
  usage: [
    'audit STORE [--json] [--since TIME] [--variable NAME]',
    'audit --state-dir DIR VM [--json] [--since TIME] [--variable NAME]',
    'audit postgresql://HOST/DB#VM [--json] [--since TIME] [--variable NAME]',
  ],
  options: [
    { name: 'state-dir', type: 'string', value: 'DIR', help: 'the VM is DIR/VM.json of a daemon\'s state directory' },
    { name: 'since', type: 'string', value: 'TIME', help: 'only records at or after TIME (ISO 8601: 2026-12-03, 2026-12-03T12:00:00Z)' },
    { name: 'variable', type: 'string', value: 'NAME', help: `only records of NAME (${AUDITED_VARIABLES.join(', ')})` },
    { ...JSON_OPTION, help: 'one JSON object per line, each record as stored (schema: docs/cli.md)' },
  ],
  details: 'One line per record, oldest first: time, VM, variable, source/via, who vouched for it, applied or not-applied,\n' +
    'EFI status (reason), old→new SHA-256 (first 12 hex digits; - for no variable). STORE.audit.jsonl may be named directly.\n' +
    'Exit 0 (also when there are no records), 1 on usage or I/O errors or a damaged line (the other records are still printed). See docs/audit.md.',
};

/** uefi-vars audit STORE|VM [--json] [--since TIME] [--variable NAME] */
export async function runAudit(argv: string[]): Promise<number> {
  const p = parseCommand(auditSpec, argv);
  const [arg, ...rest] = p.positional;
  if (!arg || rest.length) throw new UsageError('usage: uefi-vars audit STORE | --state-dir DIR VM | postgresql://HOST/DB#VM [--json] [--since TIME] [--variable NAME]');
  const filter = filterOf(p.values.get('since'), p.values.get('variable'));
  const json = p.flags.has('json');
  const print = (r: Record<string, unknown>): void => out(json ? JSON.stringify(r) : auditLine(r));

  const pg = pgTarget(arg);
  if (pg) {
    if (p.values.has('state-dir')) throw new UsageError('--state-dir names a directory of store files, not a database');
    for (const r of await withDatabase(pg, (db) => db.auditRecords(pg.vm, filter), true)) print(r);
    return Exit.OK;
  }
  const dir = p.values.get('state-dir');
  if (dir !== undefined && !VM_ID_PATTERN.test(arg)) throw new UsageError(`VM ${JSON.stringify(arg.slice(0, 80))} is not a VM id ([A-Za-z0-9._-]{1,64}, no leading dot)`);
  const store = dir !== undefined ? join(dir, `${arg}.json`) : arg;
  const trail = store.endsWith('.audit.jsonl') ? store : auditFilePath(store);
  if (!(await exists(trail)) && !(await exists(store))) {
    err(`uefi-vars: ${store}: no such store (and no audit trail ${trail})`);
    return Exit.FAILURE;
  }
  let damaged = 0;
  try {
    for await (const l of readAuditFile(trail)) {
      if ('problem' in l) {
        err(`uefi-vars: ${trail}:${l.line}: ${l.problem}${l.torn ? '; skipped' : ''}`);
        if (!l.torn) damaged++;
        continue;
      }
      if (auditMatches(l.record, filter)) print(l.record);
    }
  } catch (e) {
    err(`uefi-vars: ${trail}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return Exit.FAILURE;
  }
  return damaged > 0 ? Exit.FAILURE : Exit.OK;
}

function filterOf(since: string | undefined, variable: string | undefined): AuditFilter {
  const f: AuditFilter = {};
  if (since !== undefined) {
    const t = Date.parse(since);
    if (Number.isNaN(t)) throw new UsageError(`--since: not a time (ISO 8601, e.g. 2026-12-03T12:00:00Z): ${JSON.stringify(since)}`);
    f.since = new Date(t);
  }
  if (variable !== undefined) {
    if (!(AUDITED_VARIABLES as readonly string[]).includes(variable)) throw new UsageError(`--variable is one of ${AUDITED_VARIABLES.join(', ')}; got ${JSON.stringify(variable)}`);
    f.variable = variable;
  }
  return f;
}

const hash = (h: unknown): string => (typeof h === 'string' ? h.slice(0, 12) : '-');

function who(s: unknown): string {
  if (s && typeof s === 'object') {
    const o = s as { subject?: unknown; serial?: unknown };
    return `"${String(o.subject)}" serial ${String(o.serial)}`;
  }
  return String(s);
}

/** The text form of one record (documented in docs/audit.md). */
export function auditLine(r: Record<string, unknown>): string {
  const reason = r.reason === null || r.reason === undefined ? '' : ` (${String(r.reason)})`;
  return [
    String(r.time), String(r.vm), String(r.variable), `${String(r.source)}/${String(r.via)}`, who(r.signer),
    r.applied === true ? 'applied' : 'not-applied', `${String(r.status)}${reason}`, `${hash(r.oldSha256)}→${hash(r.newSha256)}`,
  ].join('  ');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
