import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VariableService } from '../src/service/variable-service.js';
import { FileBackend } from '../src/persist/store-file.js';
import { encodeQemuJson } from '../src/persist/json-qemu.js';
import { writeFileAtomic } from '../src/persist/atomic-file.js';
import { setVariableRequest, replyStatus } from '../src/client/requests.js';
import { makeVariable } from '../src/store/variable.js';
import { encodeName } from '../src/wire/ucs2.js';
import { summary, fmt, line, nowNs } from './stats.js';

const GUID = '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f';

/**
 * (issue 2, bench b) Durable NV SetVariable latency with the store holding
 * `storeBytes` of variables, next to a floor measured in the same run: the same
 * number of bytes written to a temp file, fsynced, renamed into place and the
 * directory fsynced, with no encoding.
 */
export async function benchDurable(storeBytes: number, writes = 200): Promise<{ p50: number; p99: number; floorP50: number; floorP99: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-bench-'));
  try {
    const chunk = 1024;
    const n = Math.max(1, Math.floor(storeBytes / chunk));
    const variables = Array.from({ length: n }, (_, i) => makeVariable({
      guid: GUID, name: encodeName(`Fill${i}`), attributes: 7, data: new Uint8Array(chunk).fill(i & 0xff),
    }));
    const path = join(dir, 'store.json');
    const svc = await VariableService.create({ variables, backend: new FileBackend(path, 'json'), options: { size: 4 * storeBytes + 65536 } });
    const lat: number[] = [];
    const floor: number[] = [];
    const floorPath = join(dir, 'floor.bin');
    for (let i = 0; i < writes; i++) {
      const req = setVariableRequest({ name: `Bench${i % 16}`, guid: GUID, attributes: 7, data: new Uint8Array(64).fill(i & 0xff) });
      const a = nowNs();
      const r = await svc.process(req, 65536);
      const b = nowNs();
      if (!r.reply || replyStatus(r.reply) !== 0n) throw new Error('bench write failed');
      lat.push(Number(b - a) / 1e6);
      const bytes = new Uint8Array(encodeQemuJson(svc.nonVolatileVariables()).length); // same size, not timed
      const c = nowNs();
      await writeFileAtomic(floorPath, bytes);
      floor.push(Number(nowNs() - c) / 1e6);
    }
    const s = summary(lat), f = summary(floor);
    const kib = `${Math.round(storeBytes / 1024)} KiB`;
    line(`durable NV write, store ${kib}: ms p50 / p99`, `${fmt(s.p50, 3)} / ${fmt(s.p99, 3)}`);
    line(`floor (write+fsync+rename+fsync dir), ${kib}: ms p50 / p99`, `${fmt(f.p50, 3)} / ${fmt(f.p99, 3)}`);
    line(`durable p99 / floor p99, ${kib}`, `${fmt(s.p99 / f.p99, 2)}x`);
    return { p50: s.p50, p99: s.p99, floorP50: f.p50, floorP99: f.p99 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
