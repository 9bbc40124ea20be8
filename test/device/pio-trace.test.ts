/**
 * Real bytes through the edk2 PIO path: every request QEMU captured in
 * ../shared/traces/qemu-conformance/pio-basic.pcap goes through the driver
 * model and the device to a handler that answers with QEMU's recorded reply.
 * Both CRC32C comparisons must pass, the handler must see the captured request
 * byte for byte, and the driver must hand back the captured reply byte for byte.
 * The pcap (spec §6.5) is parsed here by hand, independently of src/wire/pcap.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Edk2MmDriver } from '../../src/device/edk2-driver.js';
import { UefiVarsDevice } from '../../src/device/uefi-vars-device.js';
import { ArrayGuestMemory } from '../../src/device/guest-memory.js';
import { EfiStatus } from '../../src/wire/status.js';
import { FakeHandler, hex } from './helpers.js';

const TRACES = path.resolve(process.cwd(), '../shared/traces/qemu-conformance');

type Rec = { type: 1 } | { type: 2 | 3; bytes: Uint8Array };

/** Classic pcap: 24-byte global header, 16-byte record headers, u32 LE type prefix. */
function readPcap(file: string): Rec[] {
  const b = new Uint8Array(readFileSync(file));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  assert.equal(v.getUint32(0, true), 0xa1b2c3d4, 'pcap magic (little-endian, microseconds)');
  assert.equal(v.getUint32(20, true), 302, 'linktype EDK2_MM');
  const out: Rec[] = [];
  for (let off = 24; off < b.length;) {
    const incl = v.getUint32(off + 8, true);
    assert.equal(v.getUint32(off + 12, true), incl, 'no record cut by snaplen');
    const type = v.getUint32(off + 16, true);
    const bytes = b.slice(off + 20, off + 16 + incl);
    if (type === 1) out.push({ type: 1 });
    else if (type === 2 || type === 3) out.push({ type, bytes });
    else assert.fail(`record type ${type}`);
    off += 16 + incl;
  }
  return out;
}

interface Line { seq: number; resets_before: number; request: string; response: string; dev_sts: number; transport: 'dma' | 'pio'; buffer_size: number }

test('pio-basic.pcap replays through the edk2 PIO sequence with both CRC32C checks passing and bytes intact', async () => {
  const records = readPcap(path.join(TRACES, 'pio-basic.pcap'));
  const lines = readFileSync(path.join(TRACES, 'pio-basic.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);

  // Pair each request with its reply; count the hard resets before it.
  const exchanges: { resets: number; request: Uint8Array; reply: Uint8Array }[] = [];
  let resets = 0;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    if (rec.type === 1) { resets++; continue; }
    assert.equal(rec.type, 2, `record ${i} should be a request`);
    const next = records[++i];
    assert.ok(next && next.type === 3, `request at record ${i - 1} has its reply`);
    exchanges.push({ resets, request: rec.bytes, reply: next.bytes });
    resets = 0;
  }
  assert.equal(exchanges.length, lines.length);
  assert.equal(exchanges.length, 21);

  let expected = exchanges[0]!;
  let expectedStatus = 0;
  const handler = new FakeHandler(() => ({ deviceStatus: expectedStatus, reply: expected.reply.slice() }));
  const memory = new ArrayGuestMemory(0x1000000 + 0x10000);
  const device = new UefiVarsDevice(handler, memory, { usePio: true });
  const driver = new Edk2MmDriver(device, memory);

  let pioCount = 0;
  for (const [i, ex] of exchanges.entries()) {
    const line = lines[i]!;
    assert.equal(hex(ex.request), line.request, `seq ${i}: jsonl and pcap agree on the request`);
    for (let k = 0; k < ex.resets; k++) await device.hardReset();
    if (ex.resets > 0) assert.equal(await driver.init(), EfiStatus.SUCCESS);
    assert.equal(driver.usePio, true);
    expected = ex;
    expectedStatus = line.dev_sts;

    const before = handler.calls.length;
    const res = line.transport === 'pio'
      ? await driver.sendPio(ex.request, { readBackOnDeviceError: true })
      : await driver.sendDma(ex.request, { readBackOnDeviceError: true });
    assert.equal(handler.calls.length, before + 1, `seq ${i}: one request reached the handler`);
    assert.equal(hex(handler.calls.at(-1)!.bytes), hex(ex.request), `seq ${i}: the handler got the captured request`);
    assert.equal(handler.calls.at(-1)!.bufferSize, line.buffer_size);
    assert.equal(res.cmdSts, line.dev_sts, `seq ${i}: CMD_STS`);
    assert.equal(hex(res.reply!), hex(ex.reply), `seq ${i}: reply bytes`);
    if (line.transport === 'pio') {
      pioCount++;
      assert.deepEqual([res.crcIn, res.crcOut], [true, true], `seq ${i}: CRC32C in/out`);
    }
    assert.equal(res.status, line.dev_sts === 0 ? EfiStatus.SUCCESS : EfiStatus.UNSUPPORTED);
  }
  assert.equal(pioCount, 20);
  assert.equal(handler.resets, 1);
});
