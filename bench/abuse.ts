import v8 from 'node:v8';
import vm from 'node:vm';
import { VariableService } from '../src/service/variable-service.js';
import { getNextRequest, getVariableRequest, setVariableRequest, eventRequest, replyStatus } from '../src/client/requests.js';
import { policyRequest, encodePolicyEntry, PolicyCommand, LockPolicy } from '../src/client/policy-requests.js';
import { encodeName } from '../src/wire/ucs2.js';
import { guidAt } from '../src/wire/guid.js';
import { loadTraces } from './replay.js';
import { summary, fmt, line, nowNs } from './stats.js';

const G = '6e1d3c2b-4a59-4f7e-8d90-a1b2c3d4e5f6';
const NV_BS_RT = 7;
const BUFFER = 65536;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapMiB = (): number => { gc(); gc(); return process.memoryUsage().heapUsed / 2 ** 20; };

/** Time each request of `requests` (µs) through `svc.handle`. */
async function timed(svc: VariableService, requests: Iterable<Uint8Array>, each?: (reply: Uint8Array) => void): Promise<number[]> {
  const us: number[] = [];
  for (const q of requests) {
    const t0 = nowNs();
    const reply = await svc.handle(q, BUFFER);
    us.push(Number(nowNs() - t0) / 1000);
    each?.(reply);
  }
  return us;
}

function* range<T>(n: number, f: (i: number) => T): Generator<T> { for (let i = 0; i < n; i++) yield f(i); }

/**
 * (issue 16 item 2, bench) What a hostile guest's abuse patterns cost one VM:
 * the worst and p99 µs per request of each, next to the median of normal
 * traffic (every recorded trace replayed) measured in the same run, and the
 * heap the VM holds afterwards. In-process service, no disk: the cost of the
 * rules and the store, which is what a guest can drive.
 */
export async function benchAbuse(): Promise<void> {
  const normal: number[] = [];
  for (const t of loadTraces()) {
    const svc = await VariableService.create({ variables: t.initial, options: t.size !== undefined ? { size: t.size } : {} });
    for (const r of t.records) {
      if (r.type === 'reset') await svc.reset();
      else if (r.type === 'request') normal.push(...await timed(svc, [r.bytes]));
    }
  }
  const median = summary(normal).p50;
  line('abuse: normal traffic (every trace replayed): µs median', fmt(median));
  const base = heapMiB();
  const report = (label: string, us: number[], svc: VariableService): void => {
    const s = summary(us);
    const worst = Math.max(...us);
    line(`abuse: ${label}: µs worst / p99 (n)`, `${fmt(worst, 0)} / ${fmt(s.p99, 1)} (${s.n}; worst ${fmt(worst / median, 0)}x normal median); heap ${fmt(heapMiB() - base, 1)} MiB`);
    void svc;
  };

  { // Fill the default 256 KiB storage with 1 KiB variables, then keep writing.
    const svc = await VariableService.create({});
    let full = 0;
    const us = await timed(svc, range(400, (i) => setVariableRequest({ name: `Fill${i}`, guid: G, attributes: NV_BS_RT, data: new Uint8Array(1024).fill(i) })),
      (r) => { if (replyStatus(r) !== 0n) full++; });
    report(`fill storage (400 x 1 KiB writes, ${full} refused full)`, us, svc);
  }
  { // The most policies the table takes, then SetVariable after EndOfDxe (each checked against all of them).
    const svc = await VariableService.create({});
    let accepted = 0;
    const reg = await timed(svc, range(1500, (i) => policyRequest(PolicyCommand.REGISTER, encodePolicyEntry({ namespace: G, name: `Policy${i}#`, maxSize: 64, lockType: LockPolicy.NO_LOCK }))),
      (r) => { if (new DataView(r.buffer, r.byteOffset).getBigUint64(24 + 12, true) === 0n) accepted++; });
    await svc.handle(eventRequest('endOfDxe'), BUFFER);
    const sets = await timed(svc, range(1000, (i) => setVariableRequest({ name: `Policy${i % 1500}5`, guid: G, attributes: NV_BS_RT, data: new Uint8Array(8) })));
    report(`register policies (1500 tried, ${accepted} kept)`, reg, svc);
    report('SetVariable under the full policy table (1000)', sets, svc);
  }
  { // 10,000 variables, enumerated with GetNextVariableName.
    const svc = await VariableService.create({ options: { size: 64 << 20 } });
    await timed(svc, range(10_000, (i) => setVariableRequest({ name: `Enum${i}`, guid: G, attributes: NV_BS_RT, data: Uint8Array.of(i & 0xff) })));
    let name: Uint8Array = new Uint8Array(2);
    let guid = guidAt(new Uint8Array(16), 0);
    const us: number[] = [];
    for (let i = 0; i < 10_100; i++) {
      const t0 = nowNs();
      const reply = await svc.handle(getNextRequest({ name, guid, bufferSize: 1024 }), BUFFER);
      us.push(Number(nowNs() - t0) / 1000);
      if (replyStatus(reply) !== 0n) break;
      const v = new DataView(reply.buffer, reply.byteOffset);
      const nameSize = Number(v.getBigUint64(24 + 16 + 16, true));
      guid = guidAt(reply, 24 + 16);
      name = reply.slice(24 + 16 + 24, 24 + 16 + 24 + nameSize);
    }
    report(`enumerate 10,000 variables (${us.length} GetNextVariableName)`, us, svc);
  }
  { // 64 KiB-class names: the longest that fits the buffer, set and read.
    const svc = await VariableService.create({ options: { size: 1 << 20 } });
    const chars = Math.floor((BUFFER - 24 - 40 - 16) / 2) - 2;
    const long = (i: number): string => `${String.fromCharCode(0x41 + (i % 26))}${'n'.repeat(chars - 1)}`;
    const us = await timed(svc, range(200, (i) => (i % 2 ? getVariableRequest({ name: encodeName(long(i - 1)), guid: G, dataSize: 4 }) : setVariableRequest({ name: encodeName(long(i)), guid: G, attributes: NV_BS_RT, data: new Uint8Array(4) }))));
    report(`64 KiB names (${chars * 2}-byte name, 100 set + 100 get)`, us, svc);
  }
  { // Reset <-> write loop.
    const svc = await VariableService.create({});
    const us: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = nowNs();
      await svc.reset();
      await svc.handle(setVariableRequest({ name: `Loop${i % 50}`, guid: G, attributes: NV_BS_RT, data: new Uint8Array(64).fill(i) }), BUFFER);
      us.push(Number(nowNs() - t0) / 1000);
    }
    report('reset + write loop (1000 pairs)', us, svc);
  }
}
