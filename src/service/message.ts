import { u64NumAt } from '../wire/reader.js';

/**
 * The variable-protocol message being answered, in place: the service owns this
 * copy of the guest buffer. QEMU writes replies into its full internal buffer and
 * then copies back only 24 + MessageLength bytes (spec §1.5 step 8), so every
 * write here is clipped at the message end: the guest sees exactly the part
 * that falls inside its message.
 */
export class Message {
  readonly view: DataView;
  readonly length: number;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.length;
  }

  /** u64 as a double; caller has checked off + 8 <= length. */
  u64(off: number): number { return u64NumAt(this.view, off); }
  u32(off: number): number { return this.view.getUint32(off, true); }

  setU64(off: number, v: bigint | number): void {
    if (off + 8 <= this.length) { this.view.setBigUint64(off, BigInt(v), true); return; }
    const tmp = new Uint8Array(8);
    new DataView(tmp.buffer).setBigUint64(0, BigInt(v), true);
    this.put(off, tmp);
  }

  setU32(off: number, v: number): void {
    if (off + 4 <= this.length) { this.view.setUint32(off, v >>> 0, true); return; }
    const tmp = new Uint8Array(4);
    new DataView(tmp.buffer).setUint32(0, v >>> 0, true);
    this.put(off, tmp);
  }

  put(off: number, src: Uint8Array): void {
    if (off >= this.length) return;
    const n = Math.min(src.length, this.length - off);
    this.bytes.set(n === src.length ? src : src.subarray(0, n), off);
  }
}
