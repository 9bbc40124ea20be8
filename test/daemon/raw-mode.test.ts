import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayGuestMemory, type GuestMemory } from '../../src/device/guest-memory.js';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { ErrorCode, FrameType, encodeHello, encodeMmioWrite, encodeFrame, decodeError, decodeMemRead } from '../../src/daemon/protocol/frames.js';
import { setVariableRequest, getVariableRequest, replyStatus, replyData } from '../../src/client/requests.js';
import { crc32c } from '../../src/wire/crc32c.js';
import { startDaemon, FrameSocket, setVar, getVar, EFI_SUCCESS, EFI_NOT_FOUND, TEST_GUID, NV_BS_RT } from './helpers.js';

// Register offsets and commands spelled out from spec §1.2-§1.3.
const CMD_STS = 0x02, BUFFER_SIZE = 0x04, ADDR_LO = 0x08, ADDR_HI = 0x0c, PIO = 0x10, CRC = 0x18, FLAGS = 0x1c;
const DMA_MM = 2, PIO_MM = 3, PIO_ZERO = 4;
const BUF = 0x0000_0001_2000_0000n; // above 4 GiB, so ADDR_HI matters

type Access = { op: 'read' | 'write'; addr: bigint; length: number; at: number };

/** Guest RAM that records every access the daemon makes, in order. */
class RecordingMemory implements GuestMemory {
  readonly log: Access[] = [];
  private seq = 0;
  constructor(readonly ram = new ArrayGuestMemory(0x10000, BUF)) {}
  read(addr: bigint, length: number): Uint8Array { this.log.push({ op: 'read', addr, length, at: this.seq++ }); return this.ram.read(addr, length); }
  write(addr: bigint, bytes: Uint8Array): void { this.log.push({ op: 'write', addr, length: bytes.length, at: this.seq++ }); this.ram.write(addr, bytes); }
}

async function initDma(c: DaemonClient): Promise<void> {
  await c.mmioWrite(BUFFER_SIZE, 4, 65536);
  await c.mmioWrite(ADDR_LO, 4, BUF & 0xffffffffn);
  await c.mmioWrite(ADDR_HI, 4, BUF >> 32n);
}

test('DMA_MM reads the guest buffer once (header, then exactly MessageLength bytes) and writes the reply back before the write completes', async (t) => {
  const d = await startDaemon(t);
  const mem = new RecordingMemory();
  const c = await DaemonClient.connect(d.socket, 'dma', { memory: mem });
  t.after(() => c.close());
  await initDma(c);
  const req = setVariableRequest({ name: 'ViaDma', guid: TEST_GUID, attributes: NV_BS_RT, data: Uint8Array.of(1, 2, 3, 4) });
  mem.ram.write(BUF, req);
  mem.log.length = 0;
  await c.mmioWrite(CMD_STS, 2, DMA_MM);
  assert.deepEqual(mem.log.map(({ op, addr, length }) => ({ op, addr, length })), [
    { op: 'read', addr: BUF, length: 24 },
    { op: 'read', addr: BUF + 24n, length: req.length - 24 },
    { op: 'write', addr: BUF, length: req.length },
  ]);
  assert.equal(await c.mmioRead(CMD_STS, 2), 0n);
  assert.equal(replyStatus(mem.ram.read(BUF, req.length)), EFI_SUCCESS);

  // The variable is visible through the MM path of another connection to the same VM.
  const mm = await DaemonClient.connect(d.socket, 'dma');
  t.after(() => mm.close());
  assert.deepEqual((await getVar(mm, 'ViaDma')).data, Uint8Array.of(1, 2, 3, 4));
});

test('a DMA_MM whose MessageLength does not fit BUFFER_SIZE reads only the header, writes nothing and reports 0x12', async (t) => {
  const d = await startDaemon(t);
  const mem = new RecordingMemory();
  const c = await DaemonClient.connect(d.socket, 'dma-big', { memory: mem });
  t.after(() => c.close());
  await initDma(c);
  const header = new Uint8Array(24);
  new DataView(header.buffer).setBigUint64(16, 0xffff_ffff_ffff_fff0n, true);
  mem.ram.write(BUF, header);
  await c.mmioWrite(CMD_STS, 2, DMA_MM);
  assert.deepEqual(mem.log.map((a) => [a.op, a.length]), [['read', 24]]);
  assert.equal(await c.mmioRead(CMD_STS, 2), 0x12n);
});

test('MEM_ERROR answers are treated as QEMU treats DMA errors: reads see zeros, the command still completes', async (t) => {
  const d = await startDaemon(t);
  const c = await DaemonClient.connect(d.socket, 'no-ram'); // no memory: the client answers MEM_ERROR
  t.after(() => c.close());
  await initDma(c);
  await c.mmioWrite(CMD_STS, 2, DMA_MM);
  // An all-zero header names no known GUID: ERR_NOT_SUPPORTED (spec §1.4).
  assert.equal(await c.mmioRead(CMD_STS, 2), 0x11n);
});

test('PIO transfer over MMIO frames: a SetVariable and GetVariable round trip with matching CRC32C and no MEM frames', async (t) => {
  const d = await startDaemon(t, { usePio: true });
  const mem = new RecordingMemory();
  const c = await DaemonClient.connect(d.socket, 'pio', { memory: mem });
  t.after(() => c.close());
  assert.equal(await c.mmioRead(FLAGS, 4), 1n, 'FLAGS.USE_PIO set by --use-pio');
  await c.mmioWrite(BUFFER_SIZE, 4, 65536);
  const pio = async (req: Uint8Array): Promise<Uint8Array> => {
    const words = new Uint8Array(Math.ceil(req.length / 4) * 4);
    words.set(req);
    const v = new DataView(words.buffer);
    await c.mmioWrite(CMD_STS, 2, PIO_ZERO);
    for (let o = 0; o < words.length; o += 4) await c.mmioWrite(PIO, 4, v.getUint32(o, true));
    assert.equal(Number(await c.mmioRead(CRC, 4)), crc32c(words));
    await c.mmioWrite(CMD_STS, 2, PIO_MM);
    assert.equal(await c.mmioRead(CMD_STS, 2), 0n);
    await c.mmioWrite(CMD_STS, 2, PIO_ZERO);
    for (let o = 0; o < words.length; o += 4) v.setUint32(o, Number(await c.mmioRead(PIO, 4)), true);
    return words.subarray(0, req.length);
  };
  assert.equal(replyStatus(await pio(setVariableRequest({ name: 'ViaPio', guid: TEST_GUID, attributes: NV_BS_RT, data: Uint8Array.of(7, 7) }))), EFI_SUCCESS);
  const got = await pio(getVariableRequest({ name: 'ViaPio', guid: TEST_GUID, dataSize: 2 }));
  assert.equal(replyStatus(got), EFI_SUCCESS);
  assert.deepEqual(replyData(got).data, Uint8Array.of(7, 7));
  assert.deepEqual(mem.log, []);
});

test('RESET is a device hard reset: volatile variables go, NV ones stay, registers return to zero', async (t) => {
  const d = await startDaemon(t);
  const mem = new RecordingMemory();
  const c = await DaemonClient.connect(d.socket, 'resettable', { memory: mem });
  t.after(() => c.close());
  await initDma(c);
  assert.equal(await setVar(c, 'Kept', Uint8Array.of(1), NV_BS_RT), EFI_SUCCESS);
  assert.equal(await setVar(c, 'Dropped', Uint8Array.of(2), 0x6), EFI_SUCCESS);
  await c.reset();
  assert.equal((await getVar(c, 'Kept')).status, EFI_SUCCESS);
  assert.equal((await getVar(c, 'Dropped')).status, EFI_NOT_FOUND);
  assert.equal(await c.mmioRead(BUFFER_SIZE, 4), 0n);
  assert.equal(await c.mmioRead(ADDR_HI, 4), 0n);
});

test('a VMM that does not answer MEM_READ in time loses its connection', async (t) => {
  const d = await startDaemon(t, { limits: { memoryTimeoutMs: 100 } });
  const s = await FrameSocket.connect(d.socket);
  t.after(() => s.destroy());
  s.send(encodeHello('slow'));
  assert.equal((await s.next())?.type, FrameType.HELLO_OK);
  s.send(encodeMmioWrite(BUFFER_SIZE, 4, 4096n));
  assert.equal((await s.next())?.type, FrameType.MMIO_WRITE_OK);
  s.send(encodeMmioWrite(CMD_STS, 2, BigInt(DMA_MM)));
  assert.equal((await s.next())?.type, FrameType.MEM_READ);
  const e = await s.next();
  assert.equal(e?.type, FrameType.ERROR);
  assert.equal(decodeError(e.payload).code, ErrorCode.TIMEOUT);
  await s.waitClosed();
  await d.logs.waitFor((l) => l.reason === 'memory-timeout');
});

test('MEM_DATA of a different length than asked for closes the connection', async (t) => {
  const d = await startDaemon(t);
  const s = await FrameSocket.connect(d.socket);
  t.after(() => s.destroy());
  s.send(encodeHello('liar'));
  assert.equal((await s.next())?.type, FrameType.HELLO_OK);
  s.send(encodeMmioWrite(BUFFER_SIZE, 4, 4096n));
  assert.equal((await s.next())?.type, FrameType.MMIO_WRITE_OK);
  s.send(encodeMmioWrite(CMD_STS, 2, BigInt(DMA_MM)));
  const r = await s.next();
  assert.equal(decodeMemRead(r!.payload).length, 24);
  s.send(encodeFrame(FrameType.MEM_DATA, new Uint8Array(4000)));
  const e = await s.next();
  assert.equal(decodeError(e!.payload).code, ErrorCode.MALFORMED_FRAME);
  await s.waitClosed();
});
