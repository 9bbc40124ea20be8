/**
 * The daemon reads every connection into one shared buffer (src/daemon/protocol/read-buffer.ts).
 * These tests overwrite that memory between the pieces of a request, the way a
 * read on another connection does, and check nothing kept a view of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { FrameDecoder, FrameType, encodeHello, encodeMmRequest, decodeMmReply, decodeMmRequest } from '../../src/daemon/protocol/frames.js';
import { adoptWithSharedReads } from '../../src/daemon/protocol/read-buffer.js';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { setVariableRequest, getVariableRequest, replyStatus, replyData } from '../../src/client/requests.js';
import { startDaemon, tempDir, FrameSocket, sleep, http, TEST_GUID, NV_BS_RT, EFI_SUCCESS } from './helpers.js';

test('a chunk may be overwritten as soon as push() returns: the bytes held over were copied', () => {
  const first = encodeMmRequest(new Uint8Array(40).fill(1), 65536);
  const second = encodeMmRequest(new Uint8Array(300).fill(2), 65536);
  // Cut inside the second frame's length field, then inside its body.
  for (const cut of [first.length + 2, first.length + 100]) {
    const d = new FrameDecoder();
    const chunk = new Uint8Array(cut);
    chunk.set(first);
    chunk.set(second.subarray(0, cut - first.length), first.length);
    const early = d.push(chunk);
    assert.equal(early.length, 1);
    assert.deepEqual(decodeMmRequest(early[0]!.payload).request, new Uint8Array(40).fill(1));
    chunk.fill(0xee); // what the next read into a shared buffer does
    const late = d.push(second.slice(cut - first.length));
    assert.equal(late.length, 1, `cut at ${cut}`);
    assert.deepEqual(decodeMmRequest(late[0]!.payload).request, new Uint8Array(300).fill(2), `cut at ${cut}`);
  }
});

test('a request that arrives in pieces survives reads of other connections in between', async (t) => {
  const { socket } = await startDaemon(t);
  const a = await FrameSocket.connect(socket);
  t.after(() => a.destroy());
  a.send(encodeHello('vm-pieces'));
  assert.equal((await a.next())!.type, FrameType.HELLO_OK);
  const b = await DaemonClient.connect(socket, 'vm-other');
  t.after(() => b.close());

  const data = new Uint8Array(1500).map((_, i) => (i * 7) & 0xff);
  const frame = encodeMmRequest(setVariableRequest({ name: 'Pieces', guid: TEST_GUID, attributes: NV_BS_RT, data }), 65536);
  a.send(frame.subarray(0, 700));
  await sleep(50); // the daemon reads the first piece and holds it
  // Reads of another connection land in the same buffer meanwhile.
  for (let i = 0; i < 5; i++) {
    const r = await b.process(setVariableRequest({ name: `Noise${i}`, guid: TEST_GUID, attributes: NV_BS_RT, data: new Uint8Array(1200).fill(0xee) }), 65536);
    assert.equal(replyStatus(r.reply!), EFI_SUCCESS);
  }
  a.send(frame.subarray(700));
  const reply = await a.next();
  assert.equal(reply!.type, FrameType.MM_REPLY);
  assert.equal(replyStatus(decodeMmReply(reply!.payload).reply!), EFI_SUCCESS);

  const check = await DaemonClient.connect(socket, 'vm-pieces-check');
  t.after(() => check.close());
  a.destroy();
  await a.waitClosed();
  const again = await DaemonClient.connect(socket, 'vm-pieces');
  t.after(() => again.close());
  const got = await again.process(getVariableRequest({ name: 'Pieces', guid: TEST_GUID, dataSize: 4096 }), 65536);
  assert.equal(replyStatus(got.reply!), EFI_SUCCESS);
  assert.deepEqual(replyData(got.reply!).data, data);
});

test('a request that finishes later (a durable write) is counted under its own function and status', async (t) => {
  const { socket, api } = await startDaemon(t);
  const writer = await DaemonClient.connect(socket, 'vm-writer');
  const reader = await DaemonClient.connect(socket, 'vm-reader');
  t.after(async () => { await writer.close(); await reader.close(); });
  // The write waits for fsync; the reads arriving meanwhile overwrite the shared buffer.
  const write = writer.process(setVariableRequest({ name: 'Durable', guid: TEST_GUID, attributes: NV_BS_RT, data: Uint8Array.of(1, 2, 3) }), 65536);
  const reads = Array.from({ length: 20 }, () => reader.process(getVariableRequest({ name: 'Absent', guid: TEST_GUID, dataSize: 8 }), 65536));
  assert.equal(replyStatus((await write).reply!), EFI_SUCCESS);
  await Promise.all(reads.map(async (r) => r));
  const m = await http({ socketPath: api }, 'GET', '/metrics');
  assert.match(m.body, /uefi_vars_requests_total\{function="SET_VARIABLE",status="EFI_SUCCESS"\} 1\n/);
  assert.match(m.body, /uefi_vars_requests_total\{function="GET_VARIABLE",status="EFI_NOT_FOUND"\} 20\n/);
});

test('where the accepted handle is not what it expects, a connection still works with a buffer per read', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 's.sock');
  const got: Uint8Array[] = [];
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    const handle = (accepted as unknown as { _handle: Record<string, unknown> })._handle;
    handle.useUserBuffer = undefined; // as on a Node without it
    const s = adoptWithSharedReads(accepted, (c) => { got.push(c.slice()); s.write(c); });
    assert.equal(s, accepted);
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const c: Socket = createConnection(path);
  const echoed = await new Promise<Buffer>((resolve, reject) => {
    c.once('data', resolve);
    c.once('error', reject);
    c.write('ping');
  });
  c.destroy();
  assert.equal(echoed.toString(), 'ping');
  assert.equal(Buffer.concat(got).toString(), 'ping');
});

test('a DaemonClient answer the caller keeps is its own: later reads into the shared buffer leave it as it was', async (t) => {
  const { socket } = await startDaemon(t);
  const c = await DaemonClient.connect(socket, 'vm-keep');
  t.after(() => c.close());
  const data = new Uint8Array(600).map((_, i) => (i * 13) & 0xff);
  assert.equal(replyStatus((await c.process(setVariableRequest({ name: 'Kept', guid: TEST_GUID, attributes: NV_BS_RT, data }), 65536)).reply!), EFI_SUCCESS);
  const kept = await c.process(getVariableRequest({ name: 'Kept', guid: TEST_GUID, dataSize: 4096 }), 65536);
  const copy = kept.reply!.slice();
  for (let i = 0; i < 5; i++) await c.process(getVariableRequest({ name: 'Absent', guid: TEST_GUID, dataSize: 4096 }), 65536);
  assert.deepEqual(kept.reply, copy);
  assert.deepEqual(replyData(kept.reply!).data, data);
});
