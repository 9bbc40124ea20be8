import type { GuidText } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';
import { ZERO_TIME } from '../wire/time.js';

/**
 * One stored variable. Records are immutable: an update replaces the record,
 * so a snapshot is a shallow copy of the list and encoders may cache per record.
 */
export interface Variable {
  readonly guid: GuidText;
  /** Raw name bytes exactly as the guest sent them (NameSize bytes, incl. the NUL; spec §3.1). */
  readonly name: Uint8Array;
  /** Stored attributes; never carries APPEND_WRITE. */
  readonly attributes: number;
  readonly data: Uint8Array;
  /** EFI_TIME of the last time-based authenticated write; 16 zero bytes otherwise. */
  readonly time: Uint8Array;
  /** Signer digest of a private time-based authenticated variable (spec §4.8). */
  readonly digest?: Uint8Array;
}

/** Lookup key: GUID text + name code units up to the first NUL (spec §3.1 equality). */
export function variableKey(guid: GuidText, name: Uint8Array): string {
  return guid + '/' + nameKey(name);
}

export function makeVariable(v: {
  guid: GuidText; name: Uint8Array; attributes: number; data: Uint8Array;
  time?: Uint8Array; digest?: Uint8Array | undefined;
}): Variable {
  const out: { -readonly [K in keyof Variable]: Variable[K] } = {
    guid: v.guid, name: v.name, attributes: v.attributes, data: v.data, time: v.time ?? ZERO_TIME,
  };
  if (v.digest) out.digest = v.digest;
  return out;
}
