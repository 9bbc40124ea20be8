import { loadStoreFile, saveStoreFile } from '../persist/store-file.js';
import { assertStoreFree } from '../persist/store-lock.js';
import { formatFromExtension, type StoreFormat } from '../persist/formats.js';
import { parseArgs, UsageError } from './args.js';
import { Exit, out } from './io.js';

const FORMATS: Record<string, StoreFormat> = { json: 'json', edk2: 'edk2', fd: 'edk2', aws: 'aws' };

/** uefi-vars convert IN OUT [--to json|edk2|aws] [--template FD] */
export async function runConvert(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ['to', 'template'], []);
  const [input, output, ...rest] = p.positional;
  if (!input || !output || rest.length) throw new UsageError('usage: uefi-vars convert IN OUT [--to json|edk2|aws]');
  const to = p.values.get('to');
  const format = to !== undefined ? FORMATS[to] : formatFromExtension(output);
  if (!format) throw new UsageError(to !== undefined ? `--to is json, edk2 or aws, got ${JSON.stringify(to)}` : `cannot tell the format of ${output} from its extension; say --to json|edk2|aws`);
  await assertStoreFree(output);
  const src = await loadStoreFile(input);
  let layout: unknown = src.format === format ? src.layout : undefined;
  const template = p.values.get('template');
  if (template) layout = (await loadStoreFile(template)).layout;
  await saveStoreFile(output, format, src.variables, layout);
  out(`${output}: ${format} store, ${src.variables.length} variables`);
  return Exit.OK;
}
