import { loadStoreFile } from '../persist/store-file.js';
import { FORMAT_CHOICES, FORMAT_EXTENSIONS, FORMAT_LIST, formatFromExtension, formatNamed } from '../persist/formats.js';
import { defaultEdk2Geometry, edk2Codec, type Edk2Geometry } from '../persist/edk2-fd.js';
import { checkNewTarget, parseStoreTarget, readTarget, writeTarget, POSTGRES_FORMAT } from './store-target.js';
import { parseCommand, type CommandSpec } from './command.js';
import { UsageError, JSON_OPTION, jsonLoadOptions } from './args.js';
import { Exit, out } from './io.js';

export const convertSpec: CommandSpec = {
  name: 'convert',
  summary: 'copy a store into another format (QEMU JSON, edk2 .fd, AWS, PostgreSQL)',
  usage: [`convert IN OUT [--to ${FORMAT_CHOICES}] [--template FD] [--json]`],
  options: [
    { name: 'to', type: 'string', value: FORMAT_CHOICES, help: `the format of OUT (default: from its extension ${FORMAT_EXTENSIONS})` },
    { name: 'template', type: 'string', value: 'FD', help: 'an edk2 image whose layout (size, FTW areas) OUT takes' },
    { name: 'lenient-json', type: 'boolean', help: 'load a QEMU JSON IN as QEMU does, repairing what it would (one warning per field)' },
    JSON_OPTION,
  ],
  details: 'An edk2 OUT from a non-edk2 IN without --template gets the standard OVMF 4 MiB layout (540672 bytes), and the summary says so:\n' +
    'a JSON store keeps no trace of the image it came from. OUT is replaced only if it is missing, empty or holds a store of the same format.',
};

/** uefi-vars convert IN OUT [--to FORMAT] [--template FD]; IN or OUT may be a VM in PostgreSQL. */
export async function runConvert(argv: string[]): Promise<number> {
  const p = parseCommand(convertSpec, argv);
  const [input, output, ...rest] = p.positional;
  if (!input || !output || rest.length) throw new UsageError(`usage: uefi-vars convert IN OUT [--to ${FORMAT_CHOICES}] [--lenient-json]`);
  const src = parseStoreTarget(input);
  const dst = parseStoreTarget(output);
  const pgOut = dst.kind === 'postgres';
  const to = p.values.get('to');
  if (pgOut && to !== undefined) throw new UsageError('--to is for files; a postgresql:// OUT is a PostgreSQL store');
  const format = pgOut ? undefined : to !== undefined ? formatNamed(to) : formatFromExtension(output);
  if (!pgOut && !format) throw new UsageError(to !== undefined ? `--to is ${FORMAT_LIST}, got ${JSON.stringify(to)}` : `cannot tell the format of ${output} from its extension; say --to ${FORMAT_CHOICES}`);
  const template = p.values.get('template');
  if (template !== undefined && format !== edk2Codec.name) throw new UsageError('--template is for an edk2 OUT');
  await checkNewTarget(dst, format);

  const { variables, layout, format: srcFormat } = await readTarget(src, jsonLoadOptions(p));
  const json = p.flags.has('json');

  if (pgOut) {
    await writeTarget(dst, undefined, variables);
    if (json) out(JSON.stringify({ input, output: dst.shown, from: srcFormat, to: POSTGRES_FORMAT, variables: variables.length, layout: null }));
    else out(`${dst.shown}: ${POSTGRES_FORMAT} store, ${variables.length} variables`);
    return Exit.OK;
  }
  let outLayout: unknown = srcFormat === format ? layout : undefined;
  let layoutFrom: 'input' | 'template' | 'ovmf-4m' | null = outLayout !== undefined ? 'input' : null;
  if (template) {
    const t = await loadStoreFile(template);
    if (t.format !== edk2Codec.name) throw new UsageError(`${template}: --template must be an edk2 image, this is ${t.format}`);
    outLayout = t.layout;
    layoutFrom = 'template';
  }
  let note = '';
  if (format === edk2Codec.name && outLayout === undefined) {
    // Nothing says which firmware the store is for: say which layout it got (docs/cli.md, convert).
    const g: Edk2Geometry = defaultEdk2Geometry('ovmf-4m');
    outLayout = g;
    layoutFrom = 'ovmf-4m';
    note = ` (standard OVMF 4 MiB layout, ${g.fileSize} bytes: no --template given)`;
  }
  await writeTarget(dst, format, variables, outLayout);
  if (json) out(JSON.stringify({ input, output, from: srcFormat, to: format!, variables: variables.length, layout: format === edk2Codec.name ? layoutFrom : null }));
  else out(`${output}: ${format!} store, ${variables.length} variables${note}`);
  return Exit.OK;
}
