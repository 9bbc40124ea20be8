/**
 * The guest owns the DMA buffer and can rewrite it while the device works
 * (another vCPU, a DMA engine). Xen's varstored read the buffer twice and
 * trusted the second read (XSA-478). These tests race the guest against the
 * device and check that every guest byte is fetched once, that the handler sees
 * one snapshot, and that nothing the guest changes after the size check widens
 * what the device reads or writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestMemory } from '../../src/device/guest-memory.js';
import { UefiVarsDevice } from '../../src/device/uefi-vars-device.js';
import { DMA_ADDR, FakeHandler, gate, messageLengthOf, mmRequest, pioFill, rig, setupDma, status } from './helpers.js';

const A = Number(DMA_ADDR);

function setMessageLength(bytes: Uint8Array, at: number, ml: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset + at, 24).setBigUint64(16, ml, true);
}

/** Each guest byte of the request is read exactly once: [addr, addr+24) then [addr+24, addr+total). */
function assertFetchedOnce(reads: { addr: bigint; length: number }[], total: number): void {
  assert.deepEqual(reads.map((r) => [r.addr, r.length]), total > 24 ? [[DMA_ADDR, 24], [DMA_ADDR + 24n, total - 24]] : [[DMA_ADDR, 24]]);
}

test('MessageLength grown right after the header read does not grow what is read, dispatched or written', async () => {
  const r = rig();
  await setupDma(r.device);
  r.memory.bytes.fill(0x77, A, A + 70000);
  r.memory.write(DMA_ADDR, mmRequest(16));
  let reads = 0;
  r.memory.afterRead = () => { if (reads++ === 0) setMessageLength(r.memory.bytes, A, 65512n); };
  r.memory.log.length = 0;
  await r.device.mmioWrite(0x02, 2, 2);
  assert.equal(status(r.device), 0);
  const got = r.handler.calls[0]!.bytes;
  assert.equal(got.length, 40);
  assert.equal(messageLengthOf(got), 16n, 'the handler parses the MessageLength that was size-checked');
  assertFetchedOnce(r.memory.reads(), 40);
  assert.deepEqual(r.memory.writes().map((w) => [w.addr, w.length]), [[DMA_ADDR, 40]]);
  assert.deepEqual([...r.memory.bytes.subarray(A + 40, A + 200)], new Array(160).fill(0x77), 'nothing past the checked size');
});

test('MessageLength rewritten to an oversize value after the check cannot turn into 0x12-with-overrun or a larger copy', async () => {
  const r = rig();
  await setupDma(r.device, 4096);
  r.memory.write(DMA_ADDR, mmRequest(8));
  r.memory.afterRead = (addr) => { if (addr === DMA_ADDR) setMessageLength(r.memory.bytes, A, (1n << 64n) - 1n); };
  r.memory.log.length = 0;
  await r.device.mmioWrite(0x02, 2, 2);
  assert.equal(r.handler.calls[0]!.bytes.length, 32);
  assert.equal(messageLengthOf(r.handler.calls[0]!.bytes), 8n);
  assertFetchedOnce(r.memory.reads(), 32);
  // The reply goes back with the checked length, overwriting the guest's late edit.
  assert.equal(messageLengthOf(r.memory.read(DMA_ADDR, 24)), 8n);
});

test('MessageLength shrunk after the header read: the handler still gets the checked length and all its bytes', async () => {
  const r = rig();
  await setupDma(r.device);
  const req = mmRequest(1000);
  r.memory.write(DMA_ADDR, req);
  r.memory.afterRead = (addr) => { if (addr === DMA_ADDR) setMessageLength(r.memory.bytes, A, 0n); };
  await r.device.mmioWrite(0x02, 2, 2);
  const got = r.handler.calls[0]!.bytes;
  assert.equal(got.length, 1024);
  assert.equal(messageLengthOf(got), 1000n);
  assert.deepEqual(got.subarray(24), req.subarray(24));
});

test('a buffer that flips after every read still yields one self-consistent snapshot, each byte fetched once', async () => {
  const r = rig();
  await setupDma(r.device);
  const req = mmRequest(200);
  r.memory.write(DMA_ADDR, req);
  r.memory.afterRead = () => {
    for (let i = A; i < A + 224; i++) r.memory.bytes[i] = r.memory.bytes[i]! ^ 0xff;
  };
  r.memory.log.length = 0;
  await r.device.mmioWrite(0x02, 2, 2);
  const got = r.handler.calls[0]!.bytes;
  assertFetchedOnce(r.memory.reads(), 224);
  assert.equal(got.length, 224);
  assert.equal(messageLengthOf(got), 200n, 'header from the first read, and its length is the copy\'s length');
  assert.deepEqual(got.subarray(0, 24), req.subarray(0, 24));
  assert.deepEqual(got.subarray(24), req.subarray(24).map((b) => b ^ 0xff), 'body as it was at the one body read');
});

test('a MessageLength of 0 reads the header only, once', async () => {
  const r = rig();
  await setupDma(r.device);
  r.memory.write(DMA_ADDR, mmRequest(0));
  r.memory.log.length = 0;
  await r.device.mmioWrite(0x02, 2, 2);
  assertFetchedOnce(r.memory.reads(), 24);
  assert.equal(r.handler.calls[0]!.bytes.length, 24);
});

test('guest writes while the handler is working do not reach the handler\'s copy', async () => {
  const g = gate();
  let seenAfterRace: Uint8Array | undefined;
  const handler = new FakeHandler(async (req) => {
    await g.wait;
    seenAfterRace = req.slice();
    return { deviceStatus: 0, reply: req.slice() };
  });
  const r = rig({ handler });
  await setupDma(r.device);
  const req = mmRequest(64);
  r.memory.write(DMA_ADDR, req);
  const done = r.device.mmioWrite(0x02, 2, 2);
  r.memory.bytes.fill(0xcc, A, A + 88); // the racing vCPU
  setMessageLength(r.memory.bytes, A, 60000n);
  g.open();
  await done;
  assert.deepEqual(seenAfterRace, req);
  assert.equal(r.memory.reads().length, 2, 'no re-read after the handler ran');
});

test('an embedder whose read() returns a live view of guest RAM still gives the handler a stable copy', async () => {
  const ram = new Uint8Array(0x20000);
  const live: GuestMemory = {
    read: (addr, length) => ram.subarray(Number(addr), Number(addr) + length), // no copy
    write: (addr, bytes) => ram.set(bytes, Number(addr)),
  };
  const g = gate();
  const handler = new FakeHandler(async (req) => { await g.wait; return { deviceStatus: 0, reply: req.slice() }; });
  const device = new UefiVarsDevice(handler, live);
  await setupDma(device);
  const req = mmRequest(32);
  ram.set(req, A);
  const done = device.mmioWrite(0x02, 2, 2);
  ram.fill(0xdd, A, A + 56);
  g.open();
  await done;
  assert.deepEqual(handler.calls[0]!.request, req);
  assert.deepEqual(ram.subarray(A, A + 56), req, 'the reply written back is the snapshot, not the racing bytes');
});

test('a read() that returns more bytes than asked cannot make the request longer than the checked size', async () => {
  const ram = new Uint8Array(0x20000);
  const greedy: GuestMemory = {
    read: (addr, length) => ram.slice(Number(addr), Number(addr) + length + 100),
    write: (addr, bytes) => ram.set(bytes, Number(addr)),
  };
  const handler = new FakeHandler();
  const device = new UefiVarsDevice(handler, greedy);
  await setupDma(device);
  ram.set(mmRequest(16), A);
  await device.mmioWrite(0x02, 2, 2);
  assert.equal(handler.calls[0]!.bytes.length, 40);
});

test('a read() that returns fewer bytes than asked leaves zeros, never stale data', async () => {
  const ram = new Uint8Array(0x20000);
  const short: GuestMemory = {
    read: (addr, length) => ram.slice(Number(addr), Number(addr) + (addr === DMA_ADDR ? length : 4)),
    write: (addr, bytes) => ram.set(bytes, Number(addr)),
  };
  const handler = new FakeHandler();
  const device = new UefiVarsDevice(handler, short);
  await setupDma(device);
  ram.set(mmRequest(16), A);
  await device.mmioWrite(0x02, 2, 2);
  const body = handler.calls[0]!.bytes.subarray(24);
  assert.deepEqual(body.subarray(0, 4), mmRequest(16).subarray(24, 28));
  assert.deepEqual([...body.subarray(4)], new Array(12).fill(0));
});

test('PIO: transfer writes during a running PIO_MM change neither the request nor where the reply goes', async () => {
  const g = gate();
  const handler = new FakeHandler(async (req) => { await g.wait; return { deviceStatus: 0, reply: req.slice() }; });
  const r = rig({ handler, usePio: true });
  await r.device.mmioWrite(0x04, 4, 256);
  const req = mmRequest(20);
  await pioFill(r.device, req);
  const done = r.device.mmioWrite(0x02, 2, 3);
  await r.device.mmioWrite(0x02, 2, 4);
  for (let i = 0; i < 8; i++) await r.device.mmioWrite(0x10, 4, 0xffffffff);
  g.open();
  await done;
  assert.deepEqual(handler.calls[0]!.bytes, req);
  assert.deepEqual(r.device.saveState().pioBuffer.subarray(0, 44), req);
});

test('PIO: the handler\'s request is its own copy, not a view of the PIO buffer the guest keeps writing', async () => {
  const r = rig({ usePio: true });
  await r.device.mmioWrite(0x04, 4, 256);
  const req = mmRequest(20);
  await pioFill(r.device, req);
  await r.device.mmioWrite(0x02, 2, 3);
  await pioFill(r.device, new Uint8Array(64).fill(0xff));
  assert.deepEqual(r.handler.calls[0]!.request, req);
});
