import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parsePcap, type PcapRecord } from '../src/wire/pcap.js';
import { readMmHeader } from '../src/wire/mm.js';
import { copyBytes } from '../src/wire/slab.js';
import { VariableService } from '../src/service/variable-service.js';
import { decodeQemuJson } from '../src/persist/json-qemu.js';
import { summary, fmt, line, nowNs } from './stats.js';
import { parseTraceOptions } from '../src/inspect/trace-options.js';

export interface Trace { name: string; records: PcapRecord[]; initial: ReturnType<typeof decodeQemuJson>; size?: number }

export function loadTraces(): Trace[] {
  const root = resolve(process.cwd(), '../shared/traces');
  const out: Trace[] = [];
  for (const dir of ['', 'qemu-conformance']) {
    const d = join(root, dir);
    for (const f of readdirSync(d).filter((x) => x.endsWith('.pcap')).sort()) {
      const base = join(d, f.slice(0, -5));
      const size = existsSync(base + '.options') ? parseTraceOptions(readFileSync(base + '.options', 'utf8')).service.size : undefined;
      out.push({
        name: join(dir, f),
        records: parsePcap(readFileSync(base + '.pcap')),
        initial: existsSync(base + '.initial.json') ? decodeQemuJson(readFileSync(base + '.initial.json')) : [],
        ...(size !== undefined ? { size } : {}),
      });
    }
  }
  return out;
}

/**
 * (issue 2, bench a) In-process replay of every trace: µs per request, next to
 * a floor measured in the same run — parse the MM header and copy the buffer
 * (with the same copy routine the service uses).
 */
export async function benchReplay(traces: Trace[], rounds = 5): Promise<{ medianUs: number; p99Us: number; floorUs: number }> {
  const samples: number[] = [];
  const floor: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    for (const t of traces) {
      const svc = await VariableService.create({ variables: t.initial, options: t.size ? { size: t.size } : {} });
      for (const rec of t.records) {
        if (rec.type === 'reset') { await svc.reset(); continue; }
        if (rec.type !== 'request') continue;
        const a = nowNs();
        await svc.process(rec.bytes, 65536);
        const b = nowNs();
        const copy = copyBytes(rec.bytes);
        sink += readMmHeader(copy).messageLength;
        const c = nowNs();
        samples.push(Number(b - a) / 1000);
        floor.push(Number(c - b) / 1000);
      }
    }
  }
  const s = summary(samples), f = summary(floor);
  line('replay in-process: requests timed', `${s.n} (${rounds} rounds x ${traces.length} traces)`);
  line('replay in-process: µs per request, median / p99', `${fmt(s.p50)} / ${fmt(s.p99)}`);
  line('floor (parse MM header + copy): µs, median / p99', `${fmt(f.p50)} / ${fmt(f.p99)}`);
  line('replay median / floor median', `${fmt(s.p50 / f.p50, 1)}x`);
  if (sink < 0) line('', '');
  return { medianUs: s.p50, p99Us: s.p99, floorUs: f.p50 };
}
