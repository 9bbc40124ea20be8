/**
 * Issue 17 item 4, "done when": every public deviation recording replays with no
 * mismatch that a documented deviation does not explain (at the request itself, or
 * by following a state-changing one). json-store-edge starts from a store only
 * --lenient-json loads, and then replays exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { traceCases, traceOptions } from '../helpers/traces.js';
import { parsePcap } from '../../src/wire/pcap.js';
import { VariableService } from '../../src/service/variable-service.js';
import { replayTrace } from '../../src/replay/replay.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';

for (const c of traceCases().filter((x) => x.deviations)) {
  test(`deviation recording ${c.name}: 0 unexplained mismatches`, async () => {
    const variables = existsSync(c.base + '.initial.json') ? decodeQemuJson(readFileSync(c.base + '.initial.json'), { lenient: true }) : [];
    const svc = await VariableService.create({ variables, options: traceOptions(c.base) });
    const report = await replayTrace(parsePcap(readFileSync(c.base + '.pcap')), svc);
    const unexplained = report.differences.filter((d) => !d.deviation && d.follows === undefined);
    assert.deepEqual(unexplained.slice(0, 5), []);
    assert.equal(report.unexplained, 0);
    // In these recordings every follower points back at an earlier difference that is a documented deviation.
    const deviating = new Set(report.differences.filter((d) => d.deviation).map((d) => d.index));
    for (const d of report.differences) if (d.follows !== undefined) assert.ok(d.follows < d.index && deviating.has(d.follows), `${d.index} follows ${d.follows}`);
  });
}
