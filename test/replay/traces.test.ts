import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { traceCases, traceOptions } from '../helpers/traces.js';
import { parsePcap } from '../../src/wire/pcap.js';
import { VariableService } from '../../src/service/variable-service.js';
import { replayTrace } from '../../src/replay/replay.js';
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { toHex } from '../../src/wire/hex.js';
import type { Variable } from '../../src/store/variable.js';

function asData(vars: readonly Variable[]): string[] {
  return vars.map((v) => `${v.guid}/${nameKey(v.name)}/${v.attributes}/${toHex(v.data)}/${v.attributes & 0x20 ? toHex(v.time) : ''}`);
}

test('the trace folders are there (tests read ../shared)', () => {
  assert.ok(traceCases().filter((c) => !c.deviations).length >= 20);
});

for (const c of traceCases().filter((x) => !x.deviations)) {
  test(`trace ${c.name} replays byte for byte with no deviation, and ends with QEMU's store`, async () => {
    const variables = existsSync(c.base + '.initial.json') ? decodeQemuJson(readFileSync(c.base + '.initial.json')) : [];
    const svc = await VariableService.create({ variables, options: traceOptions(c.base) });
    const report = await replayTrace(parsePcap(readFileSync(c.base + '.pcap')), svc);
    assert.ok(report.requests > 0);
    assert.deepEqual(report.differences.slice(0, 5), [], `${report.mismatches} mismatches, ${report.deviations} deviations`);
    if (existsSync(c.base + '.final.json')) {
      const expected = decodeQemuJson(readFileSync(c.base + '.final.json'));
      // QEMU's file holds NV variables; the digest is ours to keep compatible too.
      assert.deepEqual(asData(svc.nonVolatileVariables()).sort(), asData(expected).sort());
      // And what we would write reads back the same.
      assert.deepEqual(asData(decodeQemuJson(encodeQemuJson(svc.nonVolatileVariables()))), asData(svc.nonVolatileVariables()));
    }
  });
}

for (const c of traceCases().filter((x) => x.deviations)) {
  test(`deviation trace ${c.name}: the first difference, if any, is a documented deviation`, async (t) => {
    let variables: Variable[] = [];
    if (existsSync(c.base + '.initial.json')) {
      try { variables = decodeQemuJson(readFileSync(c.base + '.initial.json')); } catch (e) {
        // QEMU loads an unparsable GUID as the nil GUID (spec §10.5); we refuse the store.
        assert.match((e as Error).message, /guid/);
        t.diagnostic('initial store refused as designed');
        return;
      }
    }
    const svc = await VariableService.create({ variables, options: traceOptions(c.base) });
    const report = await replayTrace(parsePcap(readFileSync(c.base + '.pcap')), svc);
    const first = report.differences[0];
    if (first) assert.equal(first.deviation, true, `first difference at ${first.index} (${first.function} ${first.variable}: ${first.what}) is not a documented deviation`);
  });
}
