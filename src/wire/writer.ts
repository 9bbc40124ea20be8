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
      let size = this.buf.length * 2;
      while (size < at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }

  u8(v: number): this { this.view.setUint8(this.room(1), v); return this; }
  u16(v: number): this { this.view.setUint16(this.room(2), v, true); return this; }
  i16(v: number): this { this.view.setInt16(this.room(2), v, true); return this; }
  u32(v: number): this { this.view.setUint32(this.room(4), v >>> 0, true); return this; }
  u64(v: bigint | number): this { this.view.setBigUint64(this.room(8), BigInt(v), true); return this; }
  bytes(b: Uint8Array): this { this.buf.set(b, this.room(b.length)); return this; }
  fill(n: number, value = 0): this { const at = this.room(n); this.buf.fill(value, at, at + n); return this; }

  /** The written bytes (a copy, so the writer can be reused). */
  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}
