/**
 * Test doubles for the device tests: a handler that records what it was given,
 * guest memory that logs (and can change itself between) accesses, and a few
 * builders. MM header layout written out here from spec §2.1, not taken from src/.
 */
import type { MmHandler, MmResult } from '../../src/service/mm-handler.js';
import { ArrayGuestMemory } from '../../src/device/guest-memory.js';
import { UefiVarsDevice, type UefiVarsDeviceOptions } from '../../src/device/uefi-vars-device.js';
import { Edk2MmDriver } from '../../src/device/edk2-driver.js';

/** gEfiSmmVariableProtocolGuid ed32d533-99e6-4209-9cc0-2d72cdd998a7 in EFI byte order. */
export const SMM_VARIABLE_GUID = Uint8Array.from([
  0x33, 0xd5, 0x32, 0xed, 0xe6, 0x99, 0x09, 0x42, 0x9c, 0xc0, 0x2d, 0x72, 0xcd, 0xd9, 0x98, 0xa7,
]);
/** Not a GUID any handler knows. */
export const UNKNOWN_GUID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

/** MM communicate buffer: GUID ‖ MessageLength (u64 LE) ‖ message. */
export function mmRequest(message: Uint8Array | number, guid: Uint8Array = SMM_VARIABLE_GUID, messageLength?: bigint): Uint8Array {
  const body = typeof message === 'number' ? Uint8Array.from({ length: message }, (_, i) => (i * 7 + 3) & 0xff) : message;
  const out = new Uint8Array(24 + body.length);
  out.set(guid, 0);
  new DataView(out.buffer).setBigUint64(16, messageLength ?? BigInt(body.length), true);
  out.set(body, 24);
  return out;
}

export function messageLengthOf(buf: Uint8Array): bigint {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(16, true);
}

export interface HandlerCall {
  /** The array the device passed (kept to check it was a private copy). */
  request: Uint8Array;
  /** Its bytes at the moment process() was called. */
  bytes: Uint8Array;
  bufferSize: number;
}

type Responder = (request: Uint8Array, bufferSize: number) => MmResult | Promise<MmResult>;

/** Echo with status 0 unless told otherwise; records every call. */
export class FakeHandler implements MmHandler {
  readonly calls: HandlerCall[] = [];
  resets = 0;
  respond: Responder;

  constructor(respond?: Responder) {
    this.respond = respond ?? ((request) => ({ deviceStatus: 0, reply: request.slice() }));
  }

  async process(request: Uint8Array, bufferSize: number): Promise<MmResult> {
    this.calls.push({ request, bytes: request.slice(), bufferSize });
    return this.respond(request, bufferSize);
  }

  async reset(): Promise<void> {
    this.resets++;
  }
}

export interface Access { kind: 'read' | 'write'; addr: bigint; length: number }

/** RAM that logs accesses; `afterRead` runs after each read has been answered (a racing guest). */
export class RecordingMemory extends ArrayGuestMemory {
  readonly log: Access[] = [];
  afterRead: ((addr: bigint, length: number) => void) | undefined;

  override read(addr: bigint, length: number): Uint8Array {
    this.log.push({ kind: 'read', addr, length });
    const out = super.read(addr, length);
    this.afterRead?.(addr, length);
    return out;
  }

  override write(addr: bigint, bytes: Uint8Array): void {
    this.log.push({ kind: 'write', addr, length: bytes.length });
    super.write(addr, bytes);
  }

  reads(): Access[] { return this.log.filter((a) => a.kind === 'read'); }
  writes(): Access[] { return this.log.filter((a) => a.kind === 'write'); }
}

/** Where the tests put the DMA buffer (inside RecordingMemory's 1 MiB). */
export const DMA_ADDR = 0x10000n;

export interface Rig {
  device: UefiVarsDevice;
  handler: FakeHandler;
  memory: RecordingMemory;
  errors: unknown[];
}

export function rig(opts: UefiVarsDeviceOptions & { memorySize?: number; handler?: FakeHandler } = {}): Rig {
  const handler = opts.handler ?? new FakeHandler();
  const memory = new RecordingMemory(opts.memorySize ?? 0x100000);
  const errors: unknown[] = [];
  const device = new UefiVarsDevice(handler, memory, { usePio: opts.usePio ?? false, onError: (e) => errors.push(e) });
  return { device, handler, memory, errors };
}

/** Program BUFFER_SIZE and the DMA address as a driver would. */
export async function setupDma(d: UefiVarsDevice, bufferSize = 65536, addr = DMA_ADDR): Promise<void> {
  await d.mmioWrite(0x04, 4, bufferSize);
  await d.mmioWrite(0x08, 4, Number(addr & 0xffffffffn));
  await d.mmioWrite(0x0c, 4, Number(addr >> 32n));
}

export function status(d: UefiVarsDevice): number {
  return d.mmioRead(0x02, 2);
}

/** Write `bytes` into the PIO buffer from offset 0 with 32-bit writes (zero-padded to a word). */
export async function pioFill(d: UefiVarsDevice, bytes: Uint8Array): Promise<void> {
  await d.mmioWrite(0x02, 2, 4);
  const words = new Uint8Array((bytes.length + 3) & ~3);
  words.set(bytes);
  const v = new DataView(words.buffer);
  for (let o = 0; o < words.length; o += 4) await d.mmioWrite(0x10, 4, v.getUint32(o, true));
}

/** Read `length` bytes of the PIO buffer from offset 0 with 32-bit reads. */
export async function pioDump(d: UefiVarsDevice, length: number): Promise<Uint8Array> {
  await d.mmioWrite(0x02, 2, 4);
  const words = new Uint8Array((length + 3) & ~3);
  const v = new DataView(words.buffer);
  for (let o = 0; o < words.length; o += 4) v.setUint32(o, d.mmioRead(0x10, 4), true);
  return words.slice(0, length);
}

export function driverFor(r: Rig): Edk2MmDriver {
  return new Edk2MmDriver(r.device, r.memory, { bufferAddress: DMA_ADDR });
}

/** A gate the test opens when it wants a pending handler call to finish. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => { open = resolve; });
  return { wait, open };
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
