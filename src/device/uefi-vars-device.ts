/**
 * Register-level model of QEMU's `uefi-vars` device (spec §1), for a VMM written
 * in JavaScript. It owns the registers, the PIO buffer and the DMA/PIO transfer;
 * everything from the MM header on belongs to the MmHandler (the service).
 *
 * Embedding:
 * - `mmioRead(offset, size)` is synchronous: no register read has to wait.
 * - `mmioWrite(offset, size, value)` returns a promise. Only a DMA_MM or PIO_MM
 *   command does asynchronous work (the handler may await crypto); every other
 *   write has taken effect before the call returns and its promise is already
 *   resolved. Resume the vCPU that issued the write when the promise settles,
 *   and the guest sees QEMU's behaviour: commands complete before CMD_STS can be
 *   read (spec §1.3). The promise never rejects because of anything the guest did.
 * - Call `hardReset()` at machine start and on every machine reset (spec §1.7).
 *
 * While a command is in flight (`busy`), accesses from elsewhere — a second vCPU,
 * or an embedder that did not wait — cannot disturb it: CMD_STS reads BUSY (0x01,
 * which edk2 polls on, spec §1.4), PIO_BUFFER_TRANSFER reads 0 without moving the
 * offset, other registers read normally and every write is ignored. An embedder
 * that wants QEMU's exact serialisation instead awaits `idle()` before passing
 * any access on.
 *
 * Access decoding follows QEMU's memory core for a region registered with
 * min 2 / max 4 bytes and no `.valid` limits (spec §1.2): 1-byte accesses reach
 * the register logic as 2-byte ones at the same offset, 8-byte accesses as two
 * 4-byte ones at `off` and `off + 4`, and an access not aligned to its own size
 * is refused. A refused access, or one outside the 0x20-byte window, reads as
 * all ones and writes nothing. (QEMU's core hands back 0 for a refused read and
 * may raise a bus error instead; all ones is what this device already answers
 * for its own unknown offsets, and no firmware issues such accesses.)
 */
import type { MmHandler, MmResult } from '../service/mm-handler.js';
import { MM_HEADER_SIZE, messageLengthField } from '../wire/mm.js';
import { crc32c } from '../wire/crc32c.js';
import type { GuestMemory } from './guest-memory.js';
import { type AccessSize, Cmd, DeviceStatus, Flag, MAX_BUFFER_SIZE, Reg, REGS_SIZE, UEFI_VARS_MAGIC } from './registers.js';

export interface UefiVarsDeviceOptions {
  /** QEMU's `use-pio` property: sets FLAGS.USE_PIO so firmware picks PIO (spec §1.1). */
  usePio?: boolean;
  /**
   * Told about failures that are not the guest's doing: the handler threw, the
   * handler's reply did not fit the request, or guest memory threw. The guest
   * sees CMD_STS ERR_UNKNOWN (0x10, which edk2 maps to EFI_DEVICE_ERROR).
   */
  onError?: (error: unknown) => void;
}

/** What has to travel with the device on migration (QEMU vmstate "uefi-vars", spec §1.7). */
export interface UefiVarsDeviceState {
  status: number;
  bufferSize: number;
  dmaAddressLo: number;
  dmaAddressHi: number;
  pioOffset: number;
  /** May be longer than bufferSize: CMD RESET zeroes the size but keeps the buffer (spec §1.3). */
  pioBuffer: Uint8Array;
}

const DONE: Promise<void> = Promise.resolve();
const noop = (): void => undefined;

export class UefiVarsDevice {
  readonly usePio: boolean;
  private readonly onError: ((error: unknown) => void) | undefined;

  private status: number = DeviceStatus.SUCCESS; // 0 at power-on (spec §1.4)
  private bufferSize = 0;
  private dmaAddressLo = 0;
  private dmaAddressHi = 0;
  private pioOffset = 0;
  /** Invariant: bufferSize === 0 || bufferSize === pioBuffer.length. */
  private pioBuffer = new Uint8Array(0);
  /** Settles (never rejects) when the running command or reset has finished. */
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly handler: MmHandler,
    private readonly memory: GuestMemory,
    opts: UefiVarsDeviceOptions = {},
  ) {
    this.usePio = opts.usePio ?? false;
    this.onError = opts.onError;
  }

  /** True from a DMA_MM/PIO_MM write (or hardReset) until its work has finished. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Resolves once no command or reset is running. */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** A CPU read of `size` bytes at `offset` in the window; 8-byte reads come back as a bigint. */
  mmioRead(offset: number, size: 1 | 2 | 4): number;
  mmioRead(offset: number, size: 8): bigint;
  mmioRead(offset: number, size: AccessSize): number | bigint;
  mmioRead(offset: number, size: AccessSize): number | bigint {
    checkSize(size);
    if (!decodes(offset, size)) return size === 8 ? 0xffffffffffffffffn : lowMask(size);
    if (size === 8) {
      const lo = this.readRegister(offset, 4);
      const hi = this.readRegister(offset + 4, 4);
      return BigInt(lo) | (BigInt(hi) << 32n);
    }
    // A byte read runs the 2-byte register logic (a PIO transfer moves 2 bytes) and keeps the low byte.
    return size === 1 ? this.readRegister(offset, 2) & 0xff : this.readRegister(offset, size);
  }

  /**
   * A CPU write. Resolves when the write has fully taken effect — for DMA_MM and
   * PIO_MM, once the reply is written back and CMD_STS holds the result.
   */
  mmioWrite(offset: number, size: AccessSize, value: number | bigint): Promise<void> {
    checkSize(size);
    const bits = toBits(value, size);
    if (!decodes(offset, size) || this.inFlight) return DONE;
    if (size === 8) {
      // No 4-byte half of an aligned 8-byte access lands on CMD_STS, so no command can start here.
      this.writeRegister(offset, 4, Number(bits & 0xffffffffn));
      this.writeRegister(offset + 4, 4, Number(bits >> 32n));
    } else {
      this.writeRegister(offset, size === 1 ? 2 : size, Number(bits));
    }
    return this.inFlight ?? DONE;
  }

  /**
   * Machine reset (spec §1.7): the soft reset of CMD RESET, then the handler's
   * hard reset (variables, phases, policies). CMD_STS, the PIO offset and the PIO
   * buffer are kept, as in QEMU. Waits for a running command first; rejects only
   * if the handler's reset does.
   */
  async hardReset(): Promise<void> {
    // Checked and claimed in the same turn, so two resets cannot both start.
    while (this.inFlight) await this.inFlight;
    this.softReset();
    const work = this.handler.reset();
    this.occupy(work);
    await work;
  }

  /** Device registers and PIO buffer for migration; refuses while busy (await idle() first). */
  saveState(): UefiVarsDeviceState {
    if (this.inFlight) throw new Error('uefi-vars: cannot save state while a command is running');
    return {
      status: this.status,
      bufferSize: this.bufferSize,
      dmaAddressLo: this.dmaAddressLo,
      dmaAddressHi: this.dmaAddressHi,
      pioOffset: this.pioOffset,
      pioBuffer: this.pioBuffer.slice(),
    };
  }

  /** Resume from saveState() output (incoming migration); the values are checked, not trusted. */
  loadState(s: UefiVarsDeviceState): void {
    if (this.inFlight) throw new Error('uefi-vars: cannot load state while a command is running');
    const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
    const len = s.pioBuffer.length;
    if (!u32(s.status) || s.status > 0xffff || !u32(s.dmaAddressLo) || !u32(s.dmaAddressHi)
      || len > MAX_BUFFER_SIZE || !(s.bufferSize === 0 || s.bufferSize === len)
      || !u32(s.pioOffset) || s.pioOffset > MAX_BUFFER_SIZE) {
      throw new RangeError('uefi-vars: inconsistent device state');
    }
    this.status = s.status;
    this.bufferSize = s.bufferSize;
    this.dmaAddressLo = s.dmaAddressLo;
    this.dmaAddressHi = s.dmaAddressHi;
    this.pioOffset = s.pioOffset;
    this.pioBuffer = s.pioBuffer.slice();
  }

  // --- register logic: what QEMU's read/write callbacks see (size 2 or 4) ---

  private readRegister(offset: number, size: 2 | 4): number {
    let v: number;
    switch (offset) {
      // MAGIC answers a 32-bit read too: the upper half is not CMD_STS (spec §1.2).
      case Reg.MAGIC: v = UEFI_VARS_MAGIC; break;
      case Reg.CMD_STS: v = this.inFlight ? DeviceStatus.BUSY : this.status; break;
      case Reg.BUFFER_SIZE: v = this.bufferSize; break;
      case Reg.DMA_BUFFER_ADDR_LO: v = this.dmaAddressLo; break;
      case Reg.DMA_BUFFER_ADDR_HI: v = this.dmaAddressHi; break;
      case Reg.PIO_BUFFER_TRANSFER: v = this.inFlight ? 0 : this.pioRead(size); break;
      case Reg.PIO_BUFFER_CRC32C: v = this.pioCrc(); break;
      case Reg.FLAGS: v = this.usePio ? Flag.USE_PIO : 0; break;
      default: v = 0xffffffff; // QEMU's read callback returns -1 for anything else
    }
    return size === 2 ? v & 0xffff : v >>> 0;
  }

  private writeRegister(offset: number, size: 2 | 4, value: number): void {
    switch (offset) {
      case Reg.CMD_STS: this.command(value); break;
      case Reg.BUFFER_SIZE: this.setBufferSize(value); break;
      case Reg.DMA_BUFFER_ADDR_LO: this.dmaAddressLo = value; break;
      case Reg.DMA_BUFFER_ADDR_HI: this.dmaAddressHi = value; break;
      case Reg.PIO_BUFFER_TRANSFER: this.pioWrite(size, value); break;
      default: break; // MAGIC, CRC32C and FLAGS are read-only; unknown offsets ignore writes
    }
  }

  /** spec §1.3. */
  private command(cmd: number): void {
    switch (cmd) {
      case Cmd.RESET: this.softReset(); this.status = DeviceStatus.SUCCESS; break;
      case Cmd.DMA_MM: this.startMm('dma'); break;
      case Cmd.PIO_MM: this.startMm('pio'); break;
      case Cmd.PIO_ZERO_OFFSET: this.pioOffset = 0; this.status = DeviceStatus.SUCCESS; break;
      default: this.status = DeviceStatus.ERR_NOT_SUPPORTED;
    }
  }

  /** CMD RESET (spec §1.3): the PIO buffer and its offset survive it. */
  private softReset(): void {
    this.bufferSize = 0;
    this.dmaAddressLo = 0;
    this.dmaAddressHi = 0;
  }

  /**
   * Clamp to 64 KiB and start from a fresh zero-filled PIO buffer: nothing a
   * previous request or reply left behind can be read back (CVE-2025-8860).
   */
  private setBufferSize(value: number): void {
    const size = Math.min(value >>> 0, MAX_BUFFER_SIZE);
    this.bufferSize = size;
    this.pioBuffer = new Uint8Array(size);
  }

  // --- PIO transfer (spec §1.6) ---

  private pioRead(size: 2 | 4): number {
    const o = this.pioOffset;
    if (o + size > this.bufferSize) return 0; // and the offset stays put
    const b = this.pioBuffer;
    let v = b[o]! | (b[o + 1]! << 8);
    if (size === 4) v |= (b[o + 2]! << 16) | (b[o + 3]! << 24);
    this.pioOffset = o + size;
    return v >>> 0;
  }

  private pioWrite(size: 2 | 4, value: number): void {
    const o = this.pioOffset;
    if (o + size > this.bufferSize) return; // dropped, offset stays put
    const b = this.pioBuffer;
    for (let i = 0; i < size; i++) b[o + i] = (value >>> (8 * i)) & 0xff;
    this.pioOffset = o + size;
  }

  /** Over [0, offset); 0 once the buffer shrank below the offset (newer QEMU; older ones over-read). */
  private pioCrc(): number {
    const o = this.pioOffset;
    return o > this.bufferSize ? 0 : crc32c(this.pioBuffer.subarray(0, o));
  }

  // --- MM request (spec §1.5) ---

  /**
   * Take the request now, at the moment of the command write, exactly as QEMU
   * does; only the handler's part runs later. Everything the reply may touch —
   * DMA address, size, PIO buffer — is fixed here, so nothing the guest does
   * afterwards can steer the write-back.
   */
  private startMm(transport: 'dma' | 'pio'): void {
    const bufferSize = this.bufferSize;
    let request: Uint8Array | undefined;
    let writeBack: (reply: Uint8Array) => void;
    try {
      if (transport === 'dma') {
        const addr = (BigInt(this.dmaAddressHi) << 32n) | BigInt(this.dmaAddressLo);
        request = this.fetchFromGuest(addr, bufferSize);
        writeBack = (reply) => this.memory.write(addr, reply);
      } else {
        const pio = this.pioBuffer;
        request = fetchFromPio(pio, bufferSize);
        // Newer QEMU writes the reply at offset 0 (spec §1.6); the guest-visible bytes match older builds.
        writeBack = (reply) => pio.set(reply, 0);
      }
    } catch (e) {
      this.report(e);
      this.status = DeviceStatus.ERR_UNKNOWN;
      return;
    }
    if (!request) {
      // spec §1.5 steps 1-3: no buffer, or the message does not fit it. Nothing is written back.
      this.status = DeviceStatus.ERR_BAD_BUFFER_SIZE;
      return;
    }
    this.occupy(this.complete(request, bufferSize, writeBack));
  }

  /**
   * The one copy (spec §1.5 steps 2-4). Each guest byte is fetched exactly once:
   * the header first, into a private array; its MessageLength decides the size;
   * then only the remaining bytes. The header placed in the request is that same
   * private copy, so the length the handler parses is the length that was
   * checked — a guest rewriting memory in between changes nothing we read again.
   * Copying out of what `read` returns at once also covers embedders whose
   * `read` hands back a live view of shared guest RAM.
   */
  private fetchFromGuest(addr: bigint, bufferSize: number): Uint8Array | undefined {
    if (bufferSize < MM_HEADER_SIZE) return undefined;
    const header = new Uint8Array(MM_HEADER_SIZE);
    this.copyIn(header, 0, addr, MM_HEADER_SIZE);
    const total = checkedTotal(header, bufferSize);
    if (total === undefined) return undefined;
    const request = new Uint8Array(total);
    request.set(header, 0);
    if (total > MM_HEADER_SIZE) {
      this.copyIn(request, MM_HEADER_SIZE, BigInt.asUintN(64, addr + BigInt(MM_HEADER_SIZE)), total - MM_HEADER_SIZE);
    }
    if (checkedTotal(request, bufferSize) !== request.length) {
      throw new Error('uefi-vars: request snapshot lost its header (internal error)');
    }
    return request;
  }

  private copyIn(dst: Uint8Array, at: number, addr: bigint, length: number): void {
    const got = this.memory.read(addr, length);
    // Never more than asked for; a short answer leaves zeros (QEMU ignores DMA errors).
    dst.set(got.length > length ? got.subarray(0, length) : got, at);
  }

  /** Runs the handler and lands its answer; never rejects. */
  private async complete(request: Uint8Array, bufferSize: number, writeBack: (reply: Uint8Array) => void): Promise<void> {
    let status: number;
    try {
      const result: MmResult = await this.handler.process(request, bufferSize);
      if (result.reply !== undefined && result.reply.length > request.length) {
        // The service promises 24 + MessageLength bytes; more would land outside the checked buffer.
        throw new RangeError(`uefi-vars: handler replied ${result.reply.length} bytes to a ${request.length}-byte request`);
      }
      if (result.reply !== undefined) writeBack(result.reply);
      status = result.deviceStatus & 0xffff;
    } catch (e) {
      this.report(e);
      status = DeviceStatus.ERR_UNKNOWN;
    }
    this.status = status;
  }

  /** Mark the device busy until `work` settles. */
  private occupy(work: Promise<void>): void {
    const settled: Promise<void> = work.then(noop, noop).then(() => {
      if (this.inFlight === settled) this.inFlight = undefined;
    });
    this.inFlight = settled;
  }

  private report(e: unknown): void {
    try { this.onError?.(e); } catch { /* a failing logger must not take the device down */ }
  }
}

/** 24 + MessageLength if it fits `bufferSize`, else undefined (u64 arithmetic cannot wrap here). */
function checkedTotal(header: Uint8Array, bufferSize: number): number | undefined {
  const ml = messageLengthField(header);
  const total = BigInt(MM_HEADER_SIZE) + ml;
  return total > BigInt(bufferSize) ? undefined : Number(total);
}

/** PIO_MM reads its request from PIO buffer offset 0 (spec §1.6). */
function fetchFromPio(pio: Uint8Array, bufferSize: number): Uint8Array | undefined {
  if (bufferSize < MM_HEADER_SIZE) return undefined;
  const total = checkedTotal(pio.subarray(0, MM_HEADER_SIZE), bufferSize);
  return total === undefined ? undefined : pio.slice(0, total);
}

function decodes(offset: number, size: AccessSize): boolean {
  return Number.isInteger(offset) && offset >= 0 && offset + size <= REGS_SIZE && offset % size === 0;
}

function checkSize(size: number): asserts size is AccessSize {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new RangeError(`uefi-vars: access size ${size} (the VMM must pass 1, 2, 4 or 8)`);
  }
}

function lowMask(size: 1 | 2 | 4): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

/** The low `size` bytes of the value the CPU stored, as QEMU's core passes them on. */
function toBits(value: number | bigint, size: AccessSize): bigint {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new RangeError(`uefi-vars: write value ${value} is not an integer`);
  }
  return BigInt.asUintN(size * 8, BigInt(value));
}
