import type { Variable } from '../store/variable.js';
import type { JsonLoadOptions } from './json-qemu.js';

/**
 * What every store format module exports (json-qemu.ts, edk2-fd.ts, aws.ts;
 * efivarfs.ts describes its directory form the same way, without bytes): its
 * name, the file extensions that name it, content detection, and a pure
 * decode/encode pair. Errors: decode throws StoreFormatError (format-error.ts)
 * with `where` naming the byte offset or JSON key, so the CLI prints
 * `<file>: <where>: <problem>`. The one list of codecs is formats.ts.
 */
export interface StoreCodec<N extends string = string> {
  /** The name on the command line (`--to`), in `--json` reports and `print`'s first line. */
  readonly name: N;
  /** Other names `--to` accepts for it. */
  readonly aliases: readonly string[];
  /** How messages name it (`not a known store format (…)`). */
  readonly title: string;
  /** A short label (the inspector's download buttons). */
  readonly label: string;
  /** Lower-case, with the dot; the first is the one a new file gets. */
  readonly extensions: readonly string[];
  /** The content test is loose (JSON: a `{`): tried after every other codec's. */
  readonly looseDetect?: boolean;
  detect(bytes: Uint8Array): boolean;
  /** `json`: how a QEMU JSON store is read (strict by default); the other formats ignore it. */
  decode(bytes: Uint8Array, opts?: { json?: JsonLoadOptions }): Promise<{ variables: Variable[]; layout?: unknown }>;
  /** Without a layout (a store from another format) the codec's default layout is used. */
  encode(variables: readonly Variable[], layout?: unknown): Promise<Uint8Array>;
  /** The layout an empty store of this format starts with (edk2: the OVMF 4 MiB image), if it has one. */
  emptyLayout?(): unknown;
}
