import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { parsePcap } from '../../src/wire/pcap.js';
import { VariableService } from '../../src/service/variable-service.js';
import { replayTrace } from '../../src/replay/replay.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { deviceReplayTarget } from '../../src/device/replay-target.js';
import { traceCases, traceOptions } from '../helpers/traces.js';

// Issue 6: every trace replays with 0 mismatches through the register-level
// device model, driven the way edk2's VirtMmCommunicationDxe drives it.
for (const transport of ['dma', 'pio'] as const) {
  for (const c of traceCases().filter((x) => !x.deviations)) {
    test(`trace ${c.name} replays byte for byte through the device model over ${transport.toUpperCase()}`, async () => {
      const variables = existsSync(c.base + '.initial.json') ? decodeQemuJson(readFileSync(c.base + '.initial.json')) : [];
      const svc = await VariableService.create({ variables, options: traceOptions(c.base) });
      const target = await deviceReplayTarget(svc, transport);
      const report = await replayTrace(parsePcap(readFileSync(c.base + '.pcap')), target);
      assert.ok(report.requests > 0);
      assert.deepEqual(report.differences.slice(0, 5), []);
    });
  }
}
