import { Attr, formatAttributes, parseAttributes } from '../../wire/attributes.js';
import { fromHex } from '../../wire/hex.js';
import { encodeName, nameKey } from '../../wire/ucs2.js';
import { EFI_TIME_SIZE, ZERO_TIME } from '../../wire/time.js';
import { makeVariable, type Variable } from '../../store/variable.js';
import type { VariableService } from '../../service/variable-service.js';

/**
 * Host-side writes (management API). They are the operator's, not the guest's:
 * no boot-phase, authentication or policy rule applies (the operator may
 * enrol a PK without signing it, or fix a variable the guest locked). What
 * still applies: the stored form stays one the guest can be shown (valid
 * attributes and name), the VM's storage quota, and durability — the write
 * goes through VariableService.hostSetVariable, which persists it before
 * resolving and keeps the old store if persisting fails.
 */

/** Why a host write was refused, by name; the API maps each to one HTTP status. */
export type HostWriteProblem =
  | 'bad-name' | 'bad-attributes' | 'bad-data' | 'bad-time' | 'empty-data' | 'out-of-storage' | 'not-found';

export class HostWriteError extends Error {
  override readonly name = 'HostWriteError';
  constructor(readonly problem: HostWriteProblem, message: string) {
    super(message);
  }
}

/** Longest name accepted from the API, in characters (edk2 and QEMU have no smaller limit that matters). */
const MAX_NAME_CHARS = 1024;

/** A variable name from the API as UCS-2 with its NUL, refusing what UCS-2 cannot carry. */
export function hostName(text: string): Uint8Array {
  if (text.length === 0 || text.length > MAX_NAME_CHARS) throw new HostWriteError('bad-name', `name must be 1..${MAX_NAME_CHARS} characters`);
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    if (u === 0) throw new HostWriteError('bad-name', 'name contains NUL');
    if (u >= 0xd800 && u <= 0xdfff) throw new HostWriteError('bad-name', 'name has a character outside UCS-2');
  }
  return encodeName(text);
}

export interface HostPutBody {
  attributes: number | string;
  dataHex: string;
  /** 32 hex digits of EFI_TIME for time-based authenticated variables; zero time if absent. */
  timeHex?: string;
}

/** Attribute sets a stored variable may have: no APPEND_WRITE (not stored) or unknown bits; BS always; RT needs BS. */
export function hostAttributes(raw: unknown): number {
  const a = typeof raw === 'number' ? (Number.isInteger(raw) && raw >= 0 && raw <= 0xffffffff ? raw : undefined)
    : typeof raw === 'string' ? parseAttributes(raw) : undefined;
  if (a === undefined) throw new HostWriteError('bad-attributes', 'attributes must be a number or names such as "NV|BS|RT"');
  if ((a & ~0x3f) !== 0) throw new HostWriteError('bad-attributes', `attributes ${formatAttributes(a)}: APPEND_WRITE and unknown bits are not stored`);
  if ((a & Attr.BS) === 0) throw new HostWriteError('bad-attributes', `attributes ${formatAttributes(a)}: BS is required (UEFI 2.10 §8.2)`);
  return a;
}

/** Parse and check a PUT body into the variable to store. */
export function hostVariable(guid: string, name: Uint8Array, body: unknown): Variable {
  if (typeof body !== 'object' || body === null) throw new HostWriteError('bad-data', 'body must be a JSON object {attributes, dataHex}');
  const b = body as Partial<Record<keyof HostPutBody, unknown>>;
  const attributes = hostAttributes(b.attributes);
  if (typeof b.dataHex !== 'string') throw new HostWriteError('bad-data', 'dataHex must be a string of hex digits');
  let data: Uint8Array;
  try { data = fromHex(b.dataHex, 'dataHex'); } catch (e) { throw new HostWriteError('bad-data', (e as Error).message); }
  if (data.length === 0) throw new HostWriteError('empty-data', 'empty data deletes a variable in UEFI; use DELETE');
  let time = ZERO_TIME;
  if (b.timeHex !== undefined) {
    if (typeof b.timeHex !== 'string' || b.timeHex.length !== 2 * EFI_TIME_SIZE) throw new HostWriteError('bad-time', 'timeHex must be 32 hex digits (EFI_TIME)');
    try { time = fromHex(b.timeHex, 'timeHex'); } catch (e) { throw new HostWriteError('bad-time', (e as Error).message); }
  }
  return makeVariable({ guid, name, attributes, data, time });
}

/** Find a variable as the store enumerates it (data-less records included). */
export function findVariable(svc: VariableService, guid: string, name: Uint8Array): Variable | undefined {
  const key = nameKey(name);
  return svc.variables().find((v) => v.guid === guid && nameKey(v.name) === key);
}

/** Store `v` for the host; resolves once durable. */
export async function hostPut(svc: VariableService, v: Variable): Promise<void> {
  const r = await svc.hostSetVariable(v);
  if (!r.ok) throw new HostWriteError('out-of-storage', `needs ${r.needed} bytes of storage, the VM has ${svc.options.size}`);
}

/** Delete for the host; resolves once durable. */
export async function hostDelete(svc: VariableService, guid: string, name: Uint8Array): Promise<Variable> {
  const old = findVariable(svc, guid, name);
  if (!old) throw new HostWriteError('not-found', 'no such variable');
  await svc.hostSetVariable({ guid, name: old.name, delete: true });
  return old;
}
