/**
 * The device in front of the real VariableService, driven like edk2 drives it,
 * against QEMU's recorded answers (../shared/traces/qemu-conformance): every
 * reply byte and every CMD_STS must match, including the requests QEMU refused
 * before capture (manifest `not_in_pcap`). Covers §8 items 2–4, 6–11 and 17
 * end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { VariableService } from '../../src/service/variable-service.js';
import { Edk2MmDriver } from '../../src/device/edk2-driver.js';
import { UefiVarsDevice } from '../../src/device/uefi-vars-device.js';
import { EfiStatus } from '../../src/wire/status.js';
import { RecordingMemory, SMM_VARIABLE_GUID, hex, mmRequest } from './helpers.js';

const TRACES = path.resolve(process.cwd(), '../shared/traces/qemu-conformance');

interface Line { seq: number; resets_before: number; request: string; response: string | null; dev_sts: number; transport: 'dma' | 'pio'; buffer_size: number }

function lines(name: string): Line[] {
  return readFileSync(path.join(TRACES, `${name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
}

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

async function machine(usePio: boolean) {
  const service = await VariableService.create();
  const memory = new RecordingMemory(0x1000000 + 0x10000);
  const device = new UefiVarsDevice(service, memory, { usePio });
  const driver = new Edk2MmDriver(device, memory);
  return { service, memory, device, driver };
}

async function replay(name: string, usePio: boolean): Promise<Awaited<ReturnType<typeof machine>>> {
  const m = await machine(usePio);
  for (const line of lines(name)) {
    for (let k = 0; k < line.resets_before; k++) await m.device.hardReset();
    if (line.resets_before > 0) assert.equal(await m.driver.init(), EfiStatus.SUCCESS);
    if (m.device.mmioRead(0x04, 4) !== line.buffer_size) await m.driver.setBufferSize(line.buffer_size);
    const opts = { bypassLocalChecks: true, readBackOnDeviceError: true };
    const res = line.transport === 'pio' ? await m.driver.sendPio(fromHex(line.request), opts) : await m.driver.sendDma(fromHex(line.request), opts);
    assert.equal(res.cmdSts, line.dev_sts, `${name} seq ${line.seq}: CMD_STS`);
    assert.equal(hex(res.reply!), line.response, `${name} seq ${line.seq}: reply`);
    if (line.transport === 'pio') assert.deepEqual([res.crcIn, res.crcOut], [true, true]);
  }
  return m;
}

test('pio-basic replays byte for byte through PIO (and its one DMA request) against the real service', async () => {
  await replay('pio-basic', true);
});

test('unknown-mm-guids replays byte for byte, and the uncaptured refusals give 0x12 with memory untouched', async () => {
  const m = await replay('unknown-mm-guids', false);
  const send = async (ml: bigint) => {
    const req = mmRequest(new Uint8Array(16), SMM_VARIABLE_GUID, ml);
    const res = await m.driver.sendDma(req, { bypassLocalChecks: true, readBackOnDeviceError: true });
    return { res, req };
  };
  for (const ml of [65513n, 1n << 63n, (1n << 64n) - 8n]) {
    const { res, req } = await send(ml);
    assert.equal(res.cmdSts, 0x12, `MessageLength ${ml}`);
    assert.deepEqual(res.reply, req);
  }
  await m.device.mmioWrite(0x02, 2, 1); // CMD RESET: no buffer any more
  const { res } = await send(16n);
  assert.equal(res.cmdSts, 0x12);
});

test('payload-size-buffers replays byte for byte while the buffer size changes between requests', async () => {
  await replay('payload-size-buffers', false);
});

test('through the device, GET_PAYLOAD_SIZE reports BUFFER_SIZE - 40 (65496 for 64 KiB)', async () => {
  const m = await machine(false);
  assert.equal(await m.driver.init(), EfiStatus.SUCCESS);
  const msg = new Uint8Array(24);
  msg[0] = 11; // GET_PAYLOAD_SIZE
  const res = await m.driver.send(mmRequest(msg));
  assert.equal(res.status, EfiStatus.SUCCESS);
  const v = new DataView(res.reply!.buffer, res.reply!.byteOffset);
  assert.equal(v.getBigUint64(24 + 8, true), 0n);
  assert.equal(v.getBigUint64(24 + 16, true), 65496n);
});
