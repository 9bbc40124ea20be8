import { WireError } from './errors.js';

/**
 * QEMU's `pcapfile` capture (spec §6.5): classic pcap, linktype 302
 * (LINKTYPE_EDK2_MM); each record = u32 LE type ‖ bytes, type 1 = device hard
 * reset, 2 = request (24 + MessageLength bytes), 3 = reply.
 */
export const LINKTYPE_EDK2_MM = 302;

export type PcapRecord =
  | { type: 'reset' }
  | { type: 'request'; bytes: Uint8Array; capturedLength?: number }
  | { type: 'reply'; bytes: Uint8Array; capturedLength?: number };

export function parsePcap(b: Uint8Array): PcapRecord[] {
  if (b.length < 24) throw new WireError('truncated', 'pcap: shorter than its 24-byte global header');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = v.getUint32(0, true);
  const le = magic === 0xa1b2c3d4;
  if (!le && magic !== 0xd4c3b2a1) throw new WireError('bad-value', `pcap: bad magic 0x${magic.toString(16)}`);
  const linktype = v.getUint32(20, le);
  if (linktype !== LINKTYPE_EDK2_MM) throw new WireError('bad-value', `pcap: linktype ${linktype}, expected ${LINKTYPE_EDK2_MM} (EDK2_MM)`);
  const out: PcapRecord[] = [];
  let off = 24;
  while (off < b.length) {
    if (off + 16 > b.length) throw new WireError('truncated', `pcap: record header at offset ${off} is cut short`);
    const incl = v.getUint32(off + 8, le);
    const orig = v.getUint32(off + 12, le);
    const start = off + 16;
    if (start + incl > b.length) throw new WireError('truncated', `pcap: record at offset ${off} claims ${incl} bytes, ${b.length - start} left`);
    if (incl < 4) throw new WireError('bad-value', `pcap: record at offset ${off} has no type field`);
    if (incl > orig) throw new WireError('bad-value', `pcap: record at offset ${off} has more bytes (${incl}) than its original length (${orig})`);
    const type = v.getUint32(start, true);
    // QEMU caps a record at snaplen 65536 (incl_len = min(4 + size, 65536)): the
    // bytes past the cap are lost. Keep the original length, zero-fill the rest,
    // and say how much was captured so a comparison can stop there.
    let bytes = b.subarray(start + 4, start + incl);
    const cut = incl < orig ? { capturedLength: bytes.length } : {};
    if (incl < orig) { const full = new Uint8Array(orig - 4); full.set(bytes); bytes = full; }
    if (type === 1) out.push({ type: 'reset' });
    else if (type === 2) out.push({ type: 'request', bytes, ...cut });
    else if (type === 3) out.push({ type: 'reply', bytes, ...cut });
    else throw new WireError('bad-value', `pcap: record at offset ${off} has unknown type ${type}`);
    off = start + incl;
  }
  return out;
}

/** Write records in the same format (used by tests and by `serve --pcap`). */
export function encodePcap(records: readonly PcapRecord[]): Uint8Array {
  let n = 24;
  for (const r of records) n += 16 + 4 + (r.type === 'reset' ? 0 : r.bytes.length);
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true); v.setUint16(4, 2, true); v.setUint16(6, 4, true);
  v.setUint32(16, 65536, true); v.setUint32(20, LINKTYPE_EDK2_MM, true);
  let off = 24;
  for (const r of records) {
    const len = 4 + (r.type === 'reset' ? 0 : r.bytes.length);
    v.setUint32(off + 8, len, true); v.setUint32(off + 12, len, true);
    v.setUint32(off + 16, r.type === 'reset' ? 1 : r.type === 'request' ? 2 : 3, true);
    if (r.type !== 'reset') out.set(r.bytes, off + 20);
    off += 16 + len;
  }
  return out;
}
