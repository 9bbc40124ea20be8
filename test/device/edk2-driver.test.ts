/**
 * The edk2 driver model (OVMF VirtMmCommunicationDxe, spec §7.4, §1.6): its
 * register traffic, its local size rules, and DMA/PIO round trips through the
 * device, including the CRC32C checks on both PIO directions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Edk2MmDriver, type RegisterPort } from '../../src/device/edk2-driver.js';
import { crc32c } from '../../src/wire/crc32c.js';
import { EfiStatus } from '../../src/wire/status.js';
import { DMA_ADDR, FakeHandler, UNKNOWN_GUID, mmRequest, rig } from './helpers.js';

/** Wraps a port and writes every access down as "R16 0x02 -> 0" / "W32 0x04 <- 65536". */
class LoggingPort implements RegisterPort {
  readonly log: string[] = [];
  corruptRead: ((offset: number, value: number) => number) | undefined;
  constructor(private readonly inner: RegisterPort) {}
  mmioRead(offset: number, size: 2 | 4): number {
    let v = this.inner.mmioRead(offset, size);
    if (this.corruptRead) v = this.corruptRead(offset, v);
    this.log.push(`R${size * 8} 0x${offset.toString(16).padStart(2, '0')} -> ${v}`);
    return v;
  }
  mmioWrite(offset: number, size: 2 | 4, value: number): Promise<void> {
    this.log.push(`W${size * 8} 0x${offset.toString(16).padStart(2, '0')} <- ${value}`);
    return this.inner.mmioWrite(offset, size, value);
  }
}

function setup(opts: { usePio?: boolean; handler?: FakeHandler } = {}) {
  const r = rig(opts);
  const port = new LoggingPort(r.device);
  const driver = new Edk2MmDriver(port, r.memory, { bufferAddress: DMA_ADDR });
  return { ...r, port, driver };
}

test('init in DMA mode: 16-bit MAGIC, RESET + status poll, BUFFER_SIZE 65536, FLAGS, then both address halves', async () => {
  const t = setup();
  assert.equal(await t.driver.init(), EfiStatus.SUCCESS);
  assert.equal(t.driver.usePio, false);
  assert.deepEqual(t.port.log, [
    'R16 0x00 -> 3825',
    'W16 0x02 <- 1', 'R16 0x02 -> 0',
    'W32 0x04 <- 65536',
    'R32 0x1c -> 0',
    `W32 0x08 <- ${Number(DMA_ADDR)}`, 'W32 0x0c <- 0',
  ]);
});

test('init in PIO mode does not program the DMA address', async () => {
  const t = setup({ usePio: true });
  assert.equal(await t.driver.init(), EfiStatus.SUCCESS);
  assert.equal(t.driver.usePio, true);
  assert.equal(t.port.log.at(-1), 'R32 0x1c -> 1');
});

test('init fails with EFI_DEVICE_ERROR when MAGIC does not match, touching nothing else', async () => {
  const t = setup();
  t.port.corruptRead = (o, v) => (o === 0 ? 0xffff : v);
  assert.equal(await t.driver.init(), EfiStatus.DEVICE_ERROR);
  assert.equal(t.port.log.length, 1);
});

test('DMA round trip: request copied to the buffer, DMA_MM, reply copied back', async () => {
  const handler = new FakeHandler((req) => {
    const reply = req.slice();
    reply[32] = 0x42;
    return { deviceStatus: 0, reply };
  });
  const t = setup({ handler });
  await t.driver.init();
  const req = mmRequest(40);
  t.port.log.length = 0;
  const res = await t.driver.sendDma(req);
  assert.equal(res.status, EfiStatus.SUCCESS);
  assert.equal(res.cmdSts, 0);
  assert.equal(res.reply!.length, req.length);
  assert.equal(res.reply![32], 0x42);
  assert.deepEqual(handler.calls[0]!.bytes, req);
  assert.deepEqual(t.port.log, ['W16 0x02 <- 2', 'R16 0x02 -> 0']);
});

test('DMA: a device error is EFI_UNSUPPORTED / EFI_BAD_BUFFER_SIZE and edk2 copies nothing back', async () => {
  const handler = new FakeHandler((req) => ({ deviceStatus: req[0] === UNKNOWN_GUID[0] ? 0x11 : 0x12, reply: req.slice() }));
  const t = setup({ handler });
  await t.driver.init();
  const a = await t.driver.sendDma(mmRequest(16, UNKNOWN_GUID));
  assert.deepEqual([a.status, a.cmdSts, a.reply], [EfiStatus.UNSUPPORTED, 0x11, undefined]);
  const b = await t.driver.sendDma(mmRequest(8));
  assert.deepEqual([b.status, b.cmdSts, b.reply], [EfiStatus.BAD_BUFFER_SIZE, 0x12, undefined]);
  const c = await t.driver.sendDma(mmRequest(16, UNKNOWN_GUID), { readBackOnDeviceError: true });
  assert.deepEqual(c.reply, mmRequest(16, UNKNOWN_GUID));
});

test('edk2 refuses MessageLength 0 and 24 + MessageLength > 65536 locally, without a device access', async () => {
  const t = setup();
  await t.driver.init();
  t.port.log.length = 0;
  for (const req of [mmRequest(0), mmRequest(new Uint8Array(8), undefined, 65513n)]) {
    const res = await t.driver.sendDma(req);
    assert.deepEqual([res.status, res.cmdSts, res.reply], [EfiStatus.BAD_BUFFER_SIZE, undefined, undefined]);
    assert.equal((await t.driver.sendPio(req)).status, EfiStatus.BAD_BUFFER_SIZE);
  }
  assert.deepEqual(t.port.log, []);
  assert.equal(t.handler.calls.length, 0);
});

test('with the local checks bypassed, an oversize MessageLength reaches the device and gets 0x12', async () => {
  const t = setup();
  await t.driver.init();
  const res = await t.driver.sendDma(mmRequest(new Uint8Array(8), undefined, 65513n), { bypassLocalChecks: true });
  assert.deepEqual([res.status, res.cmdSts], [EfiStatus.BAD_BUFFER_SIZE, 0x12]);
  assert.equal(t.handler.calls.length, 0);
});

test('PIO round trip follows edk2 access for access: ZERO_OFFSET, ceil4 32-bit writes, CRC, PIO_MM, ZERO_OFFSET, reads, CRC', async () => {
  const handler = new FakeHandler((req) => {
    const reply = req.slice();
    reply[req.length - 1] = req[req.length - 1]! ^ 0xff;
    return { deviceStatus: 0, reply };
  });
  const t = setup({ handler, usePio: true });
  await t.driver.init();
  const req = mmRequest(45); // 69 bytes: not a multiple of 4
  t.port.log.length = 0;
  const res = await t.driver.send(req);
  assert.equal(res.status, EfiStatus.SUCCESS);
  assert.deepEqual([res.crcIn, res.crcOut, res.cmdSts], [true, true, 0]);
  assert.equal(res.reply!.length, 69);
  assert.equal(res.reply![68], req[68]! ^ 0xff);
  assert.deepEqual(handler.calls[0]!.bytes, req);

  const padded = new Uint8Array(72);
  padded.set(req);
  const sentCrc = crc32c(padded);
  const log = t.port.log;
  assert.deepEqual(log.slice(0, 2), ['W16 0x02 <- 4', 'R16 0x02 -> 0']);
  assert.equal(log.slice(2, 20).filter((l) => l.startsWith('W32 0x10')).length, 18);
  assert.deepEqual(log.slice(20, 23), [`R32 0x18 -> ${sentCrc}`, 'W16 0x02 <- 3', 'R16 0x02 -> 0']);
  assert.deepEqual(log.slice(23, 25), ['W16 0x02 <- 4', 'R16 0x02 -> 0']);
  assert.equal(log.slice(25, 43).filter((l) => l.startsWith('R32 0x10')).length, 18);
  assert.match(log[43]!, /^R32 0x18 -> \d+$/);
  assert.equal(log.length, 44);
});

test('PIO: a transfer the device could not hold fails the CRC check and PIO_MM is never issued', async () => {
  const t = setup({ usePio: true });
  await t.driver.init();
  assert.equal(await t.driver.setBufferSize(64), 64);
  const res = await t.driver.sendPio(mmRequest(56)); // 80 bytes into a 64-byte buffer: the tail is dropped
  assert.deepEqual([res.status, res.crcIn, res.cmdSts], [EfiStatus.DEVICE_ERROR, false, undefined]);
  assert.equal(t.handler.calls.length, 0);
  assert.ok(!t.port.log.includes('W16 0x02 <- 3'));
});

test('PIO: a word corrupted on the way back fails the second CRC check with EFI_DEVICE_ERROR', async () => {
  const t = setup({ usePio: true });
  await t.driver.init();
  let pioMmDone = false;
  t.port.corruptRead = (o, v) => {
    if (o === 0x02 && v === 0) pioMmDone = t.handler.calls.length > 0;
    return o === 0x10 && pioMmDone ? (v ^ 1) >>> 0 : v;
  };
  const res = await t.driver.sendPio(mmRequest(16));
  assert.deepEqual([res.status, res.crcIn, res.crcOut, res.cmdSts, res.reply], [EfiStatus.DEVICE_ERROR, true, false, 0, undefined]);
});

test('PIO: after a device error edk2 skips the read-back unless asked to read back anyway', async () => {
  const handler = new FakeHandler((req) => ({ deviceStatus: 0x11, reply: req.slice() }));
  const t = setup({ handler, usePio: true });
  await t.driver.init();
  const req = mmRequest(16, UNKNOWN_GUID);
  const a = await t.driver.sendPio(req);
  assert.deepEqual([a.status, a.cmdSts, a.reply, a.crcOut], [EfiStatus.UNSUPPORTED, 0x11, undefined, undefined]);
  const b = await t.driver.sendPio(req, { readBackOnDeviceError: true });
  assert.deepEqual([b.status, b.crcOut], [EfiStatus.UNSUPPORTED, true]);
  assert.deepEqual(b.reply, req);
});

test('a command that stays BUSY is polled exactly 100 times, then EFI_TIMEOUT', async () => {
  const t = setup();
  await t.driver.init();
  t.port.corruptRead = (o, v) => (o === 0x02 ? 1 : v);
  t.port.log.length = 0;
  const res = await t.driver.command(4);
  assert.deepEqual(res, { status: EfiStatus.TIMEOUT, cmdSts: 1 });
  assert.equal(t.port.log.filter((l) => l.startsWith('R16 0x02')).length, 100);
});

test('BUSY that clears is retried and then succeeds', async () => {
  const t = setup();
  await t.driver.init();
  let busyReads = 3;
  t.port.corruptRead = (o, v) => (o === 0x02 && busyReads-- > 0 ? 1 : v);
  const res = await t.driver.command(4);
  assert.deepEqual(res, { status: EfiStatus.SUCCESS, cmdSts: 0 });
  assert.equal(busyReads, -1);
});

test('a PIO-mode driver programs the DMA address on its first DMA send (QEMU takes both transports)', async () => {
  const t = setup({ usePio: true });
  await t.driver.init();
  t.port.log.length = 0;
  const res = await t.driver.sendDma(mmRequest(8));
  assert.equal(res.status, EfiStatus.SUCCESS);
  assert.deepEqual(t.port.log.slice(0, 2), [`W32 0x08 <- ${Number(DMA_ADDR)}`, 'W32 0x0c <- 0']);
});

test('asHandler replays through the device: buffer size follows the caller, replies are always read back', async () => {
  const handler = new FakeHandler((req, size) => ({ deviceStatus: size === 4096 ? 0x11 : 0, reply: req.slice() }));
  const t = setup({ handler });
  const asMm = t.driver.asHandler(() => t.device.hardReset());
  await asMm.reset();
  assert.equal(handler.resets, 1);
  const req = mmRequest(16);
  const a = await asMm.process(req, 4096);
  assert.deepEqual([a.deviceStatus, a.reply], [0x11, req]);
  assert.equal(t.device.mmioRead(0x04, 4), 4096);
  const b = await asMm.process(req, 65536);
  assert.equal(b.deviceStatus, 0);
  assert.equal(handler.calls.at(-1)!.bufferSize, 65536);
});
