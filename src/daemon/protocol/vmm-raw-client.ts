import type { MmResult } from '../../service/mm-handler.js';
import type { ReplayTarget } from '../../replay/replay.js';
import { ArrayGuestMemory, type GuestMemory } from '../../device/guest-memory.js';
import { Reg, Cmd, MAX_BUFFER_SIZE } from '../../device/registers.js';
import { DaemonClient } from './vmm-client.js';

/** Guest RAM that remembers whether the device wrote into it (a DMA write-back happened). */
class WatchedMemory implements GuestMemory {
  writes = 0;
  constructor(readonly ram: ArrayGuestMemory) {}
  read(addr: bigint, length: number): Uint8Array { return this.ram.read(addr, length); }
  write(addr: bigint, bytes: Uint8Array): void { this.writes++; this.ram.write(addr, bytes); }
}

export interface RawTargetOptions {
  /** Guest-physical address of the communicate buffer (default 0x01000000, as the conformance traces). */
  bufferAddress?: bigint;
}

/**
 * A ReplayTarget that talks to the daemon the way a register-forwarding VMM
 * does: the request is placed in (local) guest RAM, the guest's register
 * accesses go over the socket, and the daemon's device model DMAs through
 * MEM_READ / MEM_WRITE. Initialises like OVMF (CMD RESET, BUFFER_SIZE, DMA
 * address) at connect and after every hard reset.
 */
export class RawReplayTarget implements ReplayTarget {
  private bufferSize = 0;

  private constructor(private readonly client: DaemonClient, private readonly memory: WatchedMemory, private readonly addr: bigint) {}

  static async connect(socket: string, vmId: string, opts: RawTargetOptions = {}): Promise<RawReplayTarget> {
    const addr = opts.bufferAddress ?? 0x01000000n;
    const memory = new WatchedMemory(new ArrayGuestMemory(MAX_BUFFER_SIZE, addr));
    const t = new RawReplayTarget(await DaemonClient.connect(socket, vmId, { memory }), memory, addr);
    await t.init();
    return t;
  }

  /** The connection underneath, for direct register access. */
  get raw(): DaemonClient { return this.client; }

  async init(): Promise<void> {
    const magic = await this.client.mmioRead(Reg.MAGIC, 2);
    if (magic !== 0x0ef1n) throw new Error(`uefi-vars device magic 0x${magic.toString(16)}`);
    await this.client.mmioWrite(Reg.CMD_STS, 2, Cmd.RESET);
    await this.setBufferSize(MAX_BUFFER_SIZE);
    await this.client.mmioWrite(Reg.DMA_BUFFER_ADDR_LO, 4, this.addr & 0xffffffffn);
    await this.client.mmioWrite(Reg.DMA_BUFFER_ADDR_HI, 4, this.addr >> 32n);
  }

  private async setBufferSize(size: number): Promise<void> {
    await this.client.mmioWrite(Reg.BUFFER_SIZE, 4, size);
    this.bufferSize = size;
  }

  async process(request: Uint8Array, bufferSize: number): Promise<MmResult> {
    if (bufferSize !== this.bufferSize) await this.setBufferSize(bufferSize);
    if (request.length > MAX_BUFFER_SIZE) throw new RangeError('request larger than the 64 KiB guest buffer');
    this.memory.ram.write(this.addr, request);
    const before = this.memory.writes;
    await this.client.mmioWrite(Reg.CMD_STS, 2, Cmd.DMA_MM);
    const deviceStatus = Number(await this.client.mmioRead(Reg.CMD_STS, 2));
    const wroteBack = this.memory.writes !== before;
    return { deviceStatus, reply: wroteBack ? this.memory.ram.read(this.addr, request.length) : undefined };
  }

  async reset(): Promise<void> {
    await this.client.reset();
    await this.init();
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
