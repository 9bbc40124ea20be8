import type { Variable } from '../store/variable.js';
import type { JsonLoadOptions } from './json-qemu.js';
import { jsonCodec } from './json-qemu.js';
import { edk2Codec } from './edk2-fd.js';
import { awsCodec } from './aws.js';
import { efivarfsFormat } from './efivarfs.js';
import type { StoreCodec } from './codec.js';
import { StoreFormatError } from './format-error.js';

/**
 * The one list of store formats (DESIGN.md: STORE is any supported format,
 * detected from content, and is written back in the same one). Every place
 * that names a format (CLI options and messages, --json schemas, store files,
 * the browser build and the inspector's downloads) reads it from here. Pure:
 * bytes in, bytes out. In the order messages list them.
 */
const CODECS = [jsonCodec, edk2Codec, awsCodec] as const;

/** A store format that is a file of bytes (read and written). */
export type StoreFormat = (typeof CODECS)[number]['name'];
export const STORE_CODECS: readonly StoreCodec<StoreFormat>[] = CODECS;
/** Every format a store can be in, the read-only efivarfs directory too. */
export type StoreFormatName = StoreFormat | typeof efivarfsFormat.name;

/** The format of a new store whose name says none: QEMU's jsonfile. */
export const DEFAULT_FORMAT: StoreFormat = jsonCodec.name;

export type FormatCodec = StoreCodec<StoreFormat>;

export interface DecodedStore {
  format: StoreFormat;
  variables: Variable[];
  /** Format-specific layout needed to write the same shape back (edk2 geometry). */
  layout?: unknown;
}

/** The file formats' names, in list order: `json|edk2|aws` in usage lines. */
export const FORMAT_NAMES: readonly StoreFormat[] = STORE_CODECS.map((c) => c.name);
export const FORMAT_CHOICES = FORMAT_NAMES.join('|');
/** `json, edk2 or aws`, for messages. */
export const FORMAT_LIST = `${FORMAT_NAMES.slice(0, -1).join(', ')} or ${FORMAT_NAMES.at(-1)}`;
/** `.json, .fd, .aws`: the extension each format's new files get. */
export const FORMAT_EXTENSIONS = STORE_CODECS.map((c) => c.extensions[0]!).join(', ');

export function isStoreFormat(name: string): name is StoreFormat {
  return STORE_CODECS.some((c) => c.name === name);
}

export function codecFor(format: StoreFormat): FormatCodec {
  const c = STORE_CODECS.find((x) => x.name === format);
  if (!c) throw new StoreFormatError('format', `no codec for ${format}`);
  return c;
}

/** The format a command-line name or alias means (`fd` is edk2); undefined for none. */
export function formatNamed(text: string): StoreFormat | undefined {
  return STORE_CODECS.find((c) => c.name === text || c.aliases.includes(text))?.name;
}

export function detectFormat(bytes: Uint8Array): StoreFormat | undefined {
  // The loose tests (JSON's `{`) last.
  const order = [...STORE_CODECS.filter((c) => !c.looseDetect), ...STORE_CODECS.filter((c) => c.looseDetect)];
  return order.find((c) => c.detect(bytes))?.name;
}

export async function decodeStore(bytes: Uint8Array, opts: { json?: JsonLoadOptions } = {}): Promise<DecodedStore> {
  const f = detectFormat(bytes);
  if (!f) throw new StoreFormatError('offset 0', `not a known store format (${STORE_CODECS.map((c) => c.title).join(', ')})`);
  return { format: f, ...(await codecFor(f).decode(bytes, opts)) };
}

export function formatFromExtension(path: string): StoreFormat | undefined {
  const lower = path.toLowerCase();
  return STORE_CODECS.find((c) => c.extensions.some((e) => lower.endsWith(e)))?.name;
}
