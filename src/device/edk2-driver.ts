/**
 * Guest side of the device: what OVMF's VirtMmCommunicationDxe does with the
 * registers (spec §7.4, §1.6), access for access, so tests and trace replays
 * drive the device the way real firmware does.
 *
 * Init (VirtMmHwInit): 16-bit MAGIC read, CMD RESET, BUFFER_SIZE = 65536, FLAGS
 * read; in DMA mode ADDR_LO/HI = the communicate buffer. Each command is a
 * 16-bit CMD_STS write followed by up to 100 16-bit CMD_STS reads while BUSY.
 * Per request (VirtMmCommunication2Communicate): refuse MessageLength 0 or
 * 24 + MessageLength > 65536 locally; DMA: copy into the communicate buffer,
 * DMA_MM, copy back; PIO: ZERO_OFFSET, ceil4(size) bytes as 32-bit writes,
 * compare CRC32C, PIO_MM, ZERO_OFFSET, read the same number of bytes, compare
 * CRC32C again. edk2 copies nothing back when the command failed.
 */
import type { MmHandler, MmResult } from '../service/mm-handler.js';
import { MM_HEADER_SIZE, messageLengthField } from '../wire/mm.js';
import { EfiStatus } from '../wire/status.js';
import { crc32c } from '../wire/crc32c.js';
import type { GuestMemory } from './guest-memory.js';
import { Cmd, DeviceStatus, Flag, MAX_BUFFER_SIZE, Reg, UEFI_VARS_MAGIC } from './registers.js';

/** The accesses the driver makes: any register port with UefiVarsDevice's calling convention. */
export interface RegisterPort {
  mmioRead(offset: number, size: 2 | 4): number;
  mmioWrite(offset: number, size: 2 | 4, value: number): Promise<void>;
}

export interface Edk2DriverOptions {
  /**
   * Guest-physical address of the 64 KiB communicate buffer (DMA mode). Default
   * 0x01000000, the address the conformance traces were recorded with.
   */
  bufferAddress?: bigint;
}

/** Departures from edk2 that tests and replays need; both default off (= edk2). */
export interface SendOptions {
  /** Send the bytes as given, skipping edk2's local size rules (hostile-guest tests). */
  bypassLocalChecks?: boolean;
  /** Copy the buffer back even when CMD_STS is not SUCCESS (as the trace recorder did). */
  readBackOnDeviceError?: boolean;
}

export interface SendResult {
  /** What VirtMmCommunication2Communicate returns (EFI_STATUS). */
  status: bigint;
  /** CMD_STS after the DMA_MM/PIO_MM command; undefined if it was never issued. */
  cmdSts: number | undefined;
  /** The bytes copied back to the caller; undefined when edk2 copies nothing. */
  reply: Uint8Array | undefined;
  /** PIO only: the CRC32C comparisons after sending and after reading back. */
  crcIn?: boolean;
  crcOut?: boolean;
}

/** VirtMmHwCommand polls this many times while the device says BUSY. */
const BUSY_POLLS = 100;

export class Edk2MmDriver {
  readonly bufferAddress: bigint;
  private pio = false;
  private addressProgrammed = false;

  constructor(private readonly port: RegisterPort, private readonly memory: GuestMemory, opts: Edk2DriverOptions = {}) {
    this.bufferAddress = opts.bufferAddress ?? 0x01000000n;
  }

  /** FLAGS.USE_PIO as read by init(). */
  get usePio(): boolean {
    return this.pio;
  }

  /** VirtMmHwInit. Resolves to EFI_SUCCESS, or the error edk2 would stop with. */
  async init(): Promise<bigint> {
    if (this.port.mmioRead(Reg.MAGIC, 2) !== UEFI_VARS_MAGIC) return EfiStatus.DEVICE_ERROR;
    const reset = await this.command(Cmd.RESET);
    if (reset.status !== EfiStatus.SUCCESS) return reset.status;
    await this.port.mmioWrite(Reg.BUFFER_SIZE, 4, MAX_BUFFER_SIZE);
    this.pio = (this.port.mmioRead(Reg.FLAGS, 4) & Flag.USE_PIO) !== 0;
    this.addressProgrammed = false;
    if (!this.pio) await this.programAddress();
    return EfiStatus.SUCCESS;
  }

  /**
   * Not something edk2 does (it always asks for 65536): set BUFFER_SIZE, for
   * replays of traces recorded with another size. Re-allocates the device's PIO
   * buffer; the DMA address registers are untouched.
   */
  async setBufferSize(size: number): Promise<number> {
    await this.port.mmioWrite(Reg.BUFFER_SIZE, 4, size);
    return this.port.mmioRead(Reg.BUFFER_SIZE, 4);
  }

  /** VirtMmHwCommand: write the command, poll CMD_STS while BUSY, map it to an EFI status. */
  async command(cmd: number): Promise<{ status: bigint; cmdSts: number }> {
    await this.port.mmioWrite(Reg.CMD_STS, 2, cmd);
    let sts: number = DeviceStatus.BUSY;
    for (let i = 0; i < BUSY_POLLS; i++) {
      sts = this.port.mmioRead(Reg.CMD_STS, 2);
      if (sts !== DeviceStatus.BUSY) return { status: deviceToEfi(sts), cmdSts: sts };
      await Promise.resolve(); // CpuPause: let a command that is still running make progress
    }
    return { status: EfiStatus.TIMEOUT, cmdSts: sts };
  }

  /** One MM communicate call over the transport FLAGS chose. */
  send(request: Uint8Array, opts: SendOptions = {}): Promise<SendResult> {
    return this.pio ? this.sendPio(request, opts) : this.sendDma(request, opts);
  }

  /**
   * DMA transport. QEMU accepts DMA_MM on a use-pio device too (spec §1.6); edk2
   * programs the address only in DMA mode, so a PIO-mode driver does it here once.
   */
  async sendDma(request: Uint8Array, opts: SendOptions = {}): Promise<SendResult> {
    const size = requestSize(request, opts);
    if (typeof size === 'bigint') return { status: size, cmdSts: undefined, reply: undefined };
    if (!this.addressProgrammed) await this.programAddress();
    this.memory.write(this.bufferAddress, request.subarray(0, size));
    const { status, cmdSts } = await this.command(Cmd.DMA_MM);
    const copyBack = status === EfiStatus.SUCCESS || (opts.readBackOnDeviceError === true && status !== EfiStatus.TIMEOUT);
    return { status, cmdSts, reply: copyBack ? this.memory.read(this.bufferAddress, size).slice() : undefined };
  }

  /** PIO transport (spec §1.6). */
  async sendPio(request: Uint8Array, opts: SendOptions = {}): Promise<SendResult> {
    const size = requestSize(request, opts);
    if (typeof size === 'bigint') return { status: size, cmdSts: undefined, reply: undefined };
    // edk2 sends whole 32-bit words from its buffer; the bytes past the message are padding (zeros here).
    const words = new Uint8Array(ceil4(size));
    words.set(request.subarray(0, size));
    const sent = await this.pioTransfer(words, true);
    if (sent !== EfiStatus.SUCCESS) return { status: sent, cmdSts: undefined, reply: undefined, crcIn: false };
    const { status, cmdSts } = await this.command(Cmd.PIO_MM);
    const readBack = status === EfiStatus.SUCCESS || (opts.readBackOnDeviceError === true && status !== EfiStatus.TIMEOUT);
    if (!readBack) return { status, cmdSts, reply: undefined, crcIn: true };
    const back = await this.pioTransfer(words, false);
    if (back !== EfiStatus.SUCCESS) return { status: back, cmdSts, reply: undefined, crcIn: true, crcOut: false };
    return { status, cmdSts, reply: words.slice(0, size), crcIn: true, crcOut: true };
  }

  /**
   * This driver as an MmHandler, for replaying traffic through the device: each
   * request goes over the transport FLAGS chose, with edk2's local checks off and
   * the buffer always read back, so the reply is exactly what the guest would
   * find in its buffer. `reset` is the device's hard reset plus edk2's re-init.
   */
  asHandler(hardReset: () => Promise<void>): MmHandler {
    return {
      process: async (request: Uint8Array, bufferSize: number): Promise<MmResult> => {
        if (this.port.mmioRead(Reg.BUFFER_SIZE, 4) !== bufferSize) await this.setBufferSize(bufferSize);
        const r = await this.send(request, { bypassLocalChecks: true, readBackOnDeviceError: true });
        return { deviceStatus: r.cmdSts ?? DeviceStatus.ERR_UNKNOWN, reply: r.reply };
      },
      reset: async (): Promise<void> => {
        await hardReset();
        const status = await this.init();
        if (status !== EfiStatus.SUCCESS) throw new Error(`edk2 driver init failed: 0x${status.toString(16)}`);
      },
    };
  }

  private async programAddress(): Promise<void> {
    await this.port.mmioWrite(Reg.DMA_BUFFER_ADDR_LO, 4, Number(this.bufferAddress & 0xffffffffn));
    await this.port.mmioWrite(Reg.DMA_BUFFER_ADDR_HI, 4, Number((this.bufferAddress >> 32n) & 0xffffffffn));
    this.addressProgrammed = true;
  }

  /** VirtMmHwPioTransfer: ZERO_OFFSET, 32-bit accesses over `words`, then the CRC32C comparison. */
  private async pioTransfer(words: Uint8Array, toDevice: boolean): Promise<bigint> {
    const zero = await this.command(Cmd.PIO_ZERO_OFFSET);
    if (zero.status !== EfiStatus.SUCCESS) return zero.status;
    const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
    for (let o = 0; o < words.length; o += 4) {
      if (toDevice) await this.port.mmioWrite(Reg.PIO_BUFFER_TRANSFER, 4, view.getUint32(o, true));
      else view.setUint32(o, this.port.mmioRead(Reg.PIO_BUFFER_TRANSFER, 4), true);
    }
    return crc32c(words) === this.port.mmioRead(Reg.PIO_BUFFER_CRC32C, 4) ? EfiStatus.SUCCESS : EfiStatus.DEVICE_ERROR;
  }
}

/** The edk2 mapping of CMD_STS (spec §1.4). */
export function deviceToEfi(sts: number): bigint {
  switch (sts) {
    case DeviceStatus.SUCCESS: return EfiStatus.SUCCESS;
    case DeviceStatus.ERR_NOT_SUPPORTED: return EfiStatus.UNSUPPORTED;
    case DeviceStatus.ERR_BAD_BUFFER_SIZE: return EfiStatus.BAD_BUFFER_SIZE;
    default: return EfiStatus.DEVICE_ERROR;
  }
}

/**
 * How many bytes edk2 moves: 24 + MessageLength, after its local rule
 * (MessageLength 0 or more than 65536 in total → EFI_BAD_BUFFER_SIZE without
 * touching the device). With bypassLocalChecks the whole array goes out.
 */
function requestSize(request: Uint8Array, opts: SendOptions): number | bigint {
  if (opts.bypassLocalChecks) return request.length;
  if (request.length < MM_HEADER_SIZE) throw new RangeError('edk2 driver: request shorter than the MM header');
  const ml = messageLengthField(request);
  const total = BigInt(MM_HEADER_SIZE) + ml;
  if (ml === 0n || total > BigInt(MAX_BUFFER_SIZE)) return EfiStatus.BAD_BUFFER_SIZE;
  if (total > BigInt(request.length)) throw new RangeError('edk2 driver: MessageLength runs past the request bytes');
  return Number(total);
}

function ceil4(n: number): number {
  return (n + 3) & ~3;
}
