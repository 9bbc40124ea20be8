/**
 * Register behaviour of the device (spec §1.2–§1.4, §1.6, §1.7; §8 items 1–3,
 * 5, 11–14): what each access reads and does, including QEMU's decoding quirks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../src/wire/crc32c.js';
import { pioDump, pioFill, rig, setupDma, status } from './helpers.js';

const words = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 1) & 0xff);

test('§8.1: MAGIC reads 0x0EF1 for a 16-bit and for a 32-bit read at 0x00', () => {
  const { device } = rig();
  assert.equal(device.mmioRead(0x00, 2), 0x0ef1);
  assert.equal(device.mmioRead(0x00, 4), 0x00000ef1);
});

test('the 32-bit MAGIC read does not carry CMD_STS in its upper half', async () => {
  const { device } = rig();
  await device.mmioWrite(0x02, 2, 0x55); // CMD_STS := 0x11
  assert.equal(status(device), 0x11);
  assert.equal(device.mmioRead(0x00, 4), 0x0ef1);
});

test('§8.2: FLAGS reads 0 by default and 1 (USE_PIO) with usePio; writes to FLAGS and MAGIC change nothing', async () => {
  const plain = rig().device;
  const pio = rig({ usePio: true }).device;
  assert.equal(plain.mmioRead(0x1c, 4), 0);
  assert.equal(pio.mmioRead(0x1c, 4), 1);
  await pio.mmioWrite(0x1c, 4, 0);
  await pio.mmioWrite(0x00, 2, 0x1234);
  assert.equal(pio.mmioRead(0x1c, 4), 1);
  assert.equal(pio.mmioRead(0x00, 2), 0x0ef1);
});

test('§8.3: a BUFFER_SIZE write of 0x100000 reads back as 0x10000 (clamped to 64 KiB)', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 0x100000);
  assert.equal(device.mmioRead(0x04, 4), 0x10000);
  await device.mmioWrite(0x04, 4, 0xffffffff);
  assert.equal(device.mmioRead(0x04, 4), 0x10000);
  await device.mmioWrite(0x04, 4, 4096);
  assert.equal(device.mmioRead(0x04, 4), 4096);
});

test('a 16-bit write at 0x04 sets BUFFER_SIZE to that value, a 16-bit read returns its low half', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 2, 0x1234);
  assert.equal(device.mmioRead(0x04, 4), 0x1234);
  await device.mmioWrite(0x04, 4, 0x10000);
  assert.equal(device.mmioRead(0x04, 2), 0x0000);
});

test('§8.5: an unknown command sets CMD_STS to 0x11; a known one sets it back to 0', async () => {
  const { device } = rig();
  for (const cmd of [0x55, 0x00, 0x05, 0xffff, 0x0102]) {
    await device.mmioWrite(0x02, 2, 0x04);
    assert.equal(status(device), 0);
    await device.mmioWrite(0x02, 2, cmd);
    assert.equal(status(device), 0x11, `command 0x${cmd.toString(16)}`);
  }
});

test('reading CMD_STS does not clear it', async () => {
  const { device } = rig();
  await device.mmioWrite(0x02, 2, 0x55);
  assert.equal(status(device), 0x11);
  assert.equal(status(device), 0x11);
});

test('a 1-byte write to CMD_STS is widened and executes the command', async () => {
  const { device } = rig();
  await device.mmioWrite(0x02, 1, 0x55);
  assert.equal(status(device), 0x11);
  await device.mmioWrite(0x02, 1, 0x04);
  assert.equal(status(device), 0);
});

test('unknown offsets read all ones of the access size and ignore writes', async () => {
  const { device } = rig();
  for (const off of [0x06, 0x0a, 0x0e, 0x12, 0x14, 0x16, 0x1a, 0x1e]) assert.equal(device.mmioRead(off, 2), 0xffff, `0x${off.toString(16)}`);
  assert.equal(device.mmioRead(0x14, 4), 0xffffffff);
  assert.equal(device.mmioRead(0x01, 1), 0xff);
  assert.equal(device.mmioRead(0x03, 1), 0xff);
  assert.equal(device.mmioRead(0x20, 4), 0xffffffff); // past the 0x20 window
  assert.equal(device.mmioRead(0x1000, 2), 0xffff);
  await device.mmioWrite(0x06, 2, 0x1000);
  await device.mmioWrite(0x14, 4, 0x1000);
  await device.mmioWrite(0x20, 4, 0x1000);
  assert.equal(device.mmioRead(0x04, 4), 0);
  assert.equal(device.saveState().pioBuffer.length, 0, 'no write reached BUFFER_SIZE');
});

test('unaligned accesses are refused: reads give all ones, writes do nothing', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 256);
  assert.equal(device.mmioRead(0x02, 4), 0xffffffff); // would straddle CMD_STS and BUFFER_SIZE
  assert.equal(device.mmioRead(0x01, 2), 0xffff);
  assert.equal(device.mmioRead(0x04, 8), 0xffffffffffffffffn);
  await device.mmioWrite(0x06, 4, 0x20); // not BUFFER_SIZE's upper half
  await device.mmioWrite(0x02, 4, 0x00010001); // not a RESET
  await device.mmioWrite(0x05, 1, 0x20);
  assert.equal(device.mmioRead(0x04, 4), 256);
  assert.equal(status(device), 0);
});

test('a 1-byte read at 0x00 returns the low byte of MAGIC', () => {
  const { device } = rig();
  assert.equal(device.mmioRead(0x00, 1), 0xf1);
});

test('8-byte accesses are two 4-byte accesses: 0x00 reads MAGIC and BUFFER_SIZE, 0x08 writes both address halves', async () => {
  const { device } = rig();
  await device.mmioWrite(0x08, 8, 0x1122334455667788n);
  assert.equal(device.mmioRead(0x08, 4), 0x55667788);
  assert.equal(device.mmioRead(0x0c, 4), 0x11223344);
  assert.equal(device.mmioRead(0x08, 8), 0x1122334455667788n);
  await device.mmioWrite(0x00, 8, 0x0000100000000000n); // high half lands on BUFFER_SIZE
  assert.equal(device.mmioRead(0x04, 4), 0x1000);
  assert.equal(device.mmioRead(0x00, 8), 0x0000100000000ef1n);
  assert.equal(device.mmioRead(0x18, 8), 0x0000000000000000n); // CRC 0 (offset 0), FLAGS 0
});

test('DMA address registers store what was written: 32-bit values, 16-bit writes replace the whole register', async () => {
  const { device } = rig();
  await device.mmioWrite(0x08, 4, 0xdeadbeef);
  await device.mmioWrite(0x0c, 4, 0x00000001);
  assert.equal(device.mmioRead(0x08, 4), 0xdeadbeef);
  assert.equal(device.mmioRead(0x0c, 4), 1);
  assert.equal(device.mmioRead(0x08, 2), 0xbeef);
  await device.mmioWrite(0x08, 2, 0x1234);
  assert.equal(device.mmioRead(0x08, 4), 0x1234);
});

test('write values are truncated to the access size, negative numbers as two\'s complement', async () => {
  const { device } = rig();
  await device.mmioWrite(0x08, 4, -1);
  assert.equal(device.mmioRead(0x08, 4), 0xffffffff);
  await device.mmioWrite(0x08, 2, 0x12345678);
  assert.equal(device.mmioRead(0x08, 4), 0x5678);
  await device.mmioWrite(0x0c, 4, 0x1_0000_0005);
  assert.equal(device.mmioRead(0x0c, 4), 5);
});

test('access sizes other than 1, 2, 4, 8 and non-integer values are embedder errors (RangeError)', () => {
  const { device } = rig();
  assert.throws(() => device.mmioRead(0, 3 as 2), RangeError);
  assert.throws(() => device.mmioWrite(8, 4, 1.5), RangeError);
});

test('§8.11: after ZERO_OFFSET and 12 32-bit writes the CRC32C register equals CRC-32C of the 48 bytes', async () => {
  const { device } = rig({ usePio: true });
  await device.mmioWrite(0x04, 4, 65536);
  const data = words(48);
  await pioFill(device, data);
  assert.equal(device.mmioRead(0x18, 4), crc32c(data));
  assert.notEqual(crc32c(data), 0);
});

test('the CRC covers [0, offset): it follows the transfer offset, not the buffer size', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 64);
  const data = words(12);
  await pioFill(device, data);
  assert.equal(device.mmioRead(0x18, 4), crc32c(data));
  await device.mmioWrite(0x02, 2, 4);
  assert.equal(device.mmioRead(0x18, 4), 0);
  device.mmioRead(0x10, 4);
  assert.equal(device.mmioRead(0x18, 4), crc32c(data.subarray(0, 4)));
});

test('§8.12: a PIO write past buf_size is dropped and does not advance; a read past it returns 0', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 8);
  await device.mmioWrite(0x02, 2, 4);
  await device.mmioWrite(0x10, 2, 0xbbaa); // offset 2
  await device.mmioWrite(0x10, 4, 0x44332211); // offset 6
  await device.mmioWrite(0x10, 4, 0xeeeeeeee); // 6 + 4 > 8: dropped
  assert.equal(device.mmioRead(0x18, 4), crc32c(Uint8Array.from([0xaa, 0xbb, 0x11, 0x22, 0x33, 0x44])));
  await device.mmioWrite(0x10, 2, 0x6655); // still fits at offset 6
  assert.equal(device.mmioRead(0x18, 4), crc32c(Uint8Array.from([0xaa, 0xbb, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66])));
  await device.mmioWrite(0x02, 2, 4);
  assert.equal(device.mmioRead(0x10, 4), 0x2211bbaa);
  assert.equal(device.mmioRead(0x10, 2), 0x4433);
  assert.equal(device.mmioRead(0x10, 4), 0); // 6 + 4 > 8
  assert.equal(device.mmioRead(0x10, 2), 0x6655); // the failed read did not move the offset
  assert.equal(device.mmioRead(0x10, 2), 0);
});

test('§8.13: CMD RESET zeroes BUFFER_SIZE, both ADDR registers and CMD_STS but keeps the PIO offset', async () => {
  const { device } = rig();
  await setupDma(device, 64, 0x1234_5678_9abc_def0n);
  await pioFill(device, words(8)); // offset 8
  await device.mmioWrite(0x02, 2, 0x55);
  assert.equal(status(device), 0x11);
  await device.mmioWrite(0x02, 2, 1);
  assert.equal(device.mmioRead(0x04, 4), 0);
  assert.equal(device.mmioRead(0x08, 4), 0);
  assert.equal(device.mmioRead(0x0c, 4), 0);
  assert.equal(status(device), 0);
  assert.equal(device.mmioRead(0x18, 4), 0, 'offset 8 > buf_size 0: CRC 0');
  assert.equal(device.saveState().pioOffset, 8);
  await device.mmioWrite(0x04, 4, 64); // fresh zero buffer, offset still 8
  assert.equal(device.mmioRead(0x18, 4), crc32c(new Uint8Array(8)));
});

test('CMD RESET keeps the PIO buffer contents (spec §1.3)', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 16);
  await pioFill(device, words(16));
  await device.mmioWrite(0x02, 2, 1);
  assert.deepEqual([...device.saveState().pioBuffer], [...words(16)]);
});

test('§8.14: a 16-bit PIO access moves 2 bytes, an 8-bit one also 2, an 8-byte one only 4', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 64);
  await device.mmioWrite(0x02, 2, 4);
  await device.mmioWrite(0x10, 2, 0xbbaa);
  assert.equal(device.saveState().pioOffset, 2);
  await device.mmioWrite(0x10, 1, 0xcc);
  assert.equal(device.saveState().pioOffset, 4);
  await device.mmioWrite(0x10, 8, 0x1122334455667788n);
  assert.equal(device.saveState().pioOffset, 8);
  const expected = Uint8Array.from([0xaa, 0xbb, 0xcc, 0x00, 0x88, 0x77, 0x66, 0x55]);
  assert.equal(device.mmioRead(0x18, 4), crc32c(expected));

  await device.mmioWrite(0x02, 2, 4);
  assert.equal(device.mmioRead(0x10, 1), 0xaa); // low byte of a 2-byte move
  assert.equal(device.mmioRead(0x10, 2), 0x00cc);
  assert.equal(device.mmioRead(0x10, 8), 0xffffffff55667788n); // second half hits unknown 0x14
  assert.equal(device.saveState().pioOffset, 8);
});

test('a BUFFER_SIZE write re-allocates the PIO buffer zero-filled: no earlier bytes can be read back (CVE-2025-8860)', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 64);
  await pioFill(device, words(64));
  await device.mmioWrite(0x04, 4, 64);
  assert.deepEqual([...(await pioDump(device, 64))], new Array(64).fill(0));
});

test('after shrinking the buffer below the transfer offset the CRC reads 0, not a stale over-read', async () => {
  const { device } = rig();
  await device.mmioWrite(0x04, 4, 64);
  await pioFill(device, words(48));
  await device.mmioWrite(0x04, 4, 32);
  assert.equal(device.mmioRead(0x18, 4), 0);
  await device.mmioWrite(0x04, 4, 48); // offset 48 fits again: CRC of the fresh zeros
  assert.equal(device.mmioRead(0x18, 4), crc32c(new Uint8Array(48)));
});

test('hard reset: soft reset plus handler.reset(); CMD_STS, PIO offset and PIO buffer survive', async () => {
  const r = rig();
  const { device } = r;
  await setupDma(device, 64, 0x9000n);
  await pioFill(device, words(12));
  await device.mmioWrite(0x02, 2, 0x55);
  await device.hardReset();
  assert.equal(r.handler.resets, 1);
  assert.equal(status(device), 0x11, 'status register is not cleared by machine reset');
  assert.equal(device.mmioRead(0x04, 4), 0);
  assert.equal(device.mmioRead(0x08, 4), 0);
  const s = device.saveState();
  assert.equal(s.pioOffset, 12);
  assert.deepEqual([...s.pioBuffer.subarray(0, 12)], [...words(12)]);
});

test('a failing handler reset rejects hardReset and leaves the device usable', async () => {
  const r = rig();
  r.handler.reset = async () => { throw new Error('store offline'); };
  await assert.rejects(r.device.hardReset(), /store offline/);
  assert.equal(r.device.busy, false);
  await r.device.mmioWrite(0x02, 2, 0x55);
  assert.equal(status(r.device), 0x11);
});

test('saveState/loadState carry the registers and PIO buffer; inconsistent states are refused', async () => {
  const a = rig().device;
  await setupDma(a, 32, 0x1_0000_2000n);
  await pioFill(a, words(8));
  await a.mmioWrite(0x02, 2, 0x55);
  const b = rig().device;
  b.loadState(a.saveState());
  assert.equal(status(b), 0x11);
  for (const off of [0x04, 0x08, 0x0c, 0x18]) assert.equal(b.mmioRead(off, 4), a.mmioRead(off, 4));
  assert.equal(b.mmioRead(0x0c, 4), 1);
  const s = a.saveState();
  assert.throws(() => b.loadState({ ...s, bufferSize: 16 }), RangeError);
  assert.throws(() => b.loadState({ ...s, pioBuffer: new Uint8Array(65537), bufferSize: 0 }), RangeError);
  assert.throws(() => b.loadState({ ...s, status: 0x10000 }), RangeError);
});
