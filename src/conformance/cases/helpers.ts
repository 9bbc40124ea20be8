/** Shared constants and small builders for the cases. */
import type { GuidText } from '../../wire/guid.js';
import { Guids } from '../../wire/guid.js';
import { EfiStatus } from '../../wire/status.js';
import { encodeName } from '../../wire/ucs2.js';
import { MM_HEADER_SIZE, MESSAGE_LENGTH_OFFSET, messageLengthField } from '../../wire/mm.js';
import { CaseSkipped, type CaseContext } from '../case.js';

/** A vendor GUID no firmware uses. */
export const VENDOR: GuidText = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
export const GLOBAL = Guids.globalVariable;
export const S = EfiStatus;
export const NV = 0x01, BS = 0x02, RT = 0x04, HR = 0x08, AW = 0x10, AT = 0x20, AP = 0x40;
export const NV_BS_RT = NV | BS | RT;
export const DATA4 = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);

export const nameBytes = (s: string): Uint8Array => encodeName(s);

/** MessageLength of a request buffer. */
export function messageLength(b: Uint8Array): bigint {
  return messageLengthField(b);
}

/** Copy of `req` with MessageLength set to `ml` and the buffer cut (or padded) to 24 + ml. */
export function withMessageLength(req: Uint8Array, ml: number): Uint8Array {
  const out = new Uint8Array(MM_HEADER_SIZE + ml);
  out.set(req.subarray(0, Math.min(req.length, out.length)));
  new DataView(out.buffer).setBigUint64(MESSAGE_LENGTH_OFFSET, BigInt(ml), true);
  return out;
}

/** Hard reset, or skip where the target cannot do one. */
export async function hardReset(ctx: CaseContext): Promise<void> {
  try {
    await ctx.transport.hardReset();
  } catch (e) {
    if ((e as Error).name === 'ResetUnsupported') throw new CaseSkipped('the target cannot hard-reset the device');
    throw e;
  }
}

/** Create a variable that must succeed (case setup). */
export async function mustSet(ctx: CaseContext, name: string, guid: GuidText, attributes: number, data: Uint8Array): Promise<void> {
  ctx.expect(`setup: SetVariable ${name} attributes 0x${attributes.toString(16)}`, await ctx.client.setVariable(name, guid, attributes, data), S.SUCCESS);
}

/** The UCS-2 bytes of a name without its NUL, as text, for list comparisons. */
export function nameText(raw: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const u = raw[i]! | (raw[i + 1]! << 8);
    if (u === 0) break;
    s += String.fromCharCode(u);
  }
  return s;
}
