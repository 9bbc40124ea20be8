import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { getPayloadSizeRequest } from '../../src/client/requests.js';
import {
  encodeHelloOk, FrameDecoder, FrameError, FrameType, MAX_FRAME_LENGTH,
  encodeHello, decodeHello, encodeMmRequest, decodeMmRequest, encodeMmReply, decodeMmReply,
  encodeMmioWrite, decodeMmioWrite, encodeMmioRead, decodeMmioRead, encodeMemRead, decodeMemRead,
  encodeMemWrite, decodeMemWrite, encodeError, decodeError, ErrorCode,
} from '../../src/daemon/protocol/frames.js';

function lengthPrefix(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

test('a frame is u32 LE length of type+payload, then the type byte, then the payload', () => {
  const f = encodeMmRequest(Uint8Array.of(0xaa, 0xbb), 0x10000);
  assert.deepEqual([...f], [7, 0, 0, 0, 0x02, 0x00, 0x00, 0x01, 0x00, 0xaa, 0xbb]);
});

test('the decoder reassembles frames fed one byte at a time and several frames in one chunk', () => {
  const a = encodeHello('vm-1');
  const b = encodeMmRequest(new Uint8Array(100).fill(7), 65536);
  const d = new FrameDecoder();
  const got = [];
  for (const byte of a) got.push(...d.push(Uint8Array.of(byte)));
  assert.equal(got.length, 1);
  assert.equal(decodeHello(got[0]!.payload).vmId, 'vm-1');
  const both = new Uint8Array(a.length + b.length);
  both.set(a); both.set(b, a.length);
  const two = d.push(both);
  assert.deepEqual(two.map((f) => f.type), [FrameType.HELLO, FrameType.MM_REQUEST]);
  assert.deepEqual(decodeMmRequest(two[1]!.payload).request, new Uint8Array(100).fill(7));
  assert.equal(d.pendingBytes, 0);
});

test('a length of 4 GiB is refused from its 4 bytes alone, before anything is allocated for it', () => {
  const d = new FrameDecoder();
  assert.throws(() => d.push(lengthPrefix(0xffffffff)), (e: unknown) => e instanceof FrameError && e.fault === 'frame-too-large');
  // Nothing of the claimed frame is held: the 4 length bytes were consumed and no body buffer exists.
  assert.equal(d.pendingBytes, 0);
});

test('the largest allowed length is accepted and one byte more is refused', () => {
  assert.doesNotThrow(() => new FrameDecoder().push(lengthPrefix(MAX_FRAME_LENGTH)));
  assert.throws(() => new FrameDecoder().push(lengthPrefix(MAX_FRAME_LENGTH + 1)), /exceeds the limit/);
});

test('a zero-length frame (no type byte) is refused', () => {
  assert.throws(() => new FrameDecoder().push(lengthPrefix(0)), (e: unknown) => e instanceof FrameError && e.fault === 'frame-empty');
});

test('payload decoders refuse sizes their type does not allow', () => {
  assert.throws(() => decodeHello(new Uint8Array(4)), /HELLO payload/);
  assert.throws(() => decodeHello(new Uint8Array(4 + 256)), /HELLO payload/);
  assert.throws(() => decodeMmRequest(new Uint8Array(3)), /MM_REQUEST/);
  assert.throws(() => decodeMmRequest(new Uint8Array(4 + 65537)), /more than a 65536-byte buffer/);
  assert.throws(() => decodeMmioWrite(new Uint8Array(15)), /MMIO_WRITE payload/);
  assert.throws(() => decodeMmioRead(encodeMmioRead(0, 3).subarray(5)), /size 3/);
  assert.throws(() => decodeMemRead(encodeMemRead(0n, 65537).subarray(5)), /at most 65536/);
  assert.throws(() => decodeMmReply(Uint8Array.of(0, 200, 1)), /reason length/);
});

test('every payload layout round-trips', () => {
  const body = (f: Uint8Array): Uint8Array => f.subarray(5);
  assert.deepEqual(decodeHello(body(encodeHello('a.b_c-9'))), { version: 1, flags: 0, vmId: 'a.b_c-9' });
  assert.deepEqual(decodeMmReply(body(encodeMmReply(0x12, undefined, 'no-buffer'))), { deviceStatus: 0x12, reason: 'no-buffer', reply: undefined });
  assert.deepEqual(decodeMmReply(body(encodeMmReply(0, Uint8Array.of(1, 2), undefined))), { deviceStatus: 0, reason: undefined, reply: Uint8Array.of(1, 2) });
  assert.deepEqual(decodeMmioWrite(body(encodeMmioWrite(2, 2, 0x1234567890abcdefn))), { offset: 2, size: 2, value: 0x1234567890abcdefn });
  assert.deepEqual(decodeMemRead(body(encodeMemRead(0xfffffffffffffff0n, 24))), { addr: 0xfffffffffffffff0n, length: 24 });
  assert.deepEqual(decodeMemWrite(body(encodeMemWrite(0x1000n, Uint8Array.of(9)))), { addr: 0x1000n, bytes: Uint8Array.of(9) });
  assert.deepEqual(decodeError(body(encodeError(ErrorCode.BUSY, false, 'retry'))), { code: 8, fatal: false, message: 'retry' });
});

test('the worked example in docs/protocol.md §9 shows the bytes the codec produces', () => {
  const doc = readFileSync(resolve(process.cwd(), 'docs/protocol.md'), 'utf8');
  const example = doc.slice(doc.indexOf('## 9. Worked example'), doc.indexOf('## 10.'));
  // Every fenced block's hex byte pairs, in order, as one string.
  const blocks = [...example.matchAll(/```\n([\s\S]*?)```/g)].map((m) => (m[1]!.match(/\b[0-9a-f]{2}\b/g) ?? []).join(''));
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  assert.equal(blocks[0], hex(encodeHello('vm1')));
  assert.equal(blocks[1], hex(encodeHelloOk()));
  assert.equal(blocks[2], hex(encodeMmRequest(getPayloadSizeRequest(), 65536)));
  const reply = getPayloadSizeRequest();
  new DataView(reply.buffer).setBigUint64(40, 65496n, true);
  assert.equal(blocks[3], hex(encodeMmReply(0, reply, undefined)));
  assert.ok(blocks[4]!.startsWith(hex(encodeMmioWrite(2, 2, 2n))));
});

test('a chunk holding exactly one frame is decoded in one step, as a view of exactly that frame', () => {
  const f = encodeMmRequest(Uint8Array.of(1, 2, 3), 4096);
  const chunk = new Uint8Array(f.length + 10).subarray(5, 5 + f.length);
  chunk.set(f);
  const got = new FrameDecoder().push(chunk);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.type, FrameType.MM_REQUEST);
  assert.deepEqual([...got[0]!.payload], [0x00, 0x10, 0x00, 0x00, 1, 2, 3]);
  assert.deepEqual(decodeMmRequest(got[0]!.payload), { bufferSize: 4096, request: Uint8Array.of(1, 2, 3) });
  // A single whole frame over the limit is still refused before anything is kept.
  const big = new Uint8Array(4 + 17);
  big.set(lengthPrefix(17));
  const d = new FrameDecoder(16);
  assert.throws(() => d.push(big), (e: unknown) => e instanceof FrameError && e.fault === 'frame-too-large');
  assert.equal(d.pendingBytes, 0);
});

test('a body that arrives after its length field is that frame, even when its first bytes look like a whole frame', () => {
  // Found by fuzzing (fuzz/corpus/frames/regress-split-header-*): the one-step path took such a body for a new frame.
  for (let bodyLength = 5; bodyLength <= 40; bodyLength += 7) {
    // Its type byte and first 3 payload bytes, read as a u32 LE length, say "the rest of this chunk".
    const body = new Uint8Array(bodyLength).fill(0x3f);
    body.set(lengthPrefix(bodyLength - 4));
    const d = new FrameDecoder();
    assert.deepEqual(d.push(lengthPrefix(bodyLength)), []);
    const got = d.push(body.slice());
    assert.equal(got.length, 1, `body of ${bodyLength}`);
    assert.equal(got[0]!.type, body[0]);
    assert.deepEqual([...got[0]!.payload], [...body.subarray(1)]);
    assert.equal(d.pendingBytes, 0);
  }
});

test('MM_REPLY bytes: length, type, device status, reason length, reason, reply buffer', () => {
  assert.deepEqual([...encodeMmReply(0x11, Uint8Array.of(9, 8), 'ab')], [7, 0, 0, 0, 0x82, 0x11, 2, 0x61, 0x62, 9, 8]);
  assert.deepEqual([...encodeMmReply(0, undefined, undefined)], [3, 0, 0, 0, 0x82, 0, 0]);
  const big = new Uint8Array(70000).fill(5);
  const f = encodeMmReply(0, big, undefined);
  assert.equal(f.length, 4 + 3 + 70000);
  assert.deepEqual([...f.subarray(0, 4)], [0x73, 0x11, 0x01, 0x00]); // 70003 = 0x011173
});
