/**
 * Shared body of the store-codec targets (codec-*.ts): a store file read from a
 * hostile disk either refuses with a format error naming the problem or yields
 * variables that write back and read again to the same variables — up to what the
 * format documents it does not write (`kept`: e.g. QEMU JSON's time and digest of a
 * variable without TIME_BASED, spec §6.2), and then the encoding is a fixed point.
 */
import type { Variable } from '../../src/store/variable.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { WireError } from '../../src/wire/errors.js';
import { check, bytesEqual } from './harness.js';

/** A refusal the CLI reports as "bad store file" — anything else escaping is a finding. */
export function isFormatRefusal(e: unknown): boolean {
  return e instanceof StoreFormatError || e instanceof WireError;
}

function same(a: Variable, b: Variable): boolean {
  return a.guid === b.guid && a.attributes === b.attributes && bytesEqual(a.name, b.name) && bytesEqual(a.data, b.data)
    && bytesEqual(a.time, b.time) && bytesEqual(a.digest ?? new Uint8Array(0), b.digest ?? new Uint8Array(0));
}

export function checkSameVariables(a: readonly Variable[], b: readonly Variable[], what: string): void {
  check(a.length === b.length, `${what}: ${a.length} variables became ${b.length}`);
  a.forEach((v, i) => check(same(v, b[i]!), `${what}: variable ${i} changed`));
}

/** decode; on success encode -> decode -> same variables (and encode is then a fixed point). */
export async function roundTrip(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => Variable[] | Promise<Variable[]>,
  encode: (v: readonly Variable[]) => Uint8Array | Promise<Uint8Array>,
  what: string,
  kept: (v: Variable) => Variable = (v) => v,
): Promise<void> {
  // A refused (or accepted) store file is left as it was: nothing writes into the bytes read from disk.
  const original = bytes.slice();
  try {
    await roundTripBody(bytes, decode, encode, what, kept);
  } finally {
    check(bytesEqual(bytes, original), `${what}: the decoder modified the file bytes it was given`);
  }
}

async function roundTripBody(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => Variable[] | Promise<Variable[]>,
  encode: (v: readonly Variable[]) => Uint8Array | Promise<Uint8Array>,
  what: string,
  kept: (v: Variable) => Variable,
): Promise<void> {
  let vars: Variable[];
  try { vars = await decode(bytes); } catch (e) { if (isFormatRefusal(e)) return; throw e; }
  let out: Uint8Array;
  try { out = await encode(vars); } catch (e) {
    // The one documented loss: edk2 flash holds only NV variables, so a record without NV reads but cannot be written back.
    if (isFormatRefusal(e) && vars.some((v) => (v.attributes & 1) === 0)) return;
    throw e;
  }
  let again: Variable[];
  try { again = await decode(out); } catch (e) { throw new Error(`${what}: re-reading what was written failed: ${(e as Error).message}`); }
  checkSameVariables(vars.map(kept), again, what);
  const twice = await encode(again);
  check(bytesEqual(out, twice), `${what}: encoding is not a fixed point`);
}
