import type { Variable } from '../store/variable.js';
import { decodeQemuJson, encodeQemuJson, isQemuJson, type JsonLoadOptions } from './json-qemu.js';
import { StoreFormatError } from './format-error.js';

/**
 * Every store format, detected from content (DESIGN.md: STORE is any supported
 * format and is written back in the same one). Pure: bytes in, bytes out.
 */
export type StoreFormat = 'json' | 'edk2' | 'aws';

export interface DecodedStore {
  format: StoreFormat;
  variables: Variable[];
  /** Format-specific layout needed to write the same shape back (edk2 geometry). */
  layout?: unknown;
}

export interface FormatCodec {
  format: StoreFormat;
  detect(bytes: Uint8Array): boolean;
  /** `json`: how a QEMU JSON store is read (strict by default); the other formats ignore it. */
  decode(bytes: Uint8Array, opts?: { json?: JsonLoadOptions }): Promise<DecodedStore>;
  encode(variables: readonly Variable[], layout?: unknown): Promise<Uint8Array>;
}

const codecs: FormatCodec[] = [];

export function registerFormat(c: FormatCodec): void {
  const i = codecs.findIndex((x) => x.format === c.format);
  if (i >= 0) codecs[i] = c; else codecs.push(c);
}

registerFormat({
  format: 'json',
  detect: isQemuJson,
  decode: async (b, opts) => ({ format: 'json', variables: decodeQemuJson(b, opts?.json) }),
  encode: async (v) => encodeQemuJson(v),
});

export function codecFor(format: StoreFormat): FormatCodec {
  const c = codecs.find((x) => x.format === format);
  if (!c) throw new StoreFormatError('format', `no codec for ${format}`);
  return c;
}

export function detectFormat(bytes: Uint8Array): StoreFormat | undefined {
  // JSON last: its test is the loosest.
  const order = [...codecs.filter((c) => c.format !== 'json'), ...codecs.filter((c) => c.format === 'json')];
  return order.find((c) => c.detect(bytes))?.format;
}

export async function decodeStore(bytes: Uint8Array, opts: { json?: JsonLoadOptions } = {}): Promise<DecodedStore> {
  const f = detectFormat(bytes);
  if (!f) throw new StoreFormatError('offset 0', 'not a known store format (QEMU JSON, edk2 flash volume, AWS uefi-data)');
  return codecFor(f).decode(bytes, opts);
}

export function formatFromExtension(path: string): StoreFormat | undefined {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.(fd|raw|bin)$/i.test(path)) return 'edk2';
  if (/\.aws$/i.test(path)) return 'aws';
  return undefined;
}
