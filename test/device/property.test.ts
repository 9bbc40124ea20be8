/**
 * Random register traffic from a hostile guest (fast-check): whatever sequence
 * of reads and writes, of any size, at any offset, with any value, the device
 * never throws, its promises never reject, and guest memory is only ever
 * written by a DMA_MM, inside [addr, addr + BUFFER_SIZE) as they stood when the
 * command was written — even with a handler that misbehaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AccessSize } from '../../src/device/registers.js';
import { UefiVarsDevice } from '../../src/device/uefi-vars-device.js';
import { crc32c } from '../../src/wire/crc32c.js';
import { FakeHandler, RecordingMemory, mmRequest } from './helpers.js';

type Op =
  | { kind: 'read'; offset: number; size: AccessSize }
  | { kind: 'write'; offset: number; size: AccessSize; value: number | bigint }
  | { kind: 'poke'; at: number; byte: number }
  | { kind: 'hardReset' };

const RAM = 0x40000;
/** Addresses where the test plants plausible MM headers, so DMA_MM gets past the size check. */
const PLANTED = [0x0, 0x1000, 0x8000, 0x3ffe8];

const size = fc.constantFrom<AccessSize>(1, 2, 4, 8);
const offset = fc.oneof(fc.integer({ min: 0, max: 0x24 }), fc.constantFrom(0x02, 0x04, 0x08, 0x0c, 0x10, 0x18));
const anyWrite: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('write' as const), offset, size,
  value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
}).map((w) => (w.size === 8 ? { ...w, value: BigInt(w.value) } : { ...w, value: Number(BigInt.asUintN(32, BigInt(w.value))) }));
/** The accesses a driver makes, so that sequences often get as far as a dispatched request. */
const driverLike: fc.Arbitrary<Op> = fc.oneof(
  fc.constantFrom(1, 2, 3, 4, 0x55).chain((cmd) => fc.constantFrom<Op>(
    { kind: 'write', offset: 0x02, size: 2, value: cmd },
    { kind: 'write', offset: 0x02, size: 1, value: cmd },
  )),
  fc.constantFrom(0, 23, 24, 48, 4096, 65536, 0x100000).map<Op>((v) => ({ kind: 'write', offset: 0x04, size: 4, value: v })),
  fc.constantFrom(...PLANTED, RAM - 8, 0xfffffff0).map<Op>((v) => ({ kind: 'write', offset: 0x08, size: 4, value: v })),
  fc.constantFrom(0, 1).map<Op>((v) => ({ kind: 'write', offset: 0x0c, size: 4, value: v })),
  fc.integer({ min: 0, max: 0xffffffff }).map<Op>((v) => ({ kind: 'write', offset: 0x10, size: 4, value: v })),
);
const single: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), offset, size }) },
  { weight: 3, arbitrary: anyWrite },
  { weight: 5, arbitrary: driverLike },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('poke' as const), at: fc.integer({ min: 0, max: RAM - 1 }), byte: fc.integer({ min: 0, max: 255 }) }) },
);
const w = (offset: number, value: number, sz: AccessSize = 4): Op => ({ kind: 'write', offset, size: sz, value });
/** A whole DMA request as a driver issues it, with a size and an address that may or may not fit. */
const dmaRequest: fc.Arbitrary<Op[]> = fc.record({
  bufSize: fc.constantFrom(24, 48, 4096, 65536, 0x100000),
  addr: fc.oneof(fc.constantFrom(...PLANTED), fc.integer({ min: 0, max: RAM })),
}).map(({ bufSize, addr }) => [w(0x04, bufSize), w(0x08, addr), w(0x0c, 0), w(0x02, 2, 2)]);
/** A PIO request: header and body words of random content, then PIO_MM. */
const pioRequest: fc.Arbitrary<Op[]> = fc.record({
  bufSize: fc.constantFrom(24, 64, 4096),
  ml: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.nat()),
  body: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 24 }),
}).map(({ bufSize, ml, body }) => [
  w(0x04, bufSize), w(0x02, 4, 2),
  ...[0, 0, 0, 0].map((v) => w(0x10, v)), w(0x10, ml), w(0x10, 0),
  ...body.map((v) => w(0x10, v)),
  w(0x02, 3, 2),
]);
const chunk: fc.Arbitrary<Op[]> = fc.oneof(
  { weight: 8, arbitrary: single.map((o) => [o]) },
  { weight: 2, arbitrary: dmaRequest },
  { weight: 1, arbitrary: pioRequest },
  { weight: 1, arbitrary: fc.constant<Op[]>([{ kind: 'hardReset' }]) },
);
const ops: fc.Arbitrary<Op[]> = fc.array(chunk, { maxLength: 40, size: 'max' }).map((cs) => cs.flat());

/** Echoes, and sometimes misbehaves: oversize replies, no reply, odd statuses, throws. */
function unruly(seed: number): FakeHandler {
  let n = seed;
  return new FakeHandler((req) => {
    n = (n * 1103515245 + 12345) >>> 0;
    switch (n % 6) {
      case 0: return { deviceStatus: 0, reply: new Uint8Array(req.length + 1 + (n % 4096)).fill(0xee) };
      case 1: return { deviceStatus: 0x12, reply: undefined };
      case 2: throw new Error('handler failure');
      case 3: return { deviceStatus: 0x11, reply: req.slice(0, req.length >> 1) };
      default: return { deviceStatus: 0, reply: req.slice().fill(0xab, 24) };
    }
  });
}

test('random register access sequences never throw and never write guest memory outside [addr, addr + buf_size)', async () => {
  let writtenBack = 0;
  await fc.assert(
    fc.asyncProperty(ops, fc.nat(), fc.boolean(), async (sequence, seed, usePio) => {
      const memory = new RecordingMemory(RAM);
      for (const [i, at] of PLANTED.entries()) memory.write(BigInt(at), mmRequest([0, 8, 40, 4000][i]!).subarray(0, RAM - at));
      memory.log.length = 0;
      const handler = unruly(seed);
      const device = new UefiVarsDevice(handler, memory, { usePio, onError: () => undefined });

      for (const o of sequence) {
        if (o.kind === 'read') {
          const v = device.mmioRead(o.offset, o.size);
          assert.equal(typeof v, o.size === 8 ? 'bigint' : 'number');
          if (typeof v === 'number') assert.ok(v >= 0 && v < 2 ** (8 * o.size));
          continue;
        }
        if (o.kind === 'poke') { memory.bytes[o.at] = o.byte; continue; }
        if (o.kind === 'hardReset') { await device.hardReset(); continue; }

        // What the window must be if this write starts a DMA_MM: the registers right now.
        const addr = (BigInt(device.mmioRead(0x0c, 4)) << 32n) | BigInt(device.mmioRead(0x08, 4));
        const bufSize = device.mmioRead(0x04, 4);
        const isDmaMm = (o.offset === 0x02 && (o.size === 2 || o.size === 1) && (Number(o.value) & (o.size === 1 ? 0xff : 0xffff)) === 2);
        memory.log.length = 0;
        const callsBefore = handler.calls.length;
        await device.mmioWrite(o.offset, o.size, o.value);
        assert.equal(device.busy, false);
        const writes = memory.writes();
        if (!isDmaMm) {
          assert.deepEqual(memory.log, [], 'only DMA_MM touches guest memory');
          continue;
        }
        assert.ok(writes.length <= 1);
        writtenBack += writes.length;
        for (const w of writes) {
          assert.ok(w.addr >= addr && w.addr + BigInt(w.length) <= addr + BigInt(bufSize), `write [${w.addr}, +${w.length}) outside [${addr}, +${bufSize})`);
          assert.equal(handler.calls.length, callsBefore + 1, 'a write-back only follows a dispatched request');
          assert.equal(w.addr, addr);
          assert.ok(w.length <= handler.calls.at(-1)!.bytes.length, 'never more than the request that was checked');
        }
        for (const r of memory.reads()) {
          assert.ok(r.addr >= addr && r.addr + BigInt(r.length) <= addr + BigInt(bufSize), `read [${r.addr}, +${r.length}) outside the buffer`);
        }
        const sts = device.mmioRead(0x02, 2);
        assert.ok([0x00, 0x10, 0x11, 0x12].includes(sts), `CMD_STS 0x${sts.toString(16)}`);
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(writtenBack > 50, `the runs reached the write-back path ${writtenBack} times`);
});

test('random PIO traffic only ever moves the transfer offset inside the buffer, and the CRC covers [0, offset)', async () => {
  await fc.assert(
    fc.asyncProperty(ops, async (sequence) => {
      const device = new UefiVarsDevice(new FakeHandler(), new RecordingMemory(16), { usePio: true });
      for (const o of sequence) {
        const before = device.saveState().pioOffset;
        if (o.kind === 'read') device.mmioRead(o.offset, o.size);
        else if (o.kind === 'write') await device.mmioWrite(o.offset, o.size, o.value);
        else if (o.kind === 'hardReset') await device.hardReset();
        const s = device.saveState();
        assert.ok(s.bufferSize === 0 || s.bufferSize === s.pioBuffer.length);
        assert.ok(s.bufferSize <= 65536 && s.pioOffset <= 65536);
        if (s.pioOffset !== before && s.pioOffset !== 0) {
          assert.ok(s.pioOffset > before && s.pioOffset - before <= 4, 'a transfer moves 2 or 4 bytes forward');
          assert.ok(s.pioOffset <= s.bufferSize, 'and only within the buffer');
        }
        const crc = device.mmioRead(0x18, 4);
        assert.equal(crc, s.pioOffset > s.bufferSize ? 0 : crc32c(s.pioBuffer.subarray(0, s.pioOffset)));
      }
    }),
    { numRuns: 200 },
  );
});
