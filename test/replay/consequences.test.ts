/**
 * Issue 17 item 4: replay counts a difference whose decision is a documented deviation
 * apart from mismatches, and reports a mismatch after a state-changing deviation as
 * "follows deviation at request N" (still a mismatch, counted apart from unexplained).
 * The "recorded" replies are ours with QEMU's answer patched in where QEMU differs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VariableService } from '../../src/service/variable-service.js';
import { replayTrace } from '../../src/replay/replay.js';
import { encodePcap, type PcapRecord } from '../../src/wire/pcap.js';
import { setVariableRequest, getVariableRequest } from '../../src/client/requests.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { cli, tempDir } from '../helpers/cli.js';

const G = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
const SUCCESS = 0n;
const NOT_FOUND = 0x800000000000000en;

interface Step { request: Uint8Array; qemu?: (ours: Uint8Array) => Uint8Array }
const withStatus = (s: bigint) => (ours: Uint8Array): Uint8Array => {
  const b = ours.slice();
  new DataView(b.buffer).setBigUint64(32, s, true);
  return b;
};
const flipLast = (ours: Uint8Array): Uint8Array => { const b = ours.slice(); b[b.length - 1]! ^= 0xff; return b; };

/** A capture of `steps`: each request with our reply, or QEMU's where the step says how it differs. */
async function capture(steps: Step[]): Promise<PcapRecord[]> {
  const svc = await VariableService.create({ variables: [] });
  const out: PcapRecord[] = [];
  for (const s of steps) {
    const r = await svc.process(s.request.slice());
    out.push({ type: 'request', bytes: s.request }, { type: 'reply', bytes: s.qemu ? s.qemu(r.reply!) : r.reply! });
  }
  return out;
}

const set = (name: string | Uint8Array, data: number[]): Uint8Array => setVariableRequest({ name, guid: G, attributes: 7, data: Uint8Array.from(data) });
const get = (name: string | Uint8Array): Uint8Array => getVariableRequest({ name, guid: G, dataSize: 16 });
const noNul = (s: string): Uint8Array => encodeName(s).subarray(0, 2 * s.length);

const STEPS: Step[] = [
  { request: set('A', [1]) },
  { request: get('A'), qemu: flipLast },                 // 1: a mismatch before any deviation: unexplained
  { request: get(noNul('A')), qemu: withStatus(SUCCESS) }, // 2: a deviating Get (#2) changes nothing
  { request: get('A'), qemu: flipLast },                 // 3: still unexplained
  { request: set(encodeName('').subarray(0, 2), [5]), qemu: withStatus(SUCCESS) }, // 4: empty name (#1), QEMU stores it
  { request: get('A'), qemu: withStatus(NOT_FOUND) },    // 5: after it: follows 4
];

test('replay: deviations are counted apart; mismatches after a state-changing one follow it; a read-only deviation changes nothing', async () => {
  const report = await replayTrace(await capture(STEPS), await VariableService.create({ variables: [] }));
  const by = new Map(report.differences.map((d) => [d.index, d]));
  assert.deepEqual([...by.keys()], [1, 2, 3, 4, 5]);
  assert.equal(by.get(1)!.deviation, false);
  assert.equal(by.get(1)!.follows, undefined);
  assert.equal(by.get(2)!.deviationId, 'name-without-nul');
  assert.equal(by.get(3)!.follows, undefined, 'a Get cannot make the stores differ');
  assert.equal(by.get(4)!.deviationId, 'empty-name');
  assert.equal(by.get(5)!.deviation, false);
  assert.equal(by.get(5)!.follows, 4);
  assert.deepEqual(
    { requests: report.requests, deviations: report.deviations, mismatches: report.mismatches, following: report.followingDeviation, unexplained: report.unexplained },
    { requests: 6, deviations: 2, mismatches: 3, following: 1, unexplained: 2 },
  );
});

test('CLI replay: one line per difference says "follows deviation at request N"; the summary counts them apart; --json has the same numbers', async (t) => {
  const path = join(tempDir(t), 'synthetic.pcap');
  writeFileSync(path, encodePcap(await capture(STEPS)));
  const r = cli('replay', path);
  assert.equal(r.code, 2);
  assert.match(r.lines.find((l) => l.startsWith('5 '))!, /\(follows deviation at request 4\)$/);
  assert.match(r.lines.find((l) => l.startsWith('4 '))!, /\[documented deviation: empty-name \(#1\)/);
  assert.equal(r.lines.at(-1), '6 requests, 3 mismatches (1 follow a documented deviation, 2 unexplained), 2 documented deviations');
  const j = cli('replay', path, '--json');
  const doc = JSON.parse(j.stdout) as { mismatches: number; followingDeviation: number; unexplained: number; deviations: number };
  assert.deepEqual([doc.mismatches, doc.followingDeviation, doc.unexplained, doc.deviations], [3, 1, 2, 2]);
});
