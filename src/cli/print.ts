import { toHex } from '../wire/hex.js';
import { nameKey } from '../wire/ucs2.js';
import { formatAttributes, Attr } from '../wire/attributes.js';
import { formatTime } from '../wire/time.js';
import type { Variable } from '../store/variable.js';
import { loadStoreFile } from '../persist/store-file.js';
import { pgTarget, readPgVm } from './pg-target.js';
import { describeSecureBoot, type SecureBootSummary } from './secure-boot-summary.js';
import { parseArgs, UsageError, jsonLoadOptions } from './args.js';
import { Exit, out } from './io.js';

/** uefi-vars print STORE [--json] [--verbose] */
export async function runPrint(argv: string[]): Promise<number> {
  const p = parseArgs(argv, [], ['json', 'verbose', 'lenient-json']);
  const [storePath, ...rest] = p.positional;
  if (!storePath || rest.length) throw new UsageError('usage: uefi-vars print STORE [--json] [--verbose] [--lenient-json]');
  const pg = pgTarget(storePath);
  const loaded = pg ? { format: 'postgres', variables: await readPgVm(pg) } : await loadStoreFile(storePath, jsonLoadOptions(p));
  const shown = pg?.shown ?? storePath;
  const sb = describeSecureBoot(loaded.variables);
  if (p.flags.has('json')) {
    out(JSON.stringify({
      file: shown, format: loaded.format,
      variables: loaded.variables.map((v) => ({
        name: nameKey(v.name), guid: v.guid, attributes: v.attributes, size: v.data.length,
        ...((v.attributes & Attr.AT) ? { time: formatTime(v.time) } : {}),
        ...(p.flags.has('verbose') ? { data: toHex(v.data) } : {}),
      })),
      secureBoot: sb,
    }, null, 2));
    return Exit.OK;
  }
  out(`${shown}: ${loaded.format} store, ${loaded.variables.length} variables`);
  for (const v of loaded.variables) printVariable(v, p.flags.has('verbose'));
  printSecureBoot(sb);
  return Exit.OK;
}

function printVariable(v: Variable, verbose: boolean): void {
  const time = v.attributes & Attr.AT ? `  time ${formatTime(v.time)}` : '';
  out(`  ${v.guid}  ${nameKey(v.name).padEnd(24)} ${formatAttributes(v.attributes).padEnd(12)} ${String(v.data.length).padStart(6)} bytes${time}`);
  if (verbose) for (let i = 0; i < v.data.length; i += 32) out(`      ${toHex(v.data.subarray(i, i + 32))}`);
}

function printSecureBoot(sb: SecureBootSummary): void {
  out('Secure Boot:');
  out(`  mode: ${sb.mode}${sb.secureBootEnable !== undefined ? `, SecureBootEnable ${sb.secureBootEnable}` : ''}`);
  out(`  PK: ${sb.pk.length ? sb.pk.join('; ') : '(none)'}`);
  out(`  KEK: ${sb.kek.length ? sb.kek.join('; ') : '(none)'}`);
  out(`  db: ${sb.db.length ? sb.db.join('; ') : '(none)'}`);
  const dbx = Object.entries(sb.dbx).map(([t, n]) => `${n} ${t}`).join(', ');
  out(`  dbx: ${dbx || '(empty)'}`);
}
