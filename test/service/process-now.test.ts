/**
 * The transports' hot path (VariableService.processNow): a request that needs no
 * wait is answered with the result itself, one that waits (durable write,
 * signature check) with a promise — and either way requests take effect and are
 * answered in arrival order, with the same bytes `process` gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshService, TEST_GUID, RecordingBackend, NV, BS, RT, AT } from '../helpers/service.js';
import { getVariableRequest, setVariableRequest } from '../../src/client/requests.js';
import { decodeMmMessage } from '../../src/wire/mm.js';
import type { MmResult } from '../../src/service/mm-handler.js';
import type { Variable } from '../../src/store/variable.js';
import { EfiStatus } from '../../src/wire/status.js';

function status(r: MmResult): bigint {
  const m = decodeMmMessage(r.reply!);
  if (m.kind !== 'variable') throw new Error(`reply decoded as ${m.kind}`);
  return m.returnStatus;
}
const setReq = (name: string, attributes: number, data: number[]): Uint8Array =>
  setVariableRequest({ name, guid: TEST_GUID, attributes, data: Uint8Array.from(data) });
const getReq = (name: string): Uint8Array => getVariableRequest({ name, guid: TEST_GUID, dataSize: 16 });

/** A backend whose saves complete only when the test says so. */
class GatedBackend extends RecordingBackend {
  private gates: (() => void)[] = [];
  override async save(nv: readonly Variable[]): Promise<void> {
    await new Promise<void>((r) => this.gates.push(r));
    return super.save(nv);
  }
  open(): void { for (const g of this.gates.splice(0)) g(); }
  get waiting(): number { return this.gates.length; }
}

/** A service on a gated backend, past its start-up save. */
async function gatedService(): Promise<{ svc: Awaited<ReturnType<typeof freshService>>; backend: GatedBackend }> {
  const backend = new GatedBackend();
  const creating = freshService({ backend });
  await new Promise((r) => setImmediate(r));
  backend.open();
  return { svc: await creating, backend };
}

test('reads and volatile writes are answered synchronously, with the bytes process() gives', async () => {
  const a = await freshService();
  const b = await freshService();
  for (const req of [setReq('V', BS | RT, [1, 2, 3]), getReq('V'), getReq('Missing'), setReq('V', BS | RT, [])]) {
    const now = a.processNow(req, 65536);
    assert.ok(!(now instanceof Promise), 'answered without a promise');
    const later = await b.process(req, 65536);
    assert.deepEqual(now, later);
  }
});

test('an NV write with a backend answers with a promise that settles after the save', async () => {
  const { svc, backend } = await gatedService();
  const r = svc.processNow(setReq('N', NV | BS | RT, [9]), 65536);
  assert.ok(r instanceof Promise);
  let settled = false;
  void r.then(() => { settled = true; });
  await new Promise((res) => setImmediate(res));
  assert.equal(settled, false, 'not acknowledged before the save is durable');
  assert.equal(backend.waiting, 1);
  backend.open();
  assert.equal(status(await r), EfiStatus.SUCCESS);
});

test('a request arriving while a write waits is queued behind it, not answered ahead of it', async () => {
  const { svc, backend } = await gatedService();
  const write = svc.processNow(setReq('Q', NV | BS | RT, [7]), 65536);
  const read = svc.processNow(getReq('Q'), 65536);
  assert.ok(write instanceof Promise && read instanceof Promise, 'the read waits for the write');
  const order: string[] = [];
  void write.then(() => order.push('write'));
  void read.then(() => order.push('read'));
  backend.open();
  const got = await read;
  assert.deepEqual(order, ['write', 'read']);
  assert.equal(status(got), EfiStatus.SUCCESS, 'the read sees the write it queued behind');
});

test('an authenticated write (signature check) answers with a promise; a malformed one is refused with the store unchanged', async () => {
  const svc = await freshService();
  const before = svc.variables().map((v) => v.name.join(','));
  const r = svc.processNow(setReq('Signed', NV | BS | RT | AT, [1, 2, 3, 4, 5, 6, 7, 8]), 65536);
  const out = r instanceof Promise ? await r : r;
  assert.notEqual(status(out), EfiStatus.SUCCESS);
  assert.deepEqual(svc.variables().map((v) => v.name.join(',')), before);
});
