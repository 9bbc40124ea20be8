/**
 * Linux efivarfs entries (/sys/firmware/efi/efivars, Documentation/filesystems/efivarfs.rst):
 * one file per variable, named `<VariableName>-<VendorGuid>`, holding the UINT32
 * little-endian attributes followed by the data. The kernel turns the UCS-2 name
 * into UTF-8 for the file name; the caller passes it as a JS string (readdir
 * output), whose UTF-16 code units are the UCS-2 name again. efivarfs exposes no
 * time stamp, so time-based variables come back with a zero EFI_TIME.
 * Pure: the caller reads the directory; this turns one entry into a Variable.
 */
import { isGuidText } from '../wire/guid.js';
import { makeVariable, type Variable } from '../store/variable.js';
import { StoreFormatError } from './format-error.js';

const GUID_TEXT_LENGTH = 36;

/** Splits `<name>-<guid>`; the GUID is the last 36 characters, so a name may itself contain '-'. */
export function parseEfivarfsFileName(fileName: string): { name: string; guid: string } {
  const dash = fileName.length - GUID_TEXT_LENGTH - 1;
  const guid = fileName.slice(dash + 1);
  if (dash < 0 || fileName[dash] !== '-' || !isGuidText(guid)) {
    throw new StoreFormatError(fileName, 'file name is not <VariableName>-<VendorGuid>');
  }
  const name = fileName.slice(0, dash);
  if (name.length === 0) throw new StoreFormatError(fileName, 'empty variable name');
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u === 0) throw new StoreFormatError(fileName, 'variable name contains a NUL');
    // UCS-2 has no surrogates; a character outside the BMP cannot come from a UEFI name.
    if (u >= 0xd800 && u <= 0xdfff) throw new StoreFormatError(fileName, 'variable name has a character outside UCS-2');
  }
  return { name, guid: guid.toLowerCase() };
}

/** One efivarfs file -> Variable (name as UCS-2 + NUL, attributes as stored, zero time). */
export function decodeEfivarfsEntry(fileName: string, bytes: Uint8Array): Variable {
  const { name, guid } = parseEfivarfsFileName(fileName);
  if (bytes.length < 4) throw new StoreFormatError(fileName, `file holds ${bytes.length} bytes, needs at least 4 (the attributes)`);
  const attributes = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  const raw = new Uint8Array(2 * name.length + 2);
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    raw[2 * i] = u & 0xff;
    raw[2 * i + 1] = u >>> 8;
  }
  return makeVariable({ guid, name: raw, attributes, data: new Uint8Array(bytes.subarray(4)) }); // a copy, also when bytes is a Node Buffer
}

/** The directory form among the store formats (formats.ts): read, never written. */
export const efivarfsFormat = { name: 'efivarfs', title: 'efivarfs directory', readOnly: true } as const;
