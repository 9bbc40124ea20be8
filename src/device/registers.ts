/**
 * Register interface of QEMU's `uefi-vars` device (spec §1.2–§1.4). Numbers
 * only: the behaviour behind them lives in uefi-vars-device.ts.
 */
import { DeviceStatus } from '../wire/status.js';

/** CMD_STS values (spec §1.4). One table for the service and the device. */
export { DeviceStatus };

/** Size of the register window (`UEFI_VARS_REGS_SIZE`, spec §1.1). */
export const REGS_SIZE = 0x20;

/** Register offsets inside the window (spec §1.2). */
export const Reg = {
  MAGIC: 0x00,
  CMD_STS: 0x02,
  BUFFER_SIZE: 0x04,
  DMA_BUFFER_ADDR_LO: 0x08,
  DMA_BUFFER_ADDR_HI: 0x0c,
  PIO_BUFFER_TRANSFER: 0x10,
  PIO_BUFFER_CRC32C: 0x18,
  FLAGS: 0x1c,
} as const;

/** What MAGIC reads, for 16- and 32-bit reads alike (spec §1.2, §8 item 1). */
export const UEFI_VARS_MAGIC = 0x0ef1;

/** Values written to CMD_STS (spec §1.3). Anything else answers ERR_NOT_SUPPORTED. */
export const Cmd = {
  RESET: 0x01,
  DMA_MM: 0x02,
  PIO_MM: 0x03,
  PIO_ZERO_OFFSET: 0x04,
} as const;

/** FLAGS bits (spec §1.2): only USE_PIO is defined; every other bit reads 0. */
export const Flag = {
  USE_PIO: 0x1,
} as const;

/** QEMU clamps BUFFER_SIZE writes to this (`MAX_BUFFER_SIZE`, spec §1.5). */
export { MAX_BUFFER_SIZE } from '../wire/mm.js';

/** Where `uefi-vars-x64` sits on pc/q35 (spec §1.1); sysbus flavours are placed by the board. */
export const X64_MMIO_BASE = 0xfef10000n;

/** Access widths a CPU can issue to the window. */
export type AccessSize = 1 | 2 | 4 | 8;
