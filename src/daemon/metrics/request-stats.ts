import type { Registry } from 'prom-client';

/**
 * The per-request metrics (count by function and status, latency histogram by
 * function), accumulated in plain numbers on the hot path and rendered for
 * prom-client's registry only when /metrics is scraped. Observing through
 * prom-client's own Counter/Histogram hashes label objects on every call, which
 * cost ~5 µs a request — a fifth of the daemon's whole per-request CPU.
 * Label values are bounded (function and status names), as in metrics.ts.
 */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

interface Series { fn: string; status: string; n: number }
interface Hist { fn: string; buckets: Float64Array; sum: number; count: number }

interface MetricValue { value: number; labels: Record<string, string>; metricName?: string }
interface MetricObject { name: string; help: string; type: string; aggregator: string; values: MetricValue[] }

export class RequestStats {
  /** function → status → count. Two lookups by interned label strings: no key built per request. */
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly hists = new Map<string, Hist>();

  constructor(registry: Registry) {
    const counts = {
      name: 'uefi_vars_requests_total', help: 'MM requests handled, by variable function and resulting status',
      type: 'counter', aggregator: 'sum',
      get: async (): Promise<MetricObject> => ({
        ...pick(counts), values: [...this.series.values()].flatMap((m) => [...m.values()].map((s) => ({ value: s.n, labels: { function: s.fn, status: s.status } }))),
      }),
    };
    const latency = {
      name: 'uefi_vars_request_duration_seconds', help: 'Time from request frame to reply frame, including the durable store write',
      type: 'histogram', aggregator: 'sum',
      get: async (): Promise<MetricObject> => ({ ...pick(latency), values: [...this.hists.values()].flatMap((h) => histogramValues(latency.name, h)) }),
    };
    // prom-client's registry takes any object with a name and get() (registry.js registerMetric).
    registry.registerMetric(counts as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric(latency as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(fn: string, status: string, seconds: number): void {
    let byStatus = this.series.get(fn);
    if (!byStatus) { byStatus = new Map(); this.series.set(fn, byStatus); }
    const s = byStatus.get(status);
    if (s) s.n++; else byStatus.set(status, { fn, status, n: 1 });
    let h = this.hists.get(fn);
    if (!h) { h = { fn, buckets: new Float64Array(LATENCY_BUCKETS.length), sum: 0, count: 0 }; this.hists.set(fn, h); }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) { h.buckets[i]!++; break; }
    h.sum += seconds;
    h.count++;
  }
}

function pick(m: { name: string; help: string; type: string; aggregator: string }): Omit<MetricObject, 'values'> {
  return { name: m.name, help: m.help, type: m.type, aggregator: m.aggregator };
}

/** Prometheus histogram series: cumulative buckets, +Inf, _sum, _count. */
function histogramValues(name: string, h: Hist): MetricValue[] {
  const out: MetricValue[] = [];
  let cumulative = 0;
  LATENCY_BUCKETS.forEach((le, i) => {
    cumulative += h.buckets[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { le: String(le), function: h.fn }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', function: h.fn }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels: { function: h.fn }, value: h.sum });
  out.push({ metricName: `${name}_count`, labels: { function: h.fn }, value: h.count });
  return out;
}
