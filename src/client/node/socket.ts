/**
 * Transports over the daemon socket (docs/protocol.md): MM mode (MM_REQUEST
 * frames, the VMM implements the device) and raw register mode (MMIO frames,
 * the daemon runs the device model and DMAs through MEM_READ/MEM_WRITE into
 * guest RAM kept here). Each `open` binds a new VM id, so against a daemon
 * with `--memory` or `--state-dir` every case starts from an empty store.
 */
import { randomUUID } from 'node:crypto';
import { DaemonClient, DaemonError } from '../../daemon/protocol/vmm-client.js';
import { ArrayGuestMemory } from '../../device/guest-memory.js';
import { MAX_BUFFER_SIZE } from '../../device/registers.js';
import { RegisterDriver } from '../register-driver.js';
import { DEFAULT_BUFFER_ADDRESS } from '../inproc.js';
import { TargetCrashed, TargetHung, type DeviceConfig, type MmExchange, type RegisterAccess, type Target, type Transport, type Width } from '../transport.js';

/** A connection that died is a crash of the target; a missing answer a hang. */
async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof DaemonError && e.code === 0) {
      throw /within \d+ ms/.test(e.message) ? new TargetHung(e.message) : new TargetCrashed(e.message);
    }
    throw e;
  }
}

export type SocketMode = 'mm' | 'raw';

export class DaemonTransport implements Transport {
  readonly registers: RegisterAccess | undefined;
  private readonly driver: RegisterDriver | undefined;

  private constructor(readonly description: string, private readonly client: DaemonClient, memory: ArrayGuestMemory | undefined) {
    if (memory) {
      this.registers = {
        bufferAddress: memory.base,
        read: (offset: number, width: Width) => mapped(client.mmioRead(offset, width)),
        write: (offset: number, width: Width, value: bigint | number) => mapped(client.mmioWrite(offset, width, value)),
        memWrite: async (addr, bytes) => memory.write(addr, bytes),
        memRead: async (addr, length) => memory.read(addr, length),
      };
      this.driver = new RegisterDriver(this.registers);
    }
  }

  static async connect(socketPath: string, mode: SocketMode, vmId = `conformance-${randomUUID()}`): Promise<DaemonTransport> {
    const memory = mode === 'raw' ? new ArrayGuestMemory(MAX_BUFFER_SIZE, DEFAULT_BUFFER_ADDRESS) : undefined;
    const client = await mapped(DaemonClient.connect(socketPath, vmId, memory ? { memory, timeoutMs: 15_000 } : { timeoutMs: 15_000 }));
    const t = new DaemonTransport(`socket:${socketPath} (${mode})`, client, memory);
    // Machine start: the device's hard reset, then the firmware driver's init (docs/protocol.md §4).
    await t.hardReset();
    return t;
  }

  async send(request: Uint8Array): Promise<MmExchange> {
    if (this.driver) return this.driver.send(request);
    const r = await mapped(this.client.process(request, MAX_BUFFER_SIZE));
    return { deviceStatus: r.deviceStatus, reply: r.reply };
  }

  async hardReset(): Promise<void> {
    await mapped(this.client.reset());
    await this.driver?.init();
  }

  close(): Promise<void> { return this.client.close(); }
}

/**
 * A running daemon as a conformance target. Device properties are the
 * daemon's (`serve --use-pio`, `--size`, …): a case that needs others is skipped.
 */
export function socketTarget(socketPath: string, mode: SocketMode = 'raw', daemonConfig: DeviceConfig = {}): Target {
  return {
    description: `socket:${socketPath} (${mode})`,
    isQemu: false,
    supports: (c) => (c.usePio ?? false) === (daemonConfig.usePio ?? false) && (c.size ?? 262144) === (daemonConfig.size ?? 262144)
      && (c.forceSecureBoot ?? false) === (daemonConfig.forceSecureBoot ?? false) && (c.disableCustomMode ?? false) === (daemonConfig.disableCustomMode ?? false),
    open: () => DaemonTransport.connect(socketPath, mode),
  };
}
