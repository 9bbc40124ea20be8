/**
 * In-process transport: a VariableService behind the register-level device
 * model, with a 64 KiB guest RAM array for the DMA buffer. Every call goes
 * through the same register accesses a guest makes, so the device layer is
 * exercised too. Pure (no Node built-ins).
 */
import { VariableService } from '../service/variable-service.js';
import type { ServiceOptions } from '../service/options.js';
import { UefiVarsDevice } from '../device/uefi-vars-device.js';
import { ArrayGuestMemory } from '../device/guest-memory.js';
import { MAX_BUFFER_SIZE } from '../device/registers.js';
import { RegisterDriver } from './register-driver.js';
import type { DeviceConfig, MmExchange, RegisterAccess, Target, Transport, Width } from './transport.js';

/** Guest-physical address of the communicate buffer (RAM on q35 with the default 128 MiB, spec §1.1). */
export const DEFAULT_BUFFER_ADDRESS = 0x100000n;

export class InProcessTransport implements Transport {
  readonly description = 'inproc';
  readonly registers: RegisterAccess;
  private readonly driver: RegisterDriver;

  private constructor(readonly service: VariableService, readonly device: UefiVarsDevice, memory: ArrayGuestMemory) {
    this.registers = {
      bufferAddress: memory.base,
      read: async (offset: number, width: Width) => BigInt(device.mmioRead(offset, width)),
      write: (offset: number, width: Width, value: bigint | number) => device.mmioWrite(offset, width, value),
      memWrite: async (addr, bytes) => memory.write(addr, bytes),
      memRead: async (addr, length) => memory.read(addr, length),
    };
    this.driver = new RegisterDriver(this.registers);
  }

  /** A fresh service (or the one given) behind a freshly reset device. */
  static async create(config: DeviceConfig = {}, service?: VariableService): Promise<InProcessTransport> {
    const svc = service ?? await VariableService.create({ options: serviceOptions(config) });
    const memory = new ArrayGuestMemory(MAX_BUFFER_SIZE, DEFAULT_BUFFER_ADDRESS);
    const device = new UefiVarsDevice(svc, memory, { usePio: config.usePio ?? false });
    const t = new InProcessTransport(svc, device, memory);
    if (!service) await device.hardReset();
    await t.driver.init();
    return t;
  }

  send(request: Uint8Array): Promise<MmExchange> {
    return this.driver.send(request);
  }

  async hardReset(): Promise<void> {
    await this.device.hardReset();
    await this.driver.init();
  }

  async close(): Promise<void> { /* nothing to release */ }
}

export function serviceOptions(c: DeviceConfig): Partial<ServiceOptions> {
  return {
    ...(c.size !== undefined ? { size: c.size } : {}),
    ...(c.forceSecureBoot ? { forceSecureBoot: true } : {}),
    ...(c.disableCustomMode ? { disableCustomMode: true } : {}),
  };
}

export interface InProcessTargetOptions {
  /** Service options beyond the device properties (e.g. to check that the suite notices a changed rule). */
  options?: Partial<ServiceOptions>;
  /** Wrap each fresh transport (fault injection in tests). */
  wrap?: (t: Transport) => Transport;
}

/** A fresh in-process service per case. */
export function inProcessTarget(o: InProcessTargetOptions = {}): Target {
  return {
    description: 'inproc',
    isQemu: false,
    supports: () => true,
    open: async (config) => {
      const svc = await VariableService.create({ options: { ...serviceOptions(config), ...o.options } });
      const t = await InProcessTransport.create(config, svc);
      return o.wrap ? o.wrap(t) : t;
    },
  };
}
