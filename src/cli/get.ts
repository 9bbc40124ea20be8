import { writeFile } from 'node:fs/promises';
import { encodeName } from '../wire/ucs2.js';
import { toHex } from '../wire/hex.js';
import { formatAttributes } from '../wire/attributes.js';
import { isoTime } from '../wire/time.js';
import { VariableStore } from '../store/store.js';
import { parseStoreTarget, readTarget } from './store-target.js';
import { parseCommand, type CommandSpec } from './command.js';
import { UsageError, JSON_OPTION } from './args.js';
import { guidFor } from './set.js';
import { Exit, out, err, writeStdout } from './io.js';

export const getSpec: CommandSpec = {
  name: 'get',
  summary: 'read one variable: its data as hex, or raw to a file',
  usage: ['get STORE NAME [GUID] [--out FILE|-] [--json]'],
  options: [
    { name: 'out', short: 'o', type: 'string', value: 'FILE', help: 'write the raw data to FILE (- for stdout) instead of hex' },
    JSON_OPTION,
  ],
  details: 'GUID may be left out for a well-known NAME (PK, KEK, db, dbx, dbt, dbr, SecureBoot, SetupMode, Boot####, BootOrder, ...).\n' +
    'Exit 2 if the variable does not exist.',
};

/** uefi-vars get STORE NAME [GUID] [--out FILE|-] [--json] */
export async function runGet(argv: string[]): Promise<number> {
  const p = parseCommand(getSpec, argv);
  const [storePath, name, guidText, ...rest] = p.positional;
  if (!storePath || !name || rest.length) throw new UsageError('usage: uefi-vars get STORE NAME [GUID] [--out FILE|-]');
  const guid = guidFor(name, guidText);
  const target = parseStoreTarget(storePath);
  const { variables } = await readTarget(target);
  const v = new VariableStore(variables).get(guid, encodeName(name));
  const json = p.flags.has('json');
  if (!v) {
    err(`uefi-vars: ${target.shown}: no variable ${name} ${guid}`);
    if (json) out(JSON.stringify({ store: target.shown, name, guid, found: false }));
    return Exit.EFI_ERROR;
  }
  const file = p.values.get('out');
  if (file === '-') {
    await writeStdout(v.data);
  } else if (file) {
    try { await writeFile(file, v.data); } catch (e) { err(`uefi-vars: ${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); return Exit.FAILURE; }
  }
  if (json) {
    // With --out - the data went to stdout already: the report goes to stderr so stdout stays the bytes.
    const report = JSON.stringify({
      store: target.shown, name, guid, found: true,
      attributes: v.attributes, attributesText: formatAttributes(v.attributes), size: v.data.length,
      time: isoTime(v.time), ...(file ? { out: file } : { dataHex: toHex(v.data) }),
    });
    if (file === '-') err(report); else out(report);
  } else if (!file) {
    out(toHex(v.data));
  }
  return Exit.OK;
}
