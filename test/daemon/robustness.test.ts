import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { DaemonClient, DaemonError } from '../../src/daemon/protocol/vmm-client.js';
import {
  ErrorCode, FrameType, encodeHello, encodeFrame, encodeMmRequest, encodeMmioWrite, decodeError, decodeMemRead,
} from '../../src/daemon/protocol/frames.js';
import { setVariableRequest } from '../../src/client/requests.js';
import { startDaemon, setVar, getVar, FrameSocket, EFI_SUCCESS, sleep, TEST_GUID, NV_BS_RT } from './helpers.js';

/** A bystander VM connection that must keep working whatever the others do. */
async function bystander(t: { after(fn: () => Promise<void>): void }, socket: string): Promise<DaemonClient> {
  const c = await DaemonClient.connect(socket, 'bystander');
  t.after(() => c.close());
  assert.equal(await setVar(c, 'Before', Uint8Array.of(1)), EFI_SUCCESS);
  return c;
}

async function stillServing(c: DaemonClient, socket: string): Promise<void> {
  assert.equal(await setVar(c, 'After', Uint8Array.of(2)), EFI_SUCCESS);
  assert.deepEqual((await getVar(c, 'Before')).data, Uint8Array.of(1));
  const fresh = await DaemonClient.connect(socket, 'newcomer');
  assert.equal(await setVar(fresh, 'Hi', Uint8Array.of(3)), EFI_SUCCESS);
  await fresh.close();
}

async function expectFatal(s: FrameSocket, code: number): Promise<void> {
  const f = await s.next();
  assert.equal(f?.type, FrameType.ERROR, 'an ERROR frame says why');
  const e = decodeError(f.payload);
  assert.equal(e.code, code, e.message);
  assert.equal(e.fatal, true);
  await s.waitClosed();
}

test('a garbage frame closes only its own connection, with the reason logged', async (t) => {
  const d = await startDaemon(t);
  const ok = await bystander(t, d.socket);
  const s = await FrameSocket.connect(d.socket);
  s.send(Uint8Array.from([0x05, 0, 0, 0, 0x42, 0xde, 0xad, 0xbe, 0xef]));
  await expectFatal(s, ErrorCode.HELLO_REQUIRED);
  await d.logs.waitFor((l) => l.msg === 'closing connection' && l.reason === 'hello-required');
  await stillServing(ok, d.socket);
});

test('a frame claiming 4 GiB is refused from its length field and closes only that connection', async (t) => {
  const d = await startDaemon(t);
  const ok = await bystander(t, d.socket);
  const s = await FrameSocket.connect(d.socket);
  s.send(encodeHello('greedy'));
  assert.equal((await s.next())?.type, FrameType.HELLO_OK);
  const before = process.memoryUsage().arrayBuffers;
  s.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, FrameType.MM_REQUEST]));
  await expectFatal(s, ErrorCode.FRAME_TOO_LARGE);
  // Nothing near the claimed size was ever allocated.
  assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
  await d.logs.waitFor((l) => l.reason === 'frame-too-large');
  await stillServing(ok, d.socket);
});

test('a client that disconnects in the middle of a frame or of a request disturbs nobody', async (t) => {
  const d = await startDaemon(t);
  const ok = await bystander(t, d.socket);
  const sameVm = await DaemonClient.connect(d.socket, 'quitter');
  t.after(() => sameVm.close());

  // Half a frame, then gone.
  const half = await FrameSocket.connect(d.socket);
  half.send(encodeHello('quitter'));
  assert.equal((await half.next())?.type, FrameType.HELLO_OK);
  const frame = encodeMmRequest(setVariableRequest({ name: 'Half', guid: TEST_GUID, attributes: NV_BS_RT, data: new Uint8Array(2000) }), 65536);
  half.send(frame.subarray(0, 1000));
  await sleep(20);
  half.destroy();

  // A whole request, then gone before the reply.
  const gone = await FrameSocket.connect(d.socket);
  gone.send(encodeHello('quitter'));
  assert.equal((await gone.next())?.type, FrameType.HELLO_OK);
  gone.send(encodeMmRequest(setVariableRequest({ name: 'Gone', guid: TEST_GUID, attributes: NV_BS_RT, data: Uint8Array.of(9) }), 65536));
  gone.destroy();

  await d.logs.waitFor((l) => l.msg === 'connection closed' && l.reason === 'peer-closed' && l.vm === 'quitter');
  // The same VM keeps serving its other connection, and the half frame never became a variable.
  assert.equal(await setVar(sameVm, 'Next', Uint8Array.of(4)), EFI_SUCCESS);
  assert.equal((await getVar(sameVm, 'Half')).status !== EFI_SUCCESS, true);
  await stillServing(ok, d.socket);
});

test('a VMM that vanishes while the daemon waits for guest memory frees its VM for the next connection', async (t) => {
  const d = await startDaemon(t);
  const s = await FrameSocket.connect(d.socket);
  s.send(encodeHello('raw-vm'));
  assert.equal((await s.next())?.type, FrameType.HELLO_OK);
  s.send(encodeMmioWrite(0x04, 4, 65536n)); // BUFFER_SIZE
  assert.equal((await s.next())?.type, FrameType.MMIO_WRITE_OK);
  s.send(encodeMmioWrite(0x02, 2, 2n)); // DMA_MM
  const memRead = await s.next();
  assert.equal(memRead?.type, FrameType.MEM_READ);
  assert.deepEqual(decodeMemRead(memRead.payload), { addr: 0n, length: 24 });
  s.destroy();
  const next = await DaemonClient.connect(d.socket, 'raw-vm');
  t.after(() => next.close());
  assert.equal(await next.mmioRead(0, 2), 0x0ef1n);
  assert.equal(await setVar(next, 'Alive', Uint8Array.of(1)), EFI_SUCCESS);
});

test('a request sent while another is in flight on the same connection closes that connection', async (t) => {
  const d = await startDaemon(t);
  const s = await FrameSocket.connect(d.socket);
  s.send(encodeHello('pipeliner'));
  assert.equal((await s.next())?.type, FrameType.HELLO_OK);
  const req = encodeMmRequest(setVariableRequest({ name: 'P', guid: TEST_GUID, attributes: NV_BS_RT, data: Uint8Array.of(1) }), 65536);
  const two = new Uint8Array(req.length * 2);
  two.set(req); two.set(req, req.length);
  s.send(two);
  await expectFatal(s, ErrorCode.UNEXPECTED_FRAME);
  await d.logs.waitFor((l) => l.reason === 'unexpected-frame');
});

test('an unknown frame type, a wrong-size payload, a frame before HELLO_OK and a wrong protocol version each close the connection', async (t) => {
  const d = await startDaemon(t);
  const cases: [string, Uint8Array[], number][] = [
    ['unknown type', [encodeHello('v'), encodeFrame(0x7e)], ErrorCode.UNEXPECTED_FRAME],
    ['short MMIO_READ', [encodeHello('v'), encodeFrame(FrameType.MMIO_READ, Uint8Array.of(1, 2, 3))], ErrorCode.MALFORMED_FRAME],
    ['version 2', [encodeHello('v', 2)], ErrorCode.UNSUPPORTED_VERSION],
    ['length 0', [Uint8Array.of(0, 0, 0, 0)], ErrorCode.MALFORMED_FRAME],
  ];
  for (const [what, [first, second], code] of cases) {
    const s = await FrameSocket.connect(d.socket);
    s.send(first!);
    let f = await s.next();
    if (f?.type === FrameType.HELLO_OK) { s.send(second!); f = await s.next(); }
    assert.equal(f?.type, FrameType.ERROR, what);
    assert.equal(decodeError(f.payload).code, code, what);
    await s.waitClosed();
  }
  // HELLO and a request in one write: the request came before HELLO_OK.
  const s = await FrameSocket.connect(d.socket);
  const hello = encodeHello('eager');
  const req = encodeFrame(FrameType.RESET);
  const both = new Uint8Array(hello.length + req.length);
  both.set(hello); both.set(req, hello.length);
  s.send(both);
  const f = await s.next();
  assert.equal(f?.type, FrameType.ERROR);
  assert.equal(decodeError(f.payload).code, ErrorCode.UNEXPECTED_FRAME);
  await s.waitClosed();
});

test('a connection that never says HELLO is closed after the hello timeout', async (t) => {
  const d = await startDaemon(t, { limits: { helloTimeoutMs: 100 } });
  const s = await FrameSocket.connect(d.socket);
  await expectFatal(s, ErrorCode.TIMEOUT);
  await d.logs.waitFor((l) => l.reason === 'hello-timeout');
});

test('past the per-VM in-flight limit a request is answered BUSY (not fatal) and succeeds once the VM is free', async (t) => {
  const d = await startDaemon(t, { limits: { maxInFlightPerVm: 1 } });
  // Connection 1 starts a DMA command and holds it open by not answering MEM_READ yet.
  const s = await FrameSocket.connect(d.socket);
  s.send(encodeHello('limited'));
  assert.equal((await s.next())?.type, FrameType.HELLO_OK);
  s.send(encodeMmioWrite(0x04, 4, 65536n));
  assert.equal((await s.next())?.type, FrameType.MMIO_WRITE_OK);
  s.send(encodeMmioWrite(0x02, 2, 2n));
  assert.equal((await s.next())?.type, FrameType.MEM_READ);

  const c = await DaemonClient.connect(d.socket, 'limited');
  t.after(() => c.close());
  await assert.rejects(setVar(c, 'Wait', Uint8Array.of(1)), (e: unknown) => e instanceof DaemonError && e.code === ErrorCode.BUSY && !e.fatal);

  // Answer with a header whose MessageLength does not fit: the command ends without touching the service.
  const header = new Uint8Array(24);
  new DataView(header.buffer).setBigUint64(16, 0xffffffffn, true);
  s.send(encodeFrame(FrameType.MEM_DATA, header));
  assert.equal((await s.next())?.type, FrameType.MMIO_WRITE_OK);
  assert.equal(await setVar(c, 'Wait', Uint8Array.of(1)), EFI_SUCCESS, 'the same connection works after BUSY');
  assert.ok((await d.daemon.metrics.registry.getSingleMetricAsString('uefi_vars_busy_total')).includes('uefi_vars_busy_total 1'));
  s.destroy();
});

test('the per-VM rate limit slows a flood down instead of failing it', async (t) => {
  const d = await startDaemon(t, { rateLimit: { ratePerSecond: 100, burst: 5 } });
  const c = await DaemonClient.connect(d.socket, 'flood');
  const other = await DaemonClient.connect(d.socket, 'calm');
  t.after(async () => { await c.close(); await other.close(); });
  const t0 = performance.now();
  for (let i = 0; i < 25; i++) assert.equal(await setVar(c, `F${i}`, Uint8Array.of(i), 0x6), EFI_SUCCESS);
  const elapsed = performance.now() - t0;
  // 5 at once, then 20 at 100/s: at least ~200 ms.
  assert.ok(elapsed >= 170, `took ${elapsed.toFixed(0)} ms`);
  assert.ok(elapsed < 5000);
  const throttled = async (): Promise<number> =>
    Number(/uefi_vars_throttled_total (\d+)/.exec(await d.daemon.metrics.registry.getSingleMetricAsString('uefi_vars_throttled_total'))![1]);
  const flooded = await throttled();
  assert.ok(flooded >= 1 && flooded <= 20, `the flood was delayed ${flooded} times (at most once per call past the burst of 5)`);
  // Another VM has its own bucket: its burst is untouched, so none of its calls is delayed.
  for (let i = 0; i < 4; i++) assert.equal(await setVar(other, `C${i}`, Uint8Array.of(i), 0x6), EFI_SUCCESS);
  assert.equal(await throttled(), flooded, 'the calm VM was never delayed');
});

test('connections beyond --max-connections are closed at accept; the others carry on', async (t) => {
  const d = await startDaemon(t, { maxConnections: 2 });
  const a = await DaemonClient.connect(d.socket, 'a');
  const b = await DaemonClient.connect(d.socket, 'b');
  t.after(async () => { await a.close(); await b.close(); });
  await assert.rejects(DaemonClient.connect(d.socket, 'c'), DaemonError);
  assert.equal(await setVar(a, 'X', Uint8Array.of(1)), EFI_SUCCESS);
  await d.logs.waitFor((l) => l.reason === 'too-many-connections');
});

test('stop() refuses new connections, lets the request in flight finish and answers it, then closes', async (t) => {
  const d = await startDaemon(t);
  const s = await FrameSocket.connect(d.socket);
  const idle = await FrameSocket.connect(d.socket);
  s.send(encodeHello('draining'));
  assert.equal((await s.next())?.type, FrameType.HELLO_OK);
  idle.send(encodeHello('idle'));
  assert.equal((await idle.next())?.type, FrameType.HELLO_OK);
  s.send(encodeMmioWrite(0x04, 4, 4096n));
  assert.equal((await s.next())?.type, FrameType.MMIO_WRITE_OK);
  s.send(encodeMmioWrite(0x02, 2, 2n));
  assert.equal((await s.next())?.type, FrameType.MEM_READ);

  let stopped = false;
  const stopping = d.daemon.stop().then(() => { stopped = true; });
  // The idle connection is told and closed at once; the busy one is not.
  await expectFatal(idle, ErrorCode.SHUTTING_DOWN);
  await assert.rejects(DaemonClient.connect(d.socket, 'late'));
  await sleep(50);
  assert.equal(stopped, false, 'stop waits for the request in flight');

  s.send(encodeFrame(FrameType.MEM_DATA, new Uint8Array(24))); // an all-zero header: unknown GUID, 24-byte reply
  assert.equal((await s.next())?.type, FrameType.MEM_WRITE);
  s.send(encodeFrame(FrameType.MEM_WRITE_OK));
  assert.equal((await s.next())?.type, FrameType.MMIO_WRITE_OK, 'the request in flight is answered');
  await expectFatal(s, ErrorCode.SHUTTING_DOWN);
  await stopping;
  assert.equal(stopped, true);
});

test('a store that cannot be written: the guest gets EFI_DEVICE_ERROR, the write is undone, logged and counted; the next write works again', async (t) => {
  const d = await startDaemon(t);
  const c = await DaemonClient.connect(d.socket, 'disk');
  t.after(() => c.close());
  assert.equal(await setVar(c, 'Kept', Uint8Array.of(1)), EFI_SUCCESS);
  // The state directory vanishes under the daemon (a real failure: the temp file cannot be made).
  rmSync(join(d.dir, 'vms'), { recursive: true, force: true });
  assert.equal(await setVar(c, 'Lost', Uint8Array.of(2)), 0x8000000000000007n);
  assert.equal((await getVar(c, 'Lost')).data, undefined, 'undone in memory as well');
  assert.match(await d.daemon.metrics.registry.getSingleMetricAsString('uefi_vars_store_write_failures_total'), /reason="write-failed"} 1/);
  const line = await d.logs.waitFor((l) => l.msg === 'store write failed; the request was refused and undone');
  assert.equal(line.vm, 'disk');
  assert.match(String(line.err), /cannot write \(ENOENT\)/);
  mkdirSync(join(d.dir, 'vms'), { mode: 0o700 });
  assert.equal(await setVar(c, 'Again', Uint8Array.of(3)), EFI_SUCCESS);
  const names = (await loadStoreFile(join(d.dir, 'vms', 'disk.json'))).variables.map((v) => nameKey(v.name));
  assert.ok(names.includes('Kept') && names.includes('Again') && !names.includes('Lost'), names.join(','));
});
