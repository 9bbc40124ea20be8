/**
 * MM request processing through the device (spec §1.5, §1.6; §8 items 4, 6–10):
 * what reaches the handler, what is written back, what CMD_STS says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UefiVarsDevice } from '../../src/device/uefi-vars-device.js';
import { DMA_ADDR, FakeHandler, RecordingMemory, UNKNOWN_GUID, gate, messageLengthOf, mmRequest, pioDump, pioFill, rig, setupDma, status } from './helpers.js';

/** CMD_STS := DMA_MM, resolved once the command has completed. */
function dmaMm(device: UefiVarsDevice): Promise<void> {
  return device.mmioWrite(0x02, 2, 2);
}

test('§8.4: DMA_MM before any BUFFER_SIZE write gives 0x12 without touching guest memory or the handler', async () => {
  const r = rig();
  r.memory.write(0n, mmRequest(16));
  r.memory.log.length = 0;
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x12);
  assert.equal(r.handler.calls.length, 0);
  assert.deepEqual(r.memory.log, []);
});

test('PIO_MM before any BUFFER_SIZE write, and either command after CMD RESET, give 0x12', async () => {
  const r = rig({ usePio: true });
  await r.device.mmioWrite(0x02, 2, 3);
  assert.equal(status(r.device), 0x12);
  await setupDma(r.device);
  r.memory.write(DMA_ADDR, mmRequest(16));
  await r.device.mmioWrite(0x02, 2, 1);
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x12);
  await r.device.mmioWrite(0x02, 2, 3);
  assert.equal(status(r.device), 0x12);
  assert.equal(r.handler.calls.length, 0);
});

test('a buffer smaller than the 24-byte header gives 0x12 without reading guest memory', async () => {
  const r = rig();
  await setupDma(r.device, 23);
  r.memory.log.length = 0;
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x12);
  assert.deepEqual(r.memory.reads(), []);
});

test('§8.6: MessageLength 65513 with a 64 KiB buffer gives 0x12, reads only the header and leaves guest memory unchanged', async () => {
  const r = rig();
  await setupDma(r.device);
  const req = mmRequest(65513);
  r.memory.write(DMA_ADDR, req);
  const before = r.memory.bytes.slice();
  r.memory.log.length = 0;
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x12);
  assert.equal(r.handler.calls.length, 0);
  assert.deepEqual(r.memory.log, [{ kind: 'read', addr: DMA_ADDR, length: 24 }]);
  assert.deepEqual(r.memory.bytes, before);
});

test('§8.6: MessageLength 65512 fills the 64 KiB buffer exactly and is accepted', async () => {
  const r = rig();
  await setupDma(r.device);
  const req = mmRequest(65512);
  r.memory.write(DMA_ADDR, req);
  await dmaMm(r.device);
  assert.equal(status(r.device), 0);
  assert.equal(r.handler.calls.length, 1);
  assert.equal(r.handler.calls[0]!.bytes.length, 65536);
  assert.deepEqual(r.handler.calls[0]!.bytes, req);
  assert.equal(r.handler.calls[0]!.bufferSize, 65536);
});

test('MessageLength 2^63, 2^64-8 (24 + it wraps in u64) and 2^64-1 all give 0x12 before dispatch', async () => {
  const r = rig();
  await setupDma(r.device);
  for (const ml of [1n << 63n, (1n << 64n) - 8n, (1n << 64n) - 1n]) {
    r.memory.write(DMA_ADDR, mmRequest(new Uint8Array(16), undefined, ml));
    r.memory.log.length = 0;
    await dmaMm(r.device);
    assert.equal(status(r.device), 0x12, `MessageLength ${ml}`);
    assert.deepEqual(r.memory.log, [{ kind: 'read', addr: DMA_ADDR, length: 24 }]);
  }
  assert.equal(r.handler.calls.length, 0);
});

test('the size check uses BUFFER_SIZE, not 64 KiB: with a 4 KiB buffer MessageLength 4073 is refused, 4072 accepted', async () => {
  const r = rig();
  await setupDma(r.device, 4096);
  r.memory.write(DMA_ADDR, mmRequest(4073));
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x12);
  r.memory.write(DMA_ADDR, mmRequest(4072));
  await dmaMm(r.device);
  assert.equal(status(r.device), 0);
  assert.equal(r.handler.calls[0]!.bufferSize, 4096);
});

test('§8.7: an unknown GUID answered 0x11 by the handler sets CMD_STS 0x11 and the buffer is written back unchanged', async () => {
  const handler = new FakeHandler((req) => ({ deviceStatus: 0x11, reply: req.slice(), reason: 'unknown-mm-guid' }));
  const r = rig({ handler });
  await setupDma(r.device);
  const req = mmRequest(40, UNKNOWN_GUID);
  r.memory.write(DMA_ADDR, req);
  r.memory.log.length = 0;
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x11);
  assert.deepEqual(r.memory.writes(), [{ kind: 'write', addr: DMA_ADDR, length: req.length }]);
  assert.deepEqual(r.memory.read(DMA_ADDR, req.length), req);
});

test('§8.8/§8.9: a 0x12 decided by the handler still writes its reply back (spec §1.5 step 8)', async () => {
  const handler = new FakeHandler((req) => {
    const reply = req.slice();
    reply[30] = 0x5a;
    return { deviceStatus: 0x12, reply };
  });
  const r = rig({ handler });
  await setupDma(r.device);
  r.memory.write(DMA_ADDR, mmRequest(8));
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x12);
  assert.equal(r.memory.read(DMA_ADDR + 30n, 1)[0], 0x5a);
});

test('a handler that refuses before dispatch (reply undefined) leaves guest memory untouched', async () => {
  const handler = new FakeHandler(() => ({ deviceStatus: 0x12, reply: undefined }));
  const r = rig({ handler });
  await setupDma(r.device);
  r.memory.write(DMA_ADDR, mmRequest(16));
  r.memory.log.length = 0;
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x12);
  assert.deepEqual(r.memory.writes(), []);
});

test('§8.10: the reply lands at the DMA address with exactly 24 + MessageLength bytes; memory after it is untouched', async () => {
  const handler = new FakeHandler((req) => {
    const reply = req.slice();
    reply.fill(0xee, 24);
    return { deviceStatus: 0, reply };
  });
  const r = rig({ handler });
  await setupDma(r.device);
  r.memory.bytes.fill(0x77, Number(DMA_ADDR), Number(DMA_ADDR) + 200);
  const req = mmRequest(40);
  r.memory.write(DMA_ADDR, req);
  await dmaMm(r.device);
  const after = r.memory.read(DMA_ADDR, 200);
  assert.equal(messageLengthOf(after), 40n);
  assert.deepEqual([...after.subarray(24, 64)], new Array(40).fill(0xee));
  assert.deepEqual([...after.subarray(64)], new Array(136).fill(0x77));
});

test('the DMA address is 64-bit: ADDR_HI:ADDR_LO', async () => {
  const handler = new FakeHandler();
  const addr = 0x1_0000_0000n;
  const memory = new RecordingMemory(4096, addr);
  const device = new UefiVarsDevice(handler, memory);
  await setupDma(device, 4096, addr);
  const req = mmRequest(8);
  memory.write(addr, req);
  memory.log.length = 0;
  await dmaMm(device);
  assert.equal(status(device), 0);
  assert.deepEqual(handler.calls[0]!.bytes, req);
  assert.deepEqual(memory.log.map((a) => [a.kind, a.addr, a.length]), [['read', addr, 24], ['read', addr + 24n, 8], ['write', addr, 32]]);
});

test('a handler reply longer than the request is refused: nothing written, CMD_STS 0x10, onError told', async () => {
  const handler = new FakeHandler((req) => ({ deviceStatus: 0, reply: new Uint8Array(req.length + 1) }));
  const r = rig({ handler });
  await setupDma(r.device);
  r.memory.write(DMA_ADDR, mmRequest(16));
  r.memory.log.length = 0;
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x10);
  assert.deepEqual(r.memory.writes(), []);
  assert.equal(r.errors.length, 1);
});

test('a throwing handler gives CMD_STS 0x10 and the command write still resolves', async () => {
  const handler = new FakeHandler(() => { throw new Error('boom'); });
  const r = rig({ handler });
  await setupDma(r.device);
  r.memory.write(DMA_ADDR, mmRequest(16));
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x10);
  assert.match(String(r.errors[0]), /boom/);
  assert.equal(r.device.busy, false);
});

test('guest memory that throws gives CMD_STS 0x10 instead of an exception', async () => {
  const r = rig();
  await setupDma(r.device);
  r.memory.read = () => { throw new Error('unmapped'); };
  await dmaMm(r.device);
  assert.equal(status(r.device), 0x10);
  assert.equal(r.handler.calls.length, 0);
  assert.equal(r.errors.length, 1);
});

test('the handler gets a private copy: changing guest memory later does not change it', async () => {
  const r = rig();
  await setupDma(r.device);
  const req = mmRequest(32);
  r.memory.write(DMA_ADDR, req);
  await dmaMm(r.device);
  r.memory.bytes.fill(0, Number(DMA_ADDR), Number(DMA_ADDR) + 100);
  assert.deepEqual(r.handler.calls[0]!.request, req);
});

test('PIO_MM reads the request from PIO offset 0 whatever the current offset, and the reply is read back from offset 0', async () => {
  const handler = new FakeHandler((req) => {
    const reply = req.slice();
    reply[req.length - 1] = 0x99;
    return { deviceStatus: 0, reply };
  });
  const r = rig({ handler, usePio: true });
  await r.device.mmioWrite(0x04, 4, 65536);
  const req = mmRequest(45);
  await pioFill(r.device, req); // offset is now 72
  await r.device.mmioWrite(0x02, 2, 3);
  assert.equal(status(r.device), 0);
  assert.deepEqual(handler.calls[0]!.bytes, req);
  const back = await pioDump(r.device, req.length);
  assert.equal(back[req.length - 1], 0x99);
  assert.deepEqual(back.subarray(0, req.length - 1), req.subarray(0, req.length - 1));
  assert.deepEqual(r.memory.log, [], 'PIO never touches guest memory');
});

test('PIO_MM with MessageLength beyond BUFFER_SIZE gives 0x12 and leaves the PIO buffer as it was', async () => {
  const r = rig({ usePio: true });
  await r.device.mmioWrite(0x04, 4, 64);
  const req = mmRequest(new Uint8Array(16), undefined, 41n);
  await pioFill(r.device, req);
  await r.device.mmioWrite(0x02, 2, 3);
  assert.equal(status(r.device), 0x12);
  assert.equal(r.handler.calls.length, 0);
  assert.deepEqual(await pioDump(r.device, req.length), req);
});

test('QEMU accepts DMA_MM on a use-pio device and PIO_MM on a DMA device (spec §1.6)', async () => {
  const a = rig({ usePio: true });
  await setupDma(a.device);
  a.memory.write(DMA_ADDR, mmRequest(8));
  await dmaMm(a.device);
  assert.equal(status(a.device), 0);
  const b = rig();
  await b.device.mmioWrite(0x04, 4, 256);
  await pioFill(b.device, mmRequest(8));
  await b.device.mmioWrite(0x02, 2, 3);
  assert.equal(status(b.device), 0);
  assert.equal(a.handler.calls.length + b.handler.calls.length, 2);
});

test('while a command is in flight CMD_STS reads BUSY, writes are ignored and PIO reads return 0 without moving', async () => {
  const g = gate();
  const handler = new FakeHandler(async (req) => { await g.wait; return { deviceStatus: 0, reply: req.slice().fill(0xab, 24) }; });
  const r = rig({ handler });
  await setupDma(r.device);
  await pioFill(r.device, new Uint8Array(8)); // PIO offset 8
  r.memory.write(DMA_ADDR, mmRequest(16));
  const done = r.device.mmioWrite(0x02, 2, 2);
  assert.equal(r.device.busy, true);
  assert.equal(status(r.device), 0x01);
  await r.device.mmioWrite(0x04, 4, 32);
  await r.device.mmioWrite(0x08, 4, 0x5000);
  await r.device.mmioWrite(0x02, 2, 2);
  await r.device.mmioWrite(0x02, 2, 1);
  assert.equal(r.device.mmioRead(0x10, 4), 0);
  assert.equal(r.device.mmioRead(0x04, 4), 65536);
  assert.equal(r.device.mmioRead(0x08, 4), Number(DMA_ADDR));
  g.open();
  await done;
  assert.equal(r.device.busy, false);
  assert.equal(status(r.device), 0);
  assert.equal(handler.calls.length, 1);
  assert.equal(r.memory.read(DMA_ADDR + 24n, 1)[0], 0xab);
  assert.equal(r.device.saveState().pioOffset, 8);
});

test('hardReset waits for a running command, then resets', async () => {
  const g = gate();
  const order: string[] = [];
  const handler = new FakeHandler(async (req) => { await g.wait; order.push('process'); return { deviceStatus: 0, reply: req.slice() }; });
  handler.reset = async () => { order.push('reset'); };
  const r = rig({ handler });
  await setupDma(r.device);
  r.memory.write(DMA_ADDR, mmRequest(8));
  const cmd = r.device.mmioWrite(0x02, 2, 2);
  const reset = r.device.hardReset();
  await Promise.resolve();
  assert.deepEqual(order, []);
  g.open();
  await Promise.all([cmd, reset]);
  assert.deepEqual(order, ['process', 'reset']);
  assert.equal(r.device.mmioRead(0x04, 4), 0);
});

test('two overlapping hard resets run one after the other, never together', async () => {
  let running = 0;
  let overlapped = false;
  const handler = new FakeHandler();
  handler.reset = async () => {
    running++;
    if (running > 1) overlapped = true;
    await new Promise((res) => setTimeout(res, 1));
    running--;
  };
  const r = rig({ handler });
  await Promise.all([r.device.hardReset(), r.device.hardReset(), r.device.hardReset()]);
  assert.equal(overlapped, false);
});
