import { toHex } from '../wire/hex.js';
import { formatDevicePath, ucs2z } from './device-path.js';

/**
 * EFI_LOAD_OPTION (UEFI 2.10 §3.1.3): Attributes u32, FilePathListLength u16,
 * Description (NUL-terminated UCS-2), FilePathList[FilePathListLength], then
 * OptionalData to the end of the variable.
 */
export interface LoadOption {
  attributes: number;
  /** LOAD_OPTION_ACTIVE (bit 0). */
  active: boolean;
  title: string;
  devicePath: string;
  /** Lower-case hex; absent when there is none. */
  optionalData?: string;
}

export const LOAD_OPTION_ACTIVE = 0x1;

/** Decode a Boot####/Driver#### value; undefined when the lengths do not add up. */
export function decodeLoadOption(data: Uint8Array): LoadOption | undefined {
  if (data.length < 6) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const attributes = v.getUint32(0, true);
  const pathLen = v.getUint16(4, true);
  let end = 6;
  while (end + 1 < data.length && (data[end]! | data[end + 1]!) !== 0) end += 2;
  if (end + 1 >= data.length) return undefined; // no terminating NUL
  const title = ucs2z(data, 6, end);
  const pathStart = end + 2;
  if (pathStart + pathLen > data.length) return undefined;
  const opt = data.subarray(pathStart + pathLen);
  return {
    attributes, active: (attributes & LOAD_OPTION_ACTIVE) !== 0, title,
    devicePath: formatDevicePath(data.subarray(pathStart, pathStart + pathLen)),
    ...(opt.length ? { optionalData: toHex(opt) } : {}),
  };
}

/** BootOrder and friends: an array of UINT16 option numbers; undefined for an odd length. */
export function decodeUint16List(data: Uint8Array): number[] | undefined {
  if (data.length % 2) return undefined;
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push(data[i]! | (data[i + 1]! << 8));
  return out;
}

export const optionName = (prefix: string, n: number): string => `${prefix}${n.toString(16).toUpperCase().padStart(4, '0')}`;
