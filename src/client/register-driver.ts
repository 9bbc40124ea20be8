/**
 * The firmware side of the register interface, over any RegisterAccess: what
 * OVMF's VirtMmCommunicationDxe does (spec §7.4, §1.6) — magic check, CMD
 * RESET, BUFFER_SIZE = 65536, FLAGS, DMA address — then per call either DMA
 * (request into guest RAM, DMA_MM, read back) or the PIO sequence (ZERO_OFFSET,
 * 32-bit writes, CRC32C check, PIO_MM, ZERO_OFFSET, 32-bit reads, CRC32C check).
 *
 * Unlike edk2 it always reads the buffer back, also after a device error, and
 * applies no local size rule: a conformance client must be able to send what a
 * hostile guest sends and see what the device left in memory.
 */
import { crc32c } from '../wire/crc32c.js';
import { Cmd, DeviceStatus, Flag, MAX_BUFFER_SIZE, Reg, UEFI_VARS_MAGIC } from '../device/registers.js';
import type { MmExchange, RegisterAccess } from './transport.js';

/** VirtMmHwCommand polls CMD_STS this often while it reads BUSY (spec §1.3). */
const BUSY_POLLS = 100;

export class RegisterDriverError extends Error {
  override readonly name = 'RegisterDriverError';
}

export class RegisterDriver {
  private pio = false;

  constructor(readonly regs: RegisterAccess) {}

  get usePio(): boolean { return this.pio; }

  /** VirtMmHwInit. Throws RegisterDriverError when the magic is wrong. */
  async init(): Promise<void> {
    const magic = Number(await this.regs.read(Reg.MAGIC, 2));
    if (magic !== UEFI_VARS_MAGIC) throw new RegisterDriverError(`uefi-vars magic reads 0x${magic.toString(16)}, not 0x0ef1`);
    await this.command(Cmd.RESET);
    await this.regs.write(Reg.BUFFER_SIZE, 4, MAX_BUFFER_SIZE);
    this.pio = (Number(await this.regs.read(Reg.FLAGS, 4)) & Flag.USE_PIO) !== 0;
    if (!this.pio) await this.programAddress();
  }

  async programAddress(): Promise<void> {
    const a = this.regs.bufferAddress;
    await this.regs.write(Reg.DMA_BUFFER_ADDR_LO, 4, Number(a & 0xffffffffn));
    await this.regs.write(Reg.DMA_BUFFER_ADDR_HI, 4, Number(a >> 32n));
  }

  /** Write a command to CMD_STS (16-bit, as edk2) and poll while BUSY. */
  async command(cmd: number): Promise<number> {
    await this.regs.write(Reg.CMD_STS, 2, cmd);
    let sts: number = DeviceStatus.BUSY;
    for (let i = 0; i < BUSY_POLLS && sts === DeviceStatus.BUSY; i++) sts = Number(await this.regs.read(Reg.CMD_STS, 2));
    return sts;
  }

  send(request: Uint8Array): Promise<MmExchange> {
    return this.pio ? this.sendPio(request) : this.sendDma(request);
  }

  async sendDma(request: Uint8Array): Promise<MmExchange> {
    if (request.length > MAX_BUFFER_SIZE) throw new RangeError('request larger than the 64 KiB communicate buffer');
    const at = this.regs.bufferAddress;
    await this.regs.memWrite(at, request);
    const deviceStatus = await this.command(Cmd.DMA_MM);
    return { deviceStatus, reply: await this.regs.memRead(at, request.length) };
  }

  async sendPio(request: Uint8Array): Promise<MmExchange> {
    if (request.length > MAX_BUFFER_SIZE) throw new RangeError('request larger than the 64 KiB PIO buffer');
    const words = new Uint8Array((request.length + 3) & ~3);
    words.set(request);
    await this.pioTransfer(words, true);
    const deviceStatus = await this.command(Cmd.PIO_MM);
    await this.pioTransfer(words, false);
    return { deviceStatus, reply: words.slice(0, request.length) };
  }

  /** ZERO_OFFSET, 32-bit transfers, then edk2's CRC32C comparison (spec §1.6). */
  private async pioTransfer(words: Uint8Array, toDevice: boolean): Promise<void> {
    await this.command(Cmd.PIO_ZERO_OFFSET);
    const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
    for (let o = 0; o < words.length; o += 4) {
      if (toDevice) await this.regs.write(Reg.PIO_BUFFER_TRANSFER, 4, view.getUint32(o, true));
      else view.setUint32(o, Number(await this.regs.read(Reg.PIO_BUFFER_TRANSFER, 4)), true);
    }
    const crc = Number(await this.regs.read(Reg.PIO_BUFFER_CRC32C, 4));
    if (crc !== crc32c(words)) {
      throw new RegisterDriverError(`PIO ${toDevice ? 'write' : 'read-back'}: CRC32C 0x${crc.toString(16)} does not match the bytes (edk2: EFI_DEVICE_ERROR)`);
    }
  }
}
