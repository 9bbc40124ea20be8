import { guidAt } from '../wire/guid.js';

/**
 * EFI_DEVICE_PATH_PROTOCOL as text (UEFI 2.10 §10.3): nodes of {Type u8,
 * SubType u8, Length u16 (node size, header included)} up to the first end
 * node. Named as virt-fw-vars' `--print --verbose` names them (the reference
 * output in ../shared/vectors/reference/virt-fw-vars), so the two read the same;
 * nodes it does not name show their type and subtype. Never throws: a node
 * shorter than its fields or longer than the data ends the path with a marker.
 */
export function formatDevicePath(data: Uint8Array): string {
  const parts: string[] = [];
  let off = 0;
  while (off + 4 <= data.length) {
    const type = data[off]!, sub = data[off + 1]!;
    const len = data[off + 2]! | (data[off + 3]! << 8);
    if (type === 0x7f) break; // end of instance or of the whole path
    if (len < 4 || off + len > data.length) { parts.push(`Malformed(type=0x${hex(type)},length=${len})`); break; }
    parts.push(formatNode(type, sub, data.subarray(off + 4, off + len)));
    off += len;
  }
  if (off < data.length && off + 4 > data.length) parts.push('Malformed(truncated)');
  return parts.join('/');
}

const hex = (n: number): string => n.toString(16);

function dv(b: Uint8Array): DataView { return new DataView(b.buffer, b.byteOffset, b.byteLength); }

function formatNode(type: number, sub: number, d: Uint8Array): string {
  switch (type) {
    case 0x01: return hardware(sub, d);
    case 0x02: return acpi(sub, d);
    case 0x03: return messaging(sub, d);
    case 0x04: return media(sub, d);
    default: return `Unknown(type=0x${hex(type)},subtype=0x${hex(sub)})`;
  }
}

function hardware(sub: number, d: Uint8Array): string {
  if (sub === 0x01 && d.length >= 2) return `PCI(dev=${hex(d[1]!).padStart(2, '0')}:${hex(d[0]!)})`; // Function, Device
  if (sub === 0x04 && d.length >= 16) return `VendorHW(${guidAt(d, 0)})`;
  return `HW(subtype=0x${hex(sub)})`;
}

/** EISA id of the PCI root bridge, PNP0A03 compressed (UEFI 2.10 §10.3.3). */
const PNP0A03 = 0x0a0341d0;

function acpi(sub: number, d: Uint8Array): string {
  if (sub === 0x01 && d.length >= 8) {
    const hid = dv(d).getUint32(0, true), uid = dv(d).getUint32(4, true);
    return hid === PNP0A03 ? 'PciRoot()' : `ACPI(hid=0x${hex(hid)},uid=0x${hex(uid)})`;
  }
  if (sub === 0x03 && d.length >= 4) return `GOP(adr=0x${hex(dv(d).getUint32(0, true))})`;
  return `ACPI(subtype=0x${hex(sub)})`;
}

function messaging(sub: number, d: Uint8Array): string {
  const v = dv(d);
  switch (sub) {
    case 0x02: if (d.length >= 4) return `SCSI(pun=${v.getUint16(0, true)},lun=${v.getUint16(2, true)})`; break;
    case 0x05: if (d.length >= 2) return `USB(port=${d[0]})`; break;
    case 0x0b: return 'MAC()';
    case 0x0c: return 'IPv4()';
    case 0x0d: return 'IPv6()';
    case 0x12: if (d.length >= 6) return `SATA(port=${v.getUint16(0, true)})`; break;
    case 0x13: if (d.length >= 14) return `ISCSI(${latin1(d.subarray(14))})`; break;
    case 0x18: return `URI(${latin1(d)})`;
    case 0x1f: return 'DNS()';
  }
  return `Msg(subtype=0x${hex(sub)})`;
}

function media(sub: number, d: Uint8Array): string {
  switch (sub) {
    case 0x01: if (d.length >= 20) return `Partition(nr=${dv(d).getUint32(0, true)})`; break;
    case 0x04: return `FilePath(${ucs2z(d)})`;
    case 0x06: if (d.length >= 16) return `FvFileName(${guidAt(d, 0)})`; break;
    case 0x07: if (d.length >= 16) return `FvName(${guidAt(d, 0)})`; break;
  }
  return `Media(subtype=0x${hex(sub)})`;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length && b[i] !== 0; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** A UCS-2 string up to its NUL (or the end of `b`). */
export function ucs2z(b: Uint8Array, off = 0, end = b.length): string {
  let s = '';
  for (let i = off; i + 1 < end; i += 2) {
    const c = b[i]! | (b[i + 1]! << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
