/**
 * Guest-physical memory as the device sees it for DMA (spec §1.5).
 *
 * Contract for embedders:
 * - `read` returns `length` bytes starting at `addr`. It may return a live view
 *   of guest RAM (e.g. a subarray of a SharedArrayBuffer that vCPU workers keep
 *   writing): the device copies what it gets into its own array immediately and
 *   never looks at the returned array again.
 * - Neither method should throw for addresses the guest chose: QEMU ignores DMA
 *   errors (spec §1.5 step 4), so unmapped bytes should read as some fixed value
 *   and writes to them should be dropped. If one throws anyway, the device turns
 *   that into CMD_STS ERR_UNKNOWN instead of letting it escape.
 */
export interface GuestMemory {
  read(addr: bigint, length: number): Uint8Array;
  write(addr: bigint, bytes: Uint8Array): void;
}

/**
 * Plain RAM for tests and simple embedders: `bytes` is mapped at `base`.
 * Outside it, reads yield zeros and writes are dropped, byte by byte, so a range
 * that straddles the edge is partly served.
 */
export class ArrayGuestMemory implements GuestMemory {
  readonly bytes: Uint8Array;
  readonly base: bigint;

  constructor(sizeOrBytes: number | Uint8Array, base = 0n) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
    this.base = base;
  }

  read(addr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const span = this.overlap(addr, length);
    if (span) out.set(this.bytes.subarray(span.from, span.from + span.count), span.at);
    return out;
  }

  write(addr: bigint, bytes: Uint8Array): void {
    const span = this.overlap(addr, bytes.length);
    if (span) this.bytes.set(bytes.subarray(span.at, span.at + span.count), span.from);
  }

  /** The part of [addr, addr+length) inside the mapping: source offset `at`, RAM offset `from`. */
  private overlap(addr: bigint, length: number): { at: number; from: number; count: number } | undefined {
    const lo = addr > this.base ? addr : this.base;
    const end = addr + BigInt(length);
    const top = this.base + BigInt(this.bytes.length);
    const hi = end < top ? end : top;
    if (hi <= lo) return undefined;
    return { at: Number(lo - addr), from: Number(lo - this.base), count: Number(hi - lo) };
  }
}
