/** A growable little-endian byte writer, the twin of ByteReader. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      let size = Math.max(16, this.buf.length * 2);
      while (size < at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }

  // room() may replace buf/view: take the offset first, then touch the (new) buffer.
  u8(v: number): this { const at = this.room(1); this.view.setUint8(at, v); return this; }
  u16(v: number): this { const at = this.room(2); this.view.setUint16(at, v, true); return this; }
  i16(v: number): this { const at = this.room(2); this.view.setInt16(at, v, true); return this; }
  u32(v: number): this { const at = this.room(4); this.view.setUint32(at, v >>> 0, true); return this; }
  u64(v: bigint | number): this { const at = this.room(8); this.view.setBigUint64(at, BigInt(v), true); return this; }
  bytes(b: Uint8Array): this { const at = this.room(b.length); this.buf.set(b, at); return this; }
  fill(n: number, value = 0): this { const at = this.room(n); this.buf.fill(value, at, at + n); return this; }

  /** The written bytes (a copy, so the writer can be reused). */
  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}
