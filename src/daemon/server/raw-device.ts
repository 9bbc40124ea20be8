import { UefiVarsDevice } from '../../device/uefi-vars-device.js';
import type { GuestMemory } from '../../device/guest-memory.js';
import { Reg, Cmd, type AccessSize } from '../../device/registers.js';
import { MM_HEADER_SIZE, messageLengthField } from '../../wire/mm.js';
import type { MmHandler } from '../../service/mm-handler.js';
import type { VmEntry } from './registry.js';

/**
 * Guest memory on the far side of a socket: each access is a MEM_READ or
 * MEM_WRITE frame the VMM answers (docs/protocol.md §5).
 */
export interface RemoteGuestMemory {
  read(addr: bigint, length: number): Promise<Uint8Array>;
  write(addr: bigint, bytes: Uint8Array): Promise<void>;
}

/** The register-mode command a CMD_STS write starts, if any. */
export function mmCommandOf(offset: number, size: number, value: bigint): 'dma' | 'pio' | undefined {
  // CMD_STS is reachable by a 2-byte access, or a 1-byte one the bus widens (spec §1.2).
  if (offset !== Reg.CMD_STS || (size !== 1 && size !== 2)) return undefined;
  const cmd = Number(value & (size === 1 ? 0xffn : 0xffffn));
  return cmd === Cmd.DMA_MM ? 'dma' : cmd === Cmd.PIO_MM ? 'pio' : undefined;
}

/**
 * Guest bytes fetched before a DMA_MM command, served to the device model's
 * synchronous GuestMemory; the device's write-back is collected and sent to
 * the VMM once the request is done. Reads outside what was fetched see zeros,
 * as unmapped memory does in QEMU.
 */
class StagedMemory implements GuestMemory {
  readonly writes: { addr: bigint; bytes: Uint8Array }[] = [];
  constructor(private readonly segments: readonly { addr: bigint; bytes: Uint8Array }[]) {}

  read(addr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const end = addr + BigInt(length);
    for (const s of this.segments) {
      const lo = addr > s.addr ? addr : s.addr;
      const sEnd = s.addr + BigInt(s.bytes.length);
      const hi = end < sEnd ? end : sEnd;
      if (hi > lo) out.set(s.bytes.subarray(Number(lo - s.addr), Number(hi - s.addr)), Number(lo - addr));
    }
    return out;
  }

  write(addr: bigint, bytes: Uint8Array): void {
    this.writes.push({ addr, bytes: bytes.slice() });
  }
}

/** The memory the device was built with; points at a staged view while a command runs. */
class SwitchableMemory implements GuestMemory {
  current: GuestMemory | undefined;
  read(addr: bigint, length: number): Uint8Array {
    return this.current ? this.current.read(addr, length) : new Uint8Array(length);
  }
  write(addr: bigint, bytes: Uint8Array): void {
    this.current?.write(addr, bytes);
  }
}

interface Slot { device: UefiVarsDevice; memory: SwitchableMemory }

export interface RawDeviceConfig {
  usePio: boolean;
  /** The handler a VM's device calls: the VM's service, observed for metrics. */
  handlerFor: (vm: VmEntry) => MmHandler;
  onDeviceError: (vm: VmEntry, error: unknown) => void;
}

/**
 * Register-level access for VMMs that forward the guest's MMIO accesses
 * instead of speaking MM buffers. One device model per VM, made on first use;
 * its accesses are serialised per VM so two connections cannot interleave
 * inside one command.
 */
export class RawDevices {
  private readonly slots = new WeakMap<VmEntry, Slot>();

  constructor(private readonly config: RawDeviceConfig) {}

  private slot(vm: VmEntry): Slot {
    let s = this.slots.get(vm);
    if (!s) {
      const memory = new SwitchableMemory();
      const device = new UefiVarsDevice(this.config.handlerFor(vm), memory, {
        usePio: this.config.usePio,
        onError: (e) => this.config.onDeviceError(vm, e),
      });
      s = { device, memory };
      this.slots.set(vm, s);
    }
    return s;
  }

  mmioRead(vm: VmEntry, offset: number, size: AccessSize): Promise<bigint> {
    return vm.deviceLock.run(async () => BigInt(this.slot(vm).device.mmioRead(offset, size)));
  }

  /**
   * A CPU write. For DMA_MM the guest buffer is fetched from the VMM first —
   * the 24-byte header, then only the MessageLength bytes it announces, each
   * byte once — and the reply is written back before this resolves, so the
   * VMM resumes the vCPU only when the command is complete (spec §1.3).
   */
  mmioWrite(vm: VmEntry, memory: RemoteGuestMemory, offset: number, size: AccessSize, value: bigint): Promise<void> {
    return vm.deviceLock.run(async () => {
      const { device, memory: sw } = this.slot(vm);
      if (mmCommandOf(offset, size, value) !== 'dma') {
        await device.mmioWrite(offset, size, value);
        return;
      }
      const staged = new StagedMemory(await prefetch(device, memory));
      sw.current = staged;
      try {
        await device.mmioWrite(offset, size, value);
      } finally {
        sw.current = undefined;
      }
      for (const w of staged.writes) await memory.write(w.addr, w.bytes);
    });
  }

  /** Device hard reset (spec §1.7): registers and the VM's service; without a device model yet, the service alone. */
  reset(vm: VmEntry): Promise<void> {
    return vm.deviceLock.run(async () => {
      const s = this.slots.get(vm);
      if (s) await s.device.hardReset(); else await vm.service.reset();
    });
  }
}

/**
 * What the device will read for this DMA_MM, decided from its registers with
 * the device's own rule (spec §1.5 steps 1-4): nothing without a buffer of at
 * least 24 bytes; the header; the rest only if 24 + MessageLength fits the
 * buffer. The device re-checks the same header bytes, so a VMM answering
 * differently the second time cannot matter: there is no second time.
 */
async function prefetch(device: UefiVarsDevice, memory: RemoteGuestMemory): Promise<{ addr: bigint; bytes: Uint8Array }[]> {
  const bufferSize = device.mmioRead(Reg.BUFFER_SIZE, 4);
  if (bufferSize < MM_HEADER_SIZE) return [];
  const addr = (BigInt(device.mmioRead(Reg.DMA_BUFFER_ADDR_HI, 4)) << 32n) | BigInt(device.mmioRead(Reg.DMA_BUFFER_ADDR_LO, 4));
  const header = exactly(await memory.read(addr, MM_HEADER_SIZE), MM_HEADER_SIZE);
  const segments = [{ addr, bytes: header }];
  const messageLength = messageLengthField(header);
  if (messageLength > 0n && BigInt(MM_HEADER_SIZE) + messageLength <= BigInt(bufferSize)) {
    const at = BigInt.asUintN(64, addr + BigInt(MM_HEADER_SIZE));
    segments.push({ addr: at, bytes: exactly(await memory.read(at, Number(messageLength)), Number(messageLength)) });
  }
  return segments;
}

function exactly(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(b.length > n ? b.subarray(0, n) : b);
  return out;
}
