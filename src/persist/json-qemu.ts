import { parseGuid, isGuidText, type GuidText } from '../wire/guid.js';
import { fromHex, toHex } from '../wire/hex.js';
import { encodeName, nameKey } from '../wire/ucs2.js';
import { Attr } from '../wire/attributes.js';
import { ZERO_TIME } from '../wire/time.js';
import { makeVariable, type Variable } from '../store/variable.js';
import { StoreFormatError } from './format-error.js';
import { qemuHex, qemuName, qemuTimeUsable } from './json-lenient.js';
import type { StoreCodec } from './codec.js';

const NIL_GUID: GuidText = '00000000-0000-0000-0000-000000000000';

/**
 * QEMU uefi-vars JSON v2 (QAPI UefiVarStore, spec §6.2), read and written
 * exactly as QEMU 10's device does, with two [BUG]s fixed: a bad GUID or hex
 * string is an error (QEMU loads the nil GUID / garbage), and names keep every code unit (QEMU writes non-ASCII as `?`; we write
 * the real character, which JSON escapes as \uXXXX). `lenient` loads what QEMU
 * loads instead, with a warning per repaired field.
 */
const TOP_KEYS = new Set(['version', 'variables']);
const VAR_KEYS = new Set(['guid', 'name', 'attr', 'data', 'time', 'digest', 'timestamp']);

export function isQemuJson(bytes: Uint8Array): boolean {
  for (const c of bytes) {
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b; // '{'
  }
  return bytes.length === 0; // an empty file is an empty store (spec §6.1)
}

/**
 * `lenient`: load exactly what QEMU loads from the same file (json-lenient.ts) instead of
 * refusing it, calling `warn` once per repaired field. Keys, types and the QAPI shape are
 * checked the same in both modes: QEMU refuses to start on those too.
 */
export interface JsonLoadOptions {
  lenient?: boolean;
  warn?: (where: string, what: string) => void;
}

export function decodeQemuJson(bytes: Uint8Array, opts: JsonLoadOptions = {}): Variable[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.trim() === '') return [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new StoreFormatError('json', `not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new StoreFormatError('json', 'top level is not an object');
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top)) if (!TOP_KEYS.has(k)) throw new StoreFormatError(k, 'unknown key');
  // QEMU's QAPI visitor requires both members; `version` is not validated beyond being an int.
  if (!('version' in top)) throw new StoreFormatError('version', 'missing');
  if (typeof top.version !== 'number' || !Number.isInteger(top.version)) throw new StoreFormatError('version', 'not an integer');
  if (!('variables' in top)) throw new StoreFormatError('variables', 'missing');
  if (!Array.isArray(top.variables)) throw new StoreFormatError('variables', 'not an array');
  return top.variables.map((item, i) => decodeVariable(item, `variables[${i}]`, opts));
}

function decodeVariable(item: unknown, at: string, opts: JsonLoadOptions): Variable {
  const lenient = opts.lenient === true;
  const warn = (k: string, what: string): void => opts.warn?.(`${at}.${k}`, what);
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new StoreFormatError(at, 'not an object');
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!VAR_KEYS.has(k)) throw new StoreFormatError(`${at}.${k}`, 'unknown key');
  const str = (k: string): string => {
    const v = o[k];
    if (v === undefined) throw new StoreFormatError(`${at}.${k}`, 'missing');
    if (typeof v !== 'string') throw new StoreFormatError(`${at}.${k}`, 'not a string');
    return v;
  };
  const guidText = str('guid');
  let guid = NIL_GUID;
  if (isGuidText(guidText)) guid = parseGuid(guidText);
  else if (lenient) warn('guid', `not a GUID: ${JSON.stringify(guidText)}, loaded as the nil GUID as QEMU does`);
  else throw new StoreFormatError(`${at}.guid`, `not a GUID: ${JSON.stringify(guidText)} (--lenient-json loads it as the nil GUID, as QEMU does)`);
  const nameText = str('name');
  let name: Uint8Array;
  if (lenient) {
    const n = qemuName(nameText);
    // QEMU would load an empty name (NameSize 2); no store rule can hold one (docs/deviations.md #1).
    if (n.value.length <= 2) throw new StoreFormatError(`${at}.name`, 'empty name');
    if (n.repair) warn('name', `${JSON.stringify(nameText)}: ${n.repair}, as QEMU does`);
    name = n.value;
  } else {
    if (nameText.length === 0) throw new StoreFormatError(`${at}.name`, 'empty name');
    if (nameText.includes('\u0000')) throw new StoreFormatError(`${at}.name`, 'contains a NUL character');
    name = encodeName(nameText);
  }
  if (!('attr' in o)) throw new StoreFormatError(`${at}.attr`, 'missing');
  const attr = o.attr;
  if (typeof attr !== 'number' || !Number.isInteger(attr) || attr < 0 || attr > 0xffffffff) {
    throw new StoreFormatError(`${at}.attr`, 'not a 32-bit unsigned integer');
  }
  const hex = (k: string): Uint8Array => {
    if (lenient) {
      const h = qemuHex(str(k));
      if (h.repair) warn(k, `${h.repair}, as QEMU does`);
      return h.value;
    }
    try { return fromHex(str(k), k); } catch (e) {
      if (e instanceof StoreFormatError) throw e;
      throw new StoreFormatError(`${at}.${k}`, (e as Error).message.replace(/^[a-z]+: /, ''));
    }
  };
  const data = hex('data');
  // `time` (QEMU) or `timestamp` (python-uefivars); QEMU ignores a time that is not 32 digits (spec §8 item 69).
  let time = ZERO_TIME;
  const timeKey = 'time' in o ? 'time' : 'timestamp' in o ? 'timestamp' : undefined;
  if (timeKey) {
    const t = str(timeKey);
    if (lenient ? qemuTimeUsable(t) : t.length === 32) time = hex(timeKey);
    else if (lenient) warn(timeKey, `${t.length} characters, not 32: ignored (zero time), as QEMU does`);
  }
  const digest = 'digest' in o ? hex('digest') : undefined;
  return makeVariable({ guid, name, attributes: attr, data, time, digest });
}

/** Member order and layout as QEMU's pretty printer emits them (spec §6.2). */
const ascii = new TextEncoder();
const HEAD = ascii.encode('{\n    "version": 2,\n    "variables": [');
const SEP = ascii.encode(',\n');
const NL = ascii.encode('\n');
const TAIL = ascii.encode('\n    ]\n}');
const EMPTY_TAIL = ascii.encode('\n    ]\n}');

export function encodeQemuJson(variables: Iterable<Variable>): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = HEAD.length + TAIL.length;
  for (const v of variables) {
    const f = variableFragment(v);
    parts.push(f);
    n += f.length + SEP.length;
  }
  const out = new Uint8Array(n);
  out.set(HEAD, 0);
  let at = HEAD.length;
  parts.forEach((f, i) => {
    const sep = i === 0 ? NL : SEP;
    out.set(sep, at); at += sep.length;
    out.set(f, at); at += f.length;
  });
  const tail = parts.length ? TAIL : EMPTY_TAIL;
  out.set(tail, at); at += tail.length;
  return out.subarray(0, at);
}

const fragments = new WeakMap<Variable, Uint8Array>();

/** Records are immutable, so each one's JSON bytes are built once and reused on every save. */
function variableFragment(v: Variable): Uint8Array {
  let f = fragments.get(v);
  if (f !== undefined) return f;
  const lines = [`            "name": ${JSON.stringify(nameKey(v.name)).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))}`];
  const timeBased = (v.attributes & Attr.AT) !== 0;
  if (timeBased && v.digest) lines.push(`            "digest": "${toHex(v.digest)}"`);
  lines.push(`            "guid": "${v.guid}"`);
  lines.push(`            "attr": ${v.attributes}`);
  if (timeBased) lines.push(`            "time": "${toHex(v.time)}"`);
  lines.push(`            "data": "${toHex(v.data)}"`);
  f = ascii.encode(`        {\n${lines.join(',\n')}\n        }`);
  fragments.set(v, f);
  return f;
}

/** QEMU's jsonfile as a store codec (codec.ts; the list: formats.ts). */
export const jsonCodec = {
  name: 'json',
  aliases: [],
  title: 'QEMU JSON',
  label: 'QEMU JSON',
  extensions: ['.json'],
  looseDetect: true,
  detect: isQemuJson,
  decode: async (b, opts) => ({ variables: decodeQemuJson(b, opts?.json) }),
  encode: async (v) => encodeQemuJson(v),
} as const satisfies StoreCodec<'json'>;
