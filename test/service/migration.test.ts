import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parsePcap, type PcapRecord } from '../../src/wire/pcap.js';
import { VariableService } from '../../src/service/variable-service.js';

const TRACES = resolve(process.cwd(), '../shared/traces');

async function feed(svc: VariableService, records: readonly PcapRecord[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of records) {
    if (r.type === 'reset') await svc.reset();
    else if (r.type === 'request') out.push(Buffer.from((await svc.process(r.bytes, 65536)).reply ?? []).toString('hex'));
  }
  return out;
}

for (const trace of ['x64-sb-authvars', 'qemu-conformance/lock-variable', 'qemu-conformance/policy-register']) {
  test(`a snapshot taken mid-trace (${trace}) resumes on a new service with identical answers (migration)`, async () => {
    const records = parsePcap(readFileSync(resolve(TRACES, `${trace}.pcap`)));
    // Cut after the request that is closest to two thirds (phases, policies, Secure Boot state all live).
    const cut = Math.floor((records.length * 2) / 3);
    const whole = await feed(await VariableService.create(), records);
    const a = await VariableService.create();
    const first = await feed(a, records.slice(0, cut));
    const b = await VariableService.restore(a.snapshot());
    assert.deepEqual(b.flags, a.flags);
    assert.deepEqual(b.secureBoot, a.secureBoot);
    const second = await feed(b, records.slice(cut));
    assert.deepEqual([...first, ...second], whole);
  });
}

test('a snapshot is a copy: later writes on the source do not reach it', async () => {
  const svc = await VariableService.create();
  const snap = svc.snapshot();
  const n = snap.variables.length;
  await svc.hostSetVariable({ guid: '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', name: Uint8Array.of(0x41, 0, 0, 0), attributes: 7, data: Uint8Array.of(1), time: new Uint8Array(16) });
  assert.equal(snap.variables.length, n);
  assert.equal(svc.variables().length, n + 1);
});
