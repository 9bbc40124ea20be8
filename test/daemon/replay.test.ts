import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePcap } from '../../src/wire/pcap.js';
import { replayTrace } from '../../src/replay/replay.js';
import { connectReplayTarget } from '../../src/daemon/protocol/vmm-client.js';
import { RawReplayTarget } from '../../src/daemon/protocol/vmm-raw-client.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { toHex } from '../../src/wire/hex.js';
import type { Variable } from '../../src/store/variable.js';
import { startDaemon, TRACES } from './helpers.js';

const SCENARIOS = ['fresh-state', 'set-overwrite-delete'];

function asData(vs: readonly Variable[]): string[] {
  return vs.map((v) => `${v.guid}/${nameKey(v.name)} ${v.attributes} ${toHex(v.data)}`).sort();
}

for (const name of SCENARIOS) {
  test(`${name}.pcap replays through the daemon's MM_REQUEST frames with 0 mismatches and leaves QEMU's final store`, async (t) => {
    const d = await startDaemon(t);
    const records = parsePcap(readFileSync(join(TRACES, `${name}.pcap`)));
    const target = await connectReplayTarget(d.socket, `mm-${name}`);
    const report = await replayTrace(records, target);
    await target.close();
    assert.ok(report.requests > 0);
    assert.equal(report.mismatches, 0, JSON.stringify(report.differences.slice(0, 3)));
    const stored = await loadStoreFile(join(d.dir, 'vms', `mm-${name}.json`));
    const expected = decodeQemuJson(readFileSync(join(TRACES, `${name}.final.json`)));
    assert.deepEqual(asData(stored.variables), asData(expected));
  });

  test(`${name}.pcap replays through the register mode (MMIO frames, DMA over MEM frames) with 0 mismatches`, async (t) => {
    const d = await startDaemon(t);
    const records = parsePcap(readFileSync(join(TRACES, `${name}.pcap`)));
    const target = await RawReplayTarget.connect(d.socket, `raw-${name}`);
    const report = await replayTrace(records, target);
    await target.close();
    assert.equal(report.mismatches, 0, JSON.stringify(report.differences.slice(0, 3)));
    const stored = await loadStoreFile(join(d.dir, 'vms', `raw-${name}.json`));
    const expected = decodeQemuJson(readFileSync(join(TRACES, `${name}.final.json`)));
    assert.deepEqual(asData(stored.variables), asData(expected));
  });
}
