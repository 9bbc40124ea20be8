import { loadStoreFile, saveStoreFile } from '../persist/store-file.js';
import { assertStoreFree } from '../persist/store-lock.js';
import { formatFromExtension, type StoreFormat } from '../persist/formats.js';
import { PgStore, PgStoreError, redactUrl } from '../persist/postgres.js';
import { VM_ID_PATTERN } from '../daemon/frames.js';
import type { Variable } from '../store/variable.js';
import { parseArgs, UsageError } from './args.js';
import { Exit, out } from './io.js';

const FORMATS: Record<string, StoreFormat> = { json: 'json', edk2: 'edk2', fd: 'edk2', aws: 'aws' };

/** A VM in a PostgreSQL database, named `postgresql://…/DB#VM` on the command line. */
interface PgTarget { url: string; vm: string; shown: string }

function pgTarget(arg: string): PgTarget | undefined {
  if (!/^postgres(ql)?:\/\//i.test(arg)) return undefined;
  const hash = arg.lastIndexOf('#');
  const vm = hash < 0 ? '' : arg.slice(hash + 1);
  const url = hash < 0 ? arg : arg.slice(0, hash);
  if (!VM_ID_PATTERN.test(vm)) throw new UsageError(`${redactUrl(url)}: name the VM after a '#' (postgresql://HOST/DB#VM, VM as in docs/protocol.md)`);
  return { url, vm, shown: `${redactUrl(url)}#${vm}` };
}

async function withDatabase<T>(t: PgTarget, body: (db: PgStore) => Promise<T>): Promise<T> {
  const db = await PgStore.open({ url: t.url, owner: 'uefi-vars convert' });
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}

/** uefi-vars convert IN OUT [--to json|edk2|aws] [--template FD]; IN or OUT may be a VM in PostgreSQL. */
export async function runConvert(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ['to', 'template'], []);
  const [input, output, ...rest] = p.positional;
  if (!input || !output || rest.length) throw new UsageError('usage: uefi-vars convert IN OUT [--to json|edk2|aws]');
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
    const found = await withDatabase(pgIn, (db) => db.peek(pgIn.vm));
    if (!found) throw new PgStoreError(`postgres: ${pgIn.shown}: no such VM`);
    variables = found;
  } else {
    const src = await loadStoreFile(input);
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
