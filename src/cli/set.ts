import { readFile } from 'node:fs/promises';
import { parseGuidOrAlias } from '../wire/guid.js';
import { wellKnownGuid } from '../wire/well-known.js';
import { Attr, parseAttributes } from '../wire/attributes.js';
import { fromHex } from '../wire/hex.js';
import { compareTime, encodeTime } from '../wire/time.js';
import { encodeAuthentication2 } from '../auth/sign.js';
import { parseCommand, type CommandSpec } from './command.js';
import { deviceOptions, UsageError, DEVICE_OPTIONS, JSON_OPTION, CREATE_OPTION } from './args.js';
import { guestCall, parsePhase } from './guest-call.js';

const PHASE = { name: 'phase', type: 'string', value: 'boot|runtime', help: 'the boot phase of the call (default boot; runtime sends ExitBootServices first)' } as const;
const CUSTOM_MODE = { name: 'custom-mode', type: 'boolean', help: 'enter CustomMode first, as a setup screen with physical presence: Secure Boot keys need no signature' } as const;

export const setSpec: CommandSpec = {
  name: 'set',
  summary: 'write one variable through the guest path (UEFI rules, authentication, policy)',
  usage: ['set STORE NAME [GUID] ATTRS (--data-file F | --hex H | --empty) [--phase boot|runtime] [--custom-mode] [device options]'],
  options: [
    { name: 'data-file', type: 'string', value: 'FILE', help: 'the data, raw bytes from FILE' },
    { name: 'hex', type: 'string', value: 'HEX', help: 'the data as hex digits (spaces allowed)' },
    { name: 'empty', type: 'boolean', help: 'no data (DataSize 0: deletes)' },
    PHASE, CUSTOM_MODE, CREATE_OPTION, JSON_OPTION, ...DEVICE_OPTIONS,
  ],
  details: 'GUID may be left out for a well-known NAME (PK, KEK, db, dbx, Boot0001, ...).\n' +
    'The first line printed is the EFI status name. Exit 0 on EFI_SUCCESS, 2 on another status (store untouched), 1 on usage or I/O errors.',
};

export const deleteSpec: CommandSpec = {
  name: 'delete',
  summary: 'delete one variable through the guest path',
  usage: ['delete STORE NAME [GUID] [--phase boot|runtime] [--custom-mode] [--attributes ATTRS] [device options]'],
  options: [
    PHASE,
    { ...CUSTOM_MODE, help: CUSTOM_MODE.help + '; an authenticated variable gets an empty EFI_VARIABLE_AUTHENTICATION_2 payload' },
    { name: 'attributes', type: 'string', value: 'ATTRS', help: 'the Attributes of the SetVariable call (default 0; with --custom-mode, those stored)' },
    JSON_OPTION, ...DEVICE_OPTIONS,
  ],
  details: 'Deleting a variable that does not exist answers EFI_SUCCESS, as QEMU does, and says "(no such variable)" on stderr.\n' +
    'Exit codes as for set.',
};

/** uefi-vars set STORE NAME [GUID] ATTRS (--data-file F | --hex H | --empty) [--phase boot|runtime] [device options] */
export async function runSet(argv: string[]): Promise<number> {
  const p = parseCommand(setSpec, argv);
  const [store, name, ...more] = p.positional;
  if (!store || !name || more.length < 1 || more.length > 2) throw new UsageError('usage: uefi-vars set STORE NAME [GUID] ATTRS (--data-file F | --hex H | --empty)');
  const guid = guidFor(name, more.length === 2 ? more[0] : undefined);
  const attrText = more[more.length - 1]!;
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
  return guestCall(store, { op: 'set', name, guid, request: () => ({ attributes, data }) }, {
    phase: parsePhase(p.values.get('phase')), customMode: p.flags.has('custom-mode'), create: p.flags.has('create'), json: p.flags.has('json'),
  }, deviceOptions(p));
}

/** uefi-vars delete STORE NAME [GUID] [--phase boot|runtime]: SetVariable with DataSize 0 on the guest path. */
export async function runDelete(argv: string[]): Promise<number> {
  const p = parseCommand(deleteSpec, argv);
  const [store, name, guidText, ...rest] = p.positional;
  if (!store || !name || rest.length) throw new UsageError('usage: uefi-vars delete STORE NAME [GUID] [--phase boot|runtime]');
  const guid = guidFor(name, guidText);
  const attrs = p.values.has('attributes') ? parseAttributes(p.values.get('attributes')!) : undefined;
  if (p.values.has('attributes') && attrs === undefined) throw new UsageError('--attributes: not a number or names');
  const customMode = p.flags.has('custom-mode');
  return guestCall(store, {
    op: 'delete', name, guid,
    request: (old) => {
      // A time-based authenticated variable is deleted by a write of its own attributes whose
      // EFI_VARIABLE_AUTHENTICATION_2 carries no payload (UEFI 2.10 §8.2.2; spec §3.3); in
      // CustomMode the descriptor needs no signature (spec §4.6), only a time not older than the stored one.
      if (customMode && old && (old.attributes & Attr.AT)) {
        const now = utcNow();
        const time = compareTime(old.time, now) > 0 ? old.time : now;
        return { attributes: attrs ?? old.attributes, data: encodeAuthentication2(time, new Uint8Array(0), new Uint8Array(0)) };
      }
      return { attributes: attrs ?? 0, data: new Uint8Array(0) };
    },
  }, { phase: parsePhase(p.values.get('phase')), customMode, json: p.flags.has('json') }, deviceOptions(p));
}

/** The current time as EFI_TIME, UTC, whole seconds (AuthVariableLib wants Pad1, Nanosecond, TimeZone, Daylight, Pad2 zero). */
function utcNow(): Uint8Array {
  const d = new Date();
  return encodeTime({
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(),
    minute: d.getUTCMinutes(), second: d.getUTCSeconds(), pad1: 0, nanosecond: 0, timeZone: 0, daylight: 0, pad2: 0,
  });
}

export function parseGuidArg(text: string): string {
  try { return parseGuidOrAlias(text); } catch { throw new UsageError(`GUID: not a GUID or alias (global, security): ${JSON.stringify(text)}`); }
}

/** The GUID given, or the one of a well-known NAME (PK, db, Boot0001, ...). */
export function guidFor(name: string, guidText: string | undefined): string {
  if (guidText !== undefined) return parseGuidArg(guidText);
  const g = wellKnownGuid(name);
  if (!g) throw new UsageError(`${name}: not a well-known variable; give its GUID`);
  return g;
}
