/**
 * The uefi-vars register model (src/device/uefi-vars-device.ts) in front of a
 * real VariableService, over guest memory that changes between the device's
 * reads (a second vCPU rewriting the buffer: the double-fetch / TOCTOU class
 * that hit Xen's varstored).
 *
 * Input: a stream of operations (u8 op, then its operands, see `step`). Invariants:
 * no access throws and no write's promise rejects; MAGIC always reads 0x0EF1;
 * CMD_STS reads one of the defined statuses; the request the handler gets is
 * self-consistent (24 + its MessageLength = its length <= BUFFER_SIZE) whatever
 * the guest rewrote, and the service's checks of handle.ts hold for it (the reply
 * has the request's length, a refusal leaves the store byte-identical); DMA
 * write-back lands only inside the fetched request; the device never reports an
 * internal error.
 */
import { UefiVarsDevice } from '../../src/device/uefi-vars-device.js';
import { ArrayGuestMemory, type GuestMemory } from '../../src/device/guest-memory.js';
import { Reg, Cmd, type AccessSize } from '../../src/device/registers.js';
import { DeviceStatus } from '../../src/wire/status.js';
import type { MmHandler, MmResult } from '../../src/service/mm-handler.js';
import { VariableService, type ServiceSnapshot } from '../../src/service/variable-service.js';
import { getVariableRequest, setVariableRequest, getNextRequest, queryVariableInfoRequest } from '../../src/client/requests.js';
import { Cursor, check, timed, chunk, concat, u16le, traceRequests } from './harness.js';
import { processChecked } from './handle.js';

const MEMORY_SIZE = 0x12000;
const STATUSES = new Set<number>(Object.values(DeviceStatus));
const SIZES: readonly AccessSize[] = [1, 2, 4, 8];
const MAX_OPS = 96;

/** Guest RAM whose bytes are rewritten by the script right after every device read. */
class RacingMemory implements GuestMemory {
  readonly ram = new ArrayGuestMemory(MEMORY_SIZE);
  /** Ranges the device may write: the DMA request it fetched. */
  allowed: { from: bigint; to: bigint } | undefined;
  reads = 0;
  constructor(private readonly script: Cursor) {}
  read(addr: bigint, length: number): Uint8Array {
    const out = this.ram.read(addr, length);
    this.reads++;
    // The racing vCPU: after each read, flip up to 4 bytes of the region just read.
    const flips = this.script.u8() & 3;
    for (let i = 0; i < flips; i++) {
      const at = addr + BigInt(this.script.u16() % Math.max(1, length));
      if (at >= 0n && at < BigInt(MEMORY_SIZE)) this.ram.bytes[Number(at)]! ^= this.script.u8() | 1;
    }
    return out;
  }
  write(addr: bigint, bytes: Uint8Array): void {
    const a = this.allowed;
    check(a !== undefined && addr >= a.from && addr + BigInt(bytes.length) <= a.to, `DMA write-back of ${bytes.length} bytes at 0x${addr.toString(16)} outside the fetched request`);
    this.ram.write(addr, bytes);
  }
}

class CheckingHandler implements MmHandler {
  device: UefiVarsDevice | undefined;
  constructor(private readonly svc: VariableService, private readonly memory: RacingMemory) {}
  /** The DMA address the device latched: the registers read normally while busy (and cannot change). */
  private dma(): bigint {
    const d = this.device!;
    return (BigInt(d.mmioRead(Reg.DMA_BUFFER_ADDR_HI, 4)) << 32n) | BigInt(d.mmioRead(Reg.DMA_BUFFER_ADDR_LO, 4));
  }
  async process(request: Uint8Array, bufferSize: number): Promise<MmResult> {
    check(request.length >= 24 && request.length <= bufferSize, `handler got ${request.length} bytes with BUFFER_SIZE ${bufferSize}`);
    const ml = new DataView(request.buffer, request.byteOffset, request.length).getBigUint64(16, true);
    check(BigInt(request.length) === 24n + ml, `handler got ${request.length} bytes, its MessageLength says ${24n + ml}`);
    const from = this.dma();
    this.memory.allowed = { from, to: from + BigInt(request.length) };
    // The service's own invariants (reply length, a refusal leaves the store byte-identical, ...).
    return processChecked(this.svc, request, bufferSize);
  }
  reset(): Promise<void> { return this.svc.reset(); }
}

let base: Promise<ServiceSnapshot> | undefined;

export async function fuzz(data: Uint8Array): Promise<void> {
  base ??= VariableService.create().then((s) => s.snapshot());
  const snap = await base;
  await timed(async () => {
    const c = new Cursor(data);
    const script = new Cursor(c.chunk());
    const memory = new RacingMemory(script);
    const svc = await VariableService.restore(snap);
    const errors: unknown[] = [];
    const handler = new CheckingHandler(svc, memory);
    const dev = new UefiVarsDevice(handler, memory, { usePio: (c.u8() & 1) === 1, onError: (e) => errors.push(e) });
    handler.device = dev;
    await dev.hardReset();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < MAX_OPS && c.left > 0; i++) {
      const op = c.u8();
      const wait = (op & 0x80) === 0;
      switch (op & 7) {
        case 0: case 1: { // register read
          const off = c.u8() % 0x24; const size = SIZES[c.u8() & 3]!;
          const v = dev.mmioRead(off, size);
          if (off === Reg.MAGIC && size !== 1 && !dev.busy) check(Number(BigInt(v) & 0xffffn) === 0x0ef1, 'MAGIC changed');
          if (off === Reg.CMD_STS && size === 2) check(STATUSES.has(Number(v)), `CMD_STS reads 0x${v.toString(16)}`);
          break;
        }
        case 2: { // register write
          const off = c.u8() % 0x24; const size = SIZES[c.u8() & 3]!;
          const value = size === 8 ? BigInt(c.u32()) | (BigInt(c.u32()) << 32n) : c.u32();
          const p = dev.mmioWrite(off, size, value);
          if (wait) await p; else pending.push(p);
          break;
        }
        case 3: { // guest writes its buffer
          const at = c.u16() * 2; const bytes = c.chunk();
          memory.ram.write(BigInt(at), bytes);
          break;
        }
        case 4: { // the edk2 DMA sequence
          const at = (c.u16() & 0x7fff) * 2;
          await dev.mmioWrite(Reg.BUFFER_SIZE, 4, c.u8() & 1 ? 65536 : c.u16());
          await dev.mmioWrite(Reg.DMA_BUFFER_ADDR_LO, 4, at);
          await dev.mmioWrite(Reg.DMA_BUFFER_ADDR_HI, 4, 0);
          const p = dev.mmioWrite(Reg.CMD_STS, 2, Cmd.DMA_MM);
          if (wait) await p; else pending.push(p);
          break;
        }
        case 5: { // PIO transfer of a few words
          const n = c.u8() & 31;
          for (let k = 0; k < n; k++) await dev.mmioWrite(Reg.PIO_BUFFER_TRANSFER, 4, c.u32());
          break;
        }
        case 6: await dev.hardReset(); break;
        default: await dev.idle(); break;
      }
    }
    await Promise.all(pending);
    await dev.idle();
    check(errors.length === 0, `device reported an internal error: ${String(errors[0])}`);
  });
}

/** The edk2 sequence for trace requests and the usual calls, with and without a racing rewrite. */
export function seeds(): Uint8Array[] {
  const g = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70' as const;
  const reqs = [
    setVariableRequest({ guid: g, name: 'Fuzz', attributes: 7, data: Uint8Array.of(1, 2, 3) }),
    getVariableRequest({ guid: g, name: 'Fuzz', dataSize: 16 }),
    getNextRequest({ guid: g, name: '', bufferSize: 256 }), queryVariableInfoRequest(7),
    ...traceRequests().filter((r) => r.length < 4096).slice(0, 24),
  ];
  const out: Uint8Array[] = [];
  reqs.forEach((r, i) => {
    const race = i % 2 === 0 ? new Uint8Array(0) : Uint8Array.of(3, 16, 0, 0x40, 3, 17, 0, 0x01);
    // op 3: place the request at 0x100; op 4 (wait): DMA from 0x100 with BUFFER_SIZE 65536; op 0: read CMD_STS.
    out.push(concat([chunk(race), Uint8Array.of(0), Uint8Array.of(3), u16le(0x80), chunk(r), Uint8Array.of(4), u16le(0x80), Uint8Array.of(1), Uint8Array.of(0, 2, 1)]));
  });
  return out;
}
