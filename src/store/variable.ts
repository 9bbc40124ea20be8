import { type GuidText, guidBytesCached } from '../wire/guid.js';
import { unitsToString } from '../wire/ucs2.js';
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

/**
 * Lookup key: the 16 GUID bytes and the name's code units up to the first NUL
 * (spec §3.1 equality), as one flat string built in a single call — a
 * concatenated key would have to be flattened again on every Map lookup.
 */
let scratch = new Uint16Array(8 + 512);

export function keyAt(guid: Uint8Array, guidOff: number, name: Uint8Array, nameOff: number, nameSize: number): string {
  const units = nameSize >>> 1;
  if (8 + units > scratch.length) scratch = new Uint16Array(8 + units);
  for (let i = 0; i < 8; i++) scratch[i] = guid[guidOff + 2 * i]! | (guid[guidOff + 2 * i + 1]! << 8);
  let n = 8;
  for (let i = 0; i < units; i++) {
    const u = name[nameOff + 2 * i]! | (name[nameOff + 2 * i + 1]! << 8);
    if (u === 0) break;
    scratch[n++] = u;
  }
  return unitsToString(scratch, n);
}

export function variableKey(guid: GuidText, name: Uint8Array): string {
  return keyAt(guidBytesCached(guid), 0, name, 0, name.length);
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
