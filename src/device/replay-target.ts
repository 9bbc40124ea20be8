import type { MmHandler, MmResult } from '../service/mm-handler.js';
import { ArrayGuestMemory } from './guest-memory.js';
import { UefiVarsDevice } from './uefi-vars-device.js';
import { Edk2MmDriver } from './edk2-driver.js';
import { MAX_BUFFER_SIZE } from './registers.js';

const BUFFER_ADDRESS = 0x01000000n;

/**
 * The whole guest path in one object: a service behind the register-level
 * device model, driven by the edk2 driver model over DMA or PIO, with guest RAM
 * for the communicate buffer. Replaying a trace through it exercises every
 * register access edk2 makes.
 */
export async function deviceReplayTarget(service: MmHandler, transport: 'dma' | 'pio'): Promise<MmHandler> {
  // The registers carry no reason or deviation: take them from the service's answer, for replay's report.
  let last: MmResult | undefined;
  const tap: MmHandler = {
    process: async (request, bufferSize) => (last = await service.process(request, bufferSize)),
    reset: () => service.reset(),
  };
  const memory = new ArrayGuestMemory(MAX_BUFFER_SIZE, BUFFER_ADDRESS);
  const device = new UefiVarsDevice(tap, memory, { usePio: transport === 'pio' });
  const driver = new Edk2MmDriver(device, memory, { bufferAddress: BUFFER_ADDRESS });
  const handler = driver.asHandler(() => device.hardReset());
  await handler.reset();
  return {
    process: async (request, bufferSize) => {
      last = undefined;
      const r = await handler.process(request, bufferSize);
      const seen = last as MmResult | undefined; // set by the tap during process (TS cannot see that)
      return { ...r, reason: seen?.reason, ...(seen?.deviation ? { deviation: seen.deviation } : {}) };
    },
    reset: () => handler.reset(),
  };
}
