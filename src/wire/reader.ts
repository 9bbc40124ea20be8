import { WireError } from './errors.js';

/**
 * A cursor over a byte buffer. Every read is bounds-checked: reading past the
 * end throws WireError('truncated') instead of yielding garbage or zeros.
 */
export class ByteReader {
  readonly view: DataView;
  offset: number;

  constructor(readonly bytes: Uint8Array, offset = 0) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, what: string): number {
    const at = this.offset;
    if (n < 0 || at + n > this.bytes.length) {
      throw new WireError('truncated', `${what}: needs ${n} bytes at offset ${at}, buffer has ${this.bytes.length}`);
    }
    this.offset = at + n;
    return at;
  }

  u8(what = 'u8'): number { return this.view.getUint8(this.need(1, what)); }
  u16(what = 'u16'): number { return this.view.getUint16(this.need(2, what), true); }
  i16(what = 'i16'): number { return this.view.getInt16(this.need(2, what), true); }
  u32(what = 'u32'): number { return this.view.getUint32(this.need(4, what), true); }
  u64(what = 'u64'): bigint { return this.view.getBigUint64(this.need(8, what), true); }
  /** A u64 as a double: exact up to 2^53, monotone above, so size checks stay correct. */
  u64Num(what = 'u64'): number {
    const at = this.need(8, what);
    return this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 0x1_0000_0000;
  }
  /** A view (no copy) of the next n bytes. */
  bytesView(n: number, what = 'bytes'): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.subarray(at, at + n);
  }
  /** A copy of the next n bytes. */
  bytesCopy(n: number, what = 'bytes'): Uint8Array {
    return this.bytesView(n, what).slice();
  }
  skip(n: number, what = 'skip'): void { this.need(n, what); }
}

/** Read a little-endian u64 at `off` as a double (see ByteReader.u64Num). Caller checks bounds. */
export function u64NumAt(view: DataView, off: number): number {
  return view.getUint32(off, true) + view.getUint32(off + 4, true) * 0x1_0000_0000;
}
