/**
 * efivarfs entry codec (src/persist/efivarfs.ts). Input: u8 name length in code
 * units, the file name as UTF-16LE units, the file bytes. A decoded entry written
 * back as efivarfs would show it (name-guid, attributes u32 LE + data) is the input.
 */
import { decodeEfivarfsEntry } from '../../src/persist/efivarfs.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { Cursor, check, timed, bytesEqual, concat, sharedFiles, readShared } from './harness.js';
import { isFormatRefusal } from './codecs.js';
import { basename } from 'node:path';

export function fuzz(data: Uint8Array): void {
  timed(() => {
    const c = new Cursor(data);
    const units = c.u8();
    let fileName = '';
    for (let i = 0; i < units && c.left >= 2; i++) fileName += String.fromCharCode(c.u16());
    const bytes = c.rest();
    let v;
    try { v = decodeEfivarfsEntry(fileName, bytes); } catch (e) { if (isFormatRefusal(e)) return; throw e; }
    check(`${nameKey(v.name)}-${v.guid}` === fileName.slice(0, -36) + fileName.slice(-36).toLowerCase(), 'efivarfs: file name does not round-trip');
    const attrs = new Uint8Array(4);
    new DataView(attrs.buffer).setUint32(0, v.attributes, true);
    check(bytesEqual(concat([attrs, v.data]), bytes), 'efivarfs: contents do not round-trip');
    check(v.name.length === 2 * (fileName.length - 36), 'efivarfs: name is not the UCS-2 of the file name plus NUL');
  });
}

/** Every file of the shared efivarfs dump. */
export function seeds(): Uint8Array[] {
  return sharedFiles('vectors/varstores/efivarfs').filter((f) => !f.endsWith('.json')).map((f) => {
    const name = basename(f);
    const units = new Uint8Array(1 + 2 * name.length);
    units[0] = name.length;
    for (let i = 0; i < name.length; i++) { units[1 + 2 * i] = name.charCodeAt(i) & 0xff; units[2 + 2 * i] = name.charCodeAt(i) >>> 8; }
    return concat([units, readShared(f)]);
  }).filter((s) => s[0]! < 256);
}
