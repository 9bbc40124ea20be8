import { loadStoreFile, saveStoreFile } from '../persist/store-file.js';
import { assertStoreFree } from '../persist/store-lock.js';
import { formatFromExtension, type StoreFormat } from '../persist/formats.js';
import { pgTarget, readPgVm, withDatabase } from './pg-target.js';
import type { Variable } from '../store/variable.js';
import { parseArgs, UsageError, jsonLoadOptions } from './args.js';
import { Exit, out } from './io.js';

const FORMATS: Record<string, StoreFormat> = { json: 'json', edk2: 'edk2', fd: 'edk2', aws: 'aws' };

/** uefi-vars convert IN OUT [--to json|edk2|aws] [--template FD]; IN or OUT may be a VM in PostgreSQL. */
export async function runConvert(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ['to', 'template'], ['lenient-json']);
  const [input, output, ...rest] = p.positional;
  if (!input || !output || rest.length) throw new UsageError('usage: uefi-vars convert IN OUT [--to json|edk2|aws] [--lenient-json]');
  const pgIn = pgTarget(input);
  const pgOut = pgTarget(output);
  const to = p.values.get('to');
  if (pgOut && to !== undefined) throw new UsageError('--to is for files; a postgresql:// OUT is a PostgreSQL store');
  const format = pgOut ? undefined : to !== undefined ? FORMATS[to] : formatFromExtension(output);
  if (!pgOut && !format) throw new UsageError(to !== undefined ? `--to is json, edk2 or aws, got ${JSON.stringify(to)}` : `cannot tell the format of ${output} from its extension; say --to json|edk2|aws`);
  if (!pgOut) await assertStoreFree(output);

  let variables: readonly Variable[];
  let layout: unknown;
  let srcFormat: StoreFormat | undefined;
  if (pgIn) {
    variables = await readPgVm(pgIn);
  } else {
    const src = await loadStoreFile(input, jsonLoadOptions(p));
    variables = src.variables;
    layout = src.layout;
    srcFormat = src.format;
  }

  if (pgOut) {
    await withDatabase(pgOut, (db) => db.create(pgOut.vm, variables));
    out(`${pgOut.shown}: postgres store, ${variables.length} variables`);
    return Exit.OK;
  }
  let outLayout: unknown = srcFormat === format ? layout : undefined;
  const template = p.values.get('template');
  if (template) outLayout = (await loadStoreFile(template)).layout;
  await saveStoreFile(output, format!, variables, outLayout);
  out(`${output}: ${format!} store, ${variables.length} variables`);
  return Exit.OK;
}
