import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { parseTraceOptions } from '../../src/inspect/trace-options.js';
import type { ServiceOptions } from '../../src/service/options.js';

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

/** The service options of the trace's NAME.options file (src/inspect/trace-options.ts), or none. */
export function traceOptions(base: string): Partial<ServiceOptions> {
  if (!existsSync(base + '.options')) return {};
  return parseTraceOptions(readFileSync(base + '.options', 'utf8')).service;
}

