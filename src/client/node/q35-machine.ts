/**
 * The parts of a QEMU `-machine q35 -accel qtest` guest the conformance suite
 * touches, around our own device model: guest RAM (0 .. -m, without the
 * legacy VGA/BIOS hole 0xA0000–0xFFFFF), the uefi-vars-x64 register window at
 * 0xFEF10000 (spec §1.1), and fw_cfg's x86 I/O ports 0x510/0x511 with the file
 * directory and `etc/hardware-info` (type 2, size 8, the MMIO base). Anything
 * else reads as QEMU's unassigned memory does (0) and ignores writes; an
 * unassigned I/O port reads all ones.
 */
import { UefiVarsDevice } from '../../device/uefi-vars-device.js';
import type { GuestMemory } from '../../device/guest-memory.js';
import { REGS_SIZE, X64_MMIO_BASE, type AccessSize } from '../../device/registers.js';
import type { MmHandler } from '../../service/mm-handler.js';

const PAGE = 4096;
const HOLE_START = 0xa0000n;
const HOLE_END = 0x100000n;
/** q35 puts at most 2 GiB of RAM below 4 GiB (the rest above 4 GiB, which nothing here uses). */
const LOW_RAM_LIMIT = 0x80000000n;

/** Sparse guest RAM: pages come into being on first write (128 MiB of zeros cost nothing). */
export class SparseRam implements GuestMemory {
  private readonly pages = new Map<number, Uint8Array>();
  constructor(readonly size: bigint) {}

  contains(addr: bigint): boolean {
    return addr >= 0n && addr < this.size && addr < LOW_RAM_LIMIT && !(addr >= HOLE_START && addr < HOLE_END);
  }

  read(addr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length;) {
      const a = addr + BigInt(i);
      const n = Math.min(length - i, PAGE - Number(a % BigInt(PAGE)));
      if (this.contains(a)) {
        const p = this.pages.get(Number(a / BigInt(PAGE)));
        if (p) out.set(p.subarray(Number(a % BigInt(PAGE)), Number(a % BigInt(PAGE)) + n), i);
      }
      i += n;
    }
    return out;
  }

  write(addr: bigint, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length;) {
      const a = addr + BigInt(i);
      const off = Number(a % BigInt(PAGE));
      const n = Math.min(bytes.length - i, PAGE - off);
      if (this.contains(a)) {
        const k = Number(a / BigInt(PAGE));
        let p = this.pages.get(k);
        if (!p) { p = new Uint8Array(PAGE); this.pages.set(k, p); }
        p.set(bytes.subarray(i, i + n), off);
      }
      i += n;
    }
  }
}

/** fw_cfg keys (QEMU docs/specs/fw_cfg.rst). */
const FW_CFG_SIGNATURE = 0x00;
const FW_CFG_ID = 0x01;
const FW_CFG_FILE_DIR = 0x19;
const FW_CFG_FILE_FIRST = 0x20;

class FwCfg {
  private selector = 0;
  private offset = 0;
  private readonly items = new Map<number, Uint8Array>();

  constructor(files: ReadonlyArray<[string, Uint8Array]>) {
    this.items.set(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.items.set(FW_CFG_ID, Uint8Array.from([1, 0, 0, 0])); // traditional interface only
    const dir = new Uint8Array(4 + 64 * files.length);
    const v = new DataView(dir.buffer);
    v.setUint32(0, files.length, false);
    files.forEach(([name, data], i) => {
      const e = 4 + 64 * i;
      v.setUint32(e, data.length, false);
      v.setUint16(e + 4, FW_CFG_FILE_FIRST + i, false);
      dir.set(new TextEncoder().encode(name).subarray(0, 55), e + 8);
      this.items.set(FW_CFG_FILE_FIRST + i, data);
    });
    this.items.set(FW_CFG_FILE_DIR, dir);
  }

  select(key: number): void { this.selector = key & 0xffff; this.offset = 0; }

  readByte(): number {
    const item = this.items.get(this.selector);
    if (!item || this.offset >= item.length) return 0;
    return item[this.offset++]!;
  }
}

/** `etc/hardware-info`: {u64 type = 2 (QEMU uefi-vars), u64 size = 8, u64 MMIO address}. */
function hardwareInfo(): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 2n, true);
  v.setBigUint64(8, 8n, true);
  v.setBigUint64(16, X64_MMIO_BASE, true);
  return b;
}

export class Q35Machine {
  readonly ram: SparseRam;
  readonly device: UefiVarsDevice;
  private readonly fwcfg = new FwCfg([['etc/hardware-info', hardwareInfo()]]);

  constructor(handler: MmHandler, opts: { ramSize: bigint; usePio: boolean; onError?: (e: unknown) => void }) {
    this.ram = new SparseRam(opts.ramSize);
    this.device = new UefiVarsDevice(handler, this.ram, { usePio: opts.usePio, ...(opts.onError ? { onError: opts.onError } : {}) });
  }

  /** Machine reset (also run once at start): the device's hard reset (spec §1.7). */
  reset(): Promise<void> { return this.device.hardReset(); }

  private window(addr: bigint, width: number): number | undefined {
    const off = addr - X64_MMIO_BASE;
    return off >= 0n && off + BigInt(width) <= BigInt(REGS_SIZE) ? Number(off) : undefined;
  }

  /** readb/readw/readl/readq: one CPU access. */
  async load(addr: bigint, width: AccessSize): Promise<bigint> {
    const off = this.window(addr, width);
    if (off !== undefined) {
      await this.device.idle();
      return BigInt(this.device.mmioRead(off, width));
    }
    const b = this.ram.read(addr, width);
    let v = 0n;
    for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /** writeb/…/writeq: resolves once the access (and any command it started) has taken effect. */
  async store(addr: bigint, width: AccessSize, value: bigint): Promise<void> {
    const off = this.window(addr, width);
    if (off !== undefined) {
      await this.device.idle();
      await this.device.mmioWrite(off, width, value);
      return;
    }
    const b = new Uint8Array(width);
    for (let i = 0; i < width; i++) b[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    this.ram.write(addr, b);
  }

  /** Bulk access (`read`/`write`/`b64…`): RAM only; the register window is not RAM. */
  readBytes(addr: bigint, length: number): Uint8Array { return this.ram.read(addr, length); }
  writeBytes(addr: bigint, bytes: Uint8Array): void { this.ram.write(addr, bytes); }

  portIn(port: number, width: 1 | 2 | 4): number {
    if (port === 0x511 && width === 1) return this.fwcfg.readByte();
    return width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff;
  }

  /** Resolves once the access has taken effect (a reset through 0xCF9 included). */
  async portOut(port: number, width: 1 | 2 | 4, value: number): Promise<void> {
    if (port === 0x510 && width === 2) this.fwcfg.select(value);
    // ICH9/PIIX reset control: RST_CPU (bit 2) resets the machine (SYS_RST, bit 1, makes it a hard one).
    if (port === 0xcf9 && width === 1 && (value & 0x04) !== 0) await this.reset();
  }
}
