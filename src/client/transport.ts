/**
 * How the guest-side client reaches a uefi-vars implementation. A Transport
 * carries one MM communicate call at a time (what edk2's
 * VirtMmCommunicationDxe hands the device) and, where the implementation
 * exposes the device itself, the register window and guest RAM (spec §1).
 *
 * Implementations: in-process (inproc.ts), the daemon socket in MM and raw
 * register mode and QEMU's qtest protocol (node/, they need Node sockets).
 */

/** What one MM call produced: CMD_STS, and the bytes found in the buffer afterwards. */
export interface MmExchange {
  /** CMD_STS after DMA_MM / PIO_MM (spec §1.4); 0 = the transport worked, the EFI status is inside. */
  deviceStatus: number;
  /**
   * The 24 + MessageLength bytes read back from the buffer after the command,
   * or undefined when the implementation wrote nothing back (MM mode only: a
   * register transport always reads the buffer, so "unchanged" is observable).
   */
  reply: Uint8Array | undefined;
}

/** Access widths a CPU issues to the register window. */
export type Width = 1 | 2 | 4 | 8;

/**
 * The device as a guest sees it: its 0x20-byte MMIO window (offsets relative to
 * the window base) and guest RAM for the DMA buffer.
 */
export interface RegisterAccess {
  read(offset: number, width: Width): Promise<bigint>;
  write(offset: number, width: Width, value: bigint | number): Promise<void>;
  /** Guest-physical RAM (DMA buffer). */
  memWrite(addr: bigint, bytes: Uint8Array): Promise<void>;
  memRead(addr: bigint, length: number): Promise<Uint8Array>;
  /** Guest-physical address of a 64 KiB RAM area the client may use as its communicate buffer. */
  readonly bufferAddress: bigint;
  /** x86 fw_cfg file read (etc/hardware-info, spec §1.1), where the target has a firmware config device. */
  readFwCfgFile?(name: string): Promise<Uint8Array | undefined>;
}

export interface Transport {
  /** Short description for reports: "inproc", "socket:/run/uefi-vars.sock (raw)", "qemu:/usr/bin/qemu-system-x86_64". */
  readonly description: string;
  /** One MM communicate call, sent the way edk2 sends it (DMA, or PIO when FLAGS.USE_PIO is set). */
  send(request: Uint8Array): Promise<MmExchange>;
  /** The register window, when the target exposes the device (not the daemon's MM mode). */
  readonly registers: RegisterAccess | undefined;
  /** Machine/device hard reset (spec §1.7), then the firmware driver's re-initialisation. */
  hardReset(): Promise<void>;
  close(): Promise<void>;
}

/** Device properties a conformance case may need (QEMU's `-device uefi-vars-x64,…` properties, spec §1.1). */
export interface DeviceConfig {
  usePio?: boolean;
  size?: number;
  forceSecureBoot?: boolean;
  disableCustomMode?: boolean;
}

/**
 * Something that can produce a fresh implementation (empty store, device just
 * reset) on demand: one per conformance case.
 */
export interface Target {
  readonly description: string;
  /** True for QEMU (and stand-ins speaking for it): [BUG]/[DIFF] answers are reported as known differences. */
  readonly isQemu: boolean;
  /** Which device properties this target can set; a case needing another one is skipped. */
  supports(config: DeviceConfig): boolean;
  open(config: DeviceConfig): Promise<Transport>;
}

/** The implementation went away (process died, socket closed) while a request was in flight. */
export class TargetCrashed extends Error {
  override readonly name = 'TargetCrashed';
}

/** The implementation did not answer in time. */
export class TargetHung extends Error {
  override readonly name = 'TargetHung';
}
