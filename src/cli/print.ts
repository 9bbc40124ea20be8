import { toHex } from '../wire/hex.js';
import { nameKey } from '../wire/ucs2.js';
import { formatAttributes, Attr } from '../wire/attributes.js';
import { formatTime } from '../wire/time.js';
import type { Variable } from '../store/variable.js';
import { summarizeStore, summaryLines, decodeValue, type StoreSummary } from '../inspect/index.js';
import { parseStoreTarget, readTarget } from './store-target.js';
import { parseCommand, intValue, UsageError, type CommandSpec } from './command.js';
import { jsonLoadOptions } from './args.js';
import { Exit, out } from './io.js';

export const PRINT: CommandSpec = {
  name: 'print',
  summary: 'list a store\'s variables and summarize its Secure Boot state, keys, dbx, boot entries and storage',
  usage: ['print STORE [--verbose] [--json] [--size N] [--as-of DATE] [--lenient-json]'],
  options: [
    { name: 'verbose', short: 'v', type: 'boolean', help: 'every value in hex and decoded, every certificate (subject, issuer, validity, SHA-256), dbx revision, boot entries' },
    { name: 'json', type: 'boolean', help: 'one JSON document: the variables and the summary (with --verbose, each value\'s hex)' },
    { name: 'size', type: 'string', value: 'N', help: 'storage pool for the gauge, as the device\'s size (default 262144)' },
    { name: 'as-of', type: 'string', value: 'DATE', help: 'judge certificate expiry as of this date (ISO 8601; default now)' },
    { name: 'lenient-json', type: 'boolean', help: 'load a QEMU JSON store as QEMU does, repairing what it would (one warning per field)' },
  ],
  details: 'The summary is the one the management API (/vms/ID/secure-boot) and the inspector page show (src/inspect).',
};
export const printSpec = PRINT;

export async function runPrint(argv: string[]): Promise<number> {
  const p = parseCommand(PRINT, argv);
  const [storePath, ...rest] = p.positional;
  if (!storePath || rest.length) throw new UsageError(`usage: uefi-vars ${PRINT.usage[0]}`);
  const size = intValue(p, 'size');
  const asOfText = p.values.get('as-of');
  const asOf = asOfText === undefined ? new Date() : new Date(asOfText);
  if (Number.isNaN(asOf.getTime())) throw new UsageError(`--as-of must be a date (2026-06-30 or ISO 8601), got ${JSON.stringify(asOfText)}`);
  const target = parseStoreTarget(storePath);
  const loaded = await readTarget(target, jsonLoadOptions(p));
  const shown = target.shown;
  const verbose = p.flags.has('verbose');
  const summary = await summarizeStore(loaded.variables, { asOf, ...(size !== undefined ? { size } : {}) });
  if (p.flags.has('json')) {
    out(JSON.stringify({
      file: shown, format: loaded.format,
      variables: loaded.variables.map((v) => {
        const decoded = verbose ? decodeValue(v) : undefined;
        return {
          name: nameKey(v.name), guid: v.guid, attributes: v.attributes, size: v.data.length,
          ...((v.attributes & Attr.AT) ? { time: formatTime(v.time) } : {}),
          ...(verbose ? { data: toHex(v.data), ...(decoded !== undefined ? { decoded } : {}) } : {}),
        };
      }),
      summary,
    }, null, 2));
    return Exit.OK;
  }
  out(`${shown}: ${loaded.format} store, ${loaded.variables.length} variables`);
  for (const v of loaded.variables) printVariable(v, verbose);
  for (const line of verbose ? summaryLines(summary) : briefLines(summary)) out(line);
  return Exit.OK;
}

function printVariable(v: Variable, verbose: boolean): void {
  const time = v.attributes & Attr.AT ? `  time ${formatTime(v.time)}` : '';
  out(`  ${v.guid}  ${nameKey(v.name).padEnd(24)} ${formatAttributes(v.attributes).padEnd(12)} ${String(v.data.length).padStart(6)} bytes${time}`);
  if (!verbose) return;
  const decoded = decodeValue(v);
  if (decoded !== undefined) out(`      = ${decoded}`);
  for (let i = 0; i < v.data.length; i += 32) out(`      ${toHex(v.data.subarray(i, i + 32))}`);
}

/** Without --verbose: one line per fact. */
function briefLines(s: StoreSummary): string[] {
  const subjects = (l: string[]): string => (l.length ? l.join('; ') : '(none)');
  const dbx = Object.entries(s.dbx.entries).map(([t, n]) => `${n} ${t}`).join(', ');
  const f = s.dbx.facts;
  return [
    'Secure Boot:',
    `  mode: ${s.secureBoot.mode}${s.secureBoot.secureBootEnable !== null ? `, SecureBootEnable ${s.secureBoot.secureBootEnable}` : ''}`,
    `  PK: ${subjects(s.pk.subjects)}`,
    `  KEK: ${subjects(s.kek.subjects)}`,
    `  db: ${subjects(s.db.subjects)}`,
    `  dbx: ${dbx || '(empty)'}${f.total ? `; revision ${f.revision ?? 'older than any published'}` : ''}`,
    `  2023 readiness: ${s.readiness.verdict}${s.readiness.missing.length ? ` (missing ${s.readiness.missing.join(', ')})` : ''}`,
    `Storage: ${s.storage.used} of ${s.storage.maxStorage} bytes used (${s.storage.percent}%)`,
  ];
}
