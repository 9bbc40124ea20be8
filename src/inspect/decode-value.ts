import { Guids } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';
import { toHex } from '../wire/hex.js';
import type { Variable } from '../store/variable.js';
import { formatDevicePath } from './device-path.js';
import { decodeLoadOption, decodeUint16List, optionName } from './load-option.js';

const DEVICE_PATH_VARS = new Set(['ConIn', 'ConOut', 'ErrOut', 'ConInDev', 'ConOutDev', 'ErrOutDev']);
const OPTION_LISTS: Record<string, string> = { BootOrder: 'Boot', DriverOrder: 'Driver', SysPrepOrder: 'SysPrep' };
const KEY_DATABASES = new Set(['PK', 'KEK', 'db', 'dbx', 'dbt', 'dbr', 'PKDefault', 'KEKDefault', 'dbDefault', 'dbxDefault']);

/**
 * A one-line reading of a variable's value for tables (the inspector's decoded
 * column, `print --verbose`): load options, device paths, option lists, small
 * integers and text; `undefined` when nothing better than hex can be said.
 * Signature lists are decoded by the summary, not here.
 */
export function decodeValue(v: Variable): string | undefined {
  const name = nameKey(v.name);
  const d = v.data;
  if (d.length === 0) return '(empty)';
  if (v.guid === Guids.globalVariable) {
    if (/^(Boot|Driver|SysPrep)[0-9A-F]{4}$/.test(name)) {
      const o = decodeLoadOption(d);
      if (!o) return 'load option (malformed)';
      return `title="${o.title}" devpath=${o.devicePath}${o.optionalData ? ` optdata=${o.optionalData}` : ''}${o.active ? '' : ' (inactive)'}`;
    }
    const prefix = OPTION_LISTS[name];
    if (prefix) { const l = decodeUint16List(d); if (l) return l.map((n) => optionName(prefix, n)).join(', ') || '(empty list)'; }
    if ((name === 'BootNext' || name === 'BootCurrent') && d.length === 2) return optionName('Boot', d[0]! | (d[1]! << 8));
    if (DEVICE_PATH_VARS.has(name)) return `devpath ${formatDevicePath(d)}`;
  }
  if (KEY_DATABASES.has(name)) return undefined;
  if (d.length === 1) return d[0] === 0 || d[0] === 1 ? `${d[0]} (${d[0] ? 'on' : 'off'})` : `0x${toHex(d)}`;
  if (d.length === 2 || d.length === 4 || d.length === 8) {
    let n = 0n;
    for (let i = d.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(d[i]!);
    return `0x${n.toString(16).padStart(d.length * 2, '0')}`;
  }
  const text = printable(d);
  return text === undefined ? undefined : JSON.stringify(text);
}

/** ASCII text (NUL-terminated or not), or undefined when the bytes are not text. */
function printable(d: Uint8Array): string | undefined {
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  if (end === 0) return undefined;
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = d[i]!;
    if (c === 0x0a || c === 0x0d || c === 0x09) { s += String.fromCharCode(c); continue; }
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
