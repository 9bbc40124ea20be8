import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { resolve, join } from 'node:path';

const TRACES = resolve(process.cwd(), '../shared/traces');

export interface TraceCase { name: string; base: string; deviations: boolean }

export function traceCases(): TraceCase[] {
  const out: TraceCase[] = [];
  for (const [dir, deviations] of [['', false], ['qemu-conformance', false], ['deviations', true], ['qemu-conformance/deviations', true]] as const) {
    const d = join(TRACES, dir);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).filter((x) => x.endsWith('.pcap')).sort()) {
      out.push({ name: join(dir, f.slice(0, -5)), base: join(d, f.slice(0, -5)), deviations });
    }
  }
  return out;
}

export function traceOptions(base: string): { size?: number } {
  if (!existsSync(base + '.options')) return {};
  const m = readFileSync(base + '.options', 'utf8').match(/--size\s+(\d+)/);
  return m ? { size: Number(m[1]) } : {};
}

