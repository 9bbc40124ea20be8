import { readFile } from 'node:fs/promises';
import { parseGuidOrAlias } from '../wire/guid.js';
import { parseAttributes } from '../wire/attributes.js';
import { fromHex } from '../wire/hex.js';
import { setVariableRequest } from '../client/requests.js';
import { parseArgs, deviceOptions, UsageError, DEVICE_VALUE_OPTIONS, DEVICE_FLAG_OPTIONS } from './args.js';
import { guestCall, parsePhase } from './guest-call.js';

/** uefi-vars set STORE NAME GUID ATTRS (--data-file F | --hex H | --empty) [--phase boot|runtime] [device options] */
export async function runSet(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ['data-file', 'hex', 'phase', ...DEVICE_VALUE_OPTIONS], ['empty', 'custom-mode', ...DEVICE_FLAG_OPTIONS]);
  const [store, name, guidText, attrText, ...rest] = p.positional;
  if (!store || !name || !guidText || !attrText || rest.length) throw new UsageError('usage: uefi-vars set STORE NAME GUID ATTRS (--data-file F | --hex H | --empty)');
  const guid = parseGuidArg(guidText);
  const attributes = parseAttributes(attrText);
  if (attributes === undefined) throw new UsageError(`ATTRS: not a number or NV|BS|RT|HR|AT|AP names: ${JSON.stringify(attrText)}`);
  const sources = ['data-file', 'hex'].filter((k) => p.values.has(k)).length + (p.flags.has('empty') ? 1 : 0);
  if (sources !== 1) throw new UsageError('give exactly one of --data-file F, --hex H, --empty');
  let data: Uint8Array;
  if (p.values.has('data-file')) {
    const f = p.values.get('data-file')!;
    try { data = new Uint8Array(await readFile(f)); } catch (e) { throw new UsageError(`${f}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  } else if (p.values.has('hex')) {
    try { data = fromHex(p.values.get('hex')!.replace(/\s+/g, ''), '--hex'); } catch (e) { throw new UsageError((e as Error).message); }
  } else {
    data = new Uint8Array(0);
  }
  const req = setVariableRequest({ name, guid, attributes, data });
  return guestCall(store, req, { phase: parsePhase(p.values.get('phase')), customMode: p.flags.has('custom-mode') }, deviceOptions(p));
}

/** uefi-vars delete STORE NAME GUID [--phase boot|runtime]: SetVariable with DataSize 0 on the guest path. */
export async function runDelete(argv: string[]): Promise<number> {
  const p = parseArgs(argv, ['phase', 'attributes', ...DEVICE_VALUE_OPTIONS], ['custom-mode', ...DEVICE_FLAG_OPTIONS]);
  const [store, name, guidText, ...rest] = p.positional;
  if (!store || !name || !guidText || rest.length) throw new UsageError('usage: uefi-vars delete STORE NAME GUID [--phase boot|runtime]');
  const attrs = p.values.has('attributes') ? parseAttributes(p.values.get('attributes')!) : 0;
  if (attrs === undefined) throw new UsageError('--attributes: not a number or names');
  const req = setVariableRequest({ name, guid: parseGuidArg(guidText), attributes: attrs, data: new Uint8Array(0) });
  return guestCall(store, req, { phase: parsePhase(p.values.get('phase')), customMode: p.flags.has('custom-mode') }, deviceOptions(p));
}

export function parseGuidArg(text: string): string {
  try { return parseGuidOrAlias(text); } catch { throw new UsageError(`GUID: not a GUID or alias (global, security): ${JSON.stringify(text)}`); }
}
