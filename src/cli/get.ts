import { writeFile } from 'node:fs/promises';
import { encodeName } from '../wire/ucs2.js';
import { toHex } from '../wire/hex.js';
import { VariableStore } from '../store/store.js';
import { loadStoreFile } from '../persist/store-file.js';
import { pgTarget, readPgVm } from './pg-target.js';
import { parseArgs, UsageError } from './args.js';
import { parseGuidArg } from './set.js';
import { Exit, out, err } from './io.js';

/** uefi-vars get STORE NAME GUID [--out FILE]: the stored data, as hex on stdout or raw to FILE. */
export async function runGet(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ['out'], []);
  const [storePath, name, guidText, ...rest] = p.positional;
  if (!storePath || !name || !guidText || rest.length) throw new UsageError('usage: uefi-vars get STORE NAME GUID [--out FILE]');
  const guid = parseGuidArg(guidText);
  const pg = pgTarget(storePath);
  const variables = pg ? await readPgVm(pg) : (await loadStoreFile(storePath)).variables;
  const v = new VariableStore(variables).get(guid, encodeName(name));
  if (!v) {
    err(`uefi-vars: ${pg?.shown ?? storePath}: no variable ${name} ${guid}`);
    return Exit.EFI_ERROR;
  }
  const file = p.values.get('out');
  if (file) {
    try { await writeFile(file, v.data); } catch (e) { err(`uefi-vars: ${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); return Exit.FAILURE; }
  } else {
    out(toHex(v.data));
  }
  return Exit.OK;
}
