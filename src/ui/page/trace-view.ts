import {
  parsePcap, replayTrace, VariableService, describeFunction, describeVariable, statusName,
  readMmHeader, MM_HEADER_SIZE, Guids, type Variable, type ReplayReport, type TraceOptions,
} from '../../browser.js';
import { h, clear, badge } from './dom.js';
import { replyStatusOf } from '../../browser.js';

interface Row { index: number; fn: string; variable: string; status: string; phase: 'boot' | 'runtime'; resetBefore: boolean }

/** The recorded requests of a QEMU pcap, with the phase each ran in and the status QEMU answered. */
function timeline(bytes: Uint8Array): Row[] {
  const records = parsePcap(bytes);
  const rows: Row[] = [];
  let phase: Row['phase'] = 'boot';
  let reset = false;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.type === 'reset') { reset = true; phase = 'boot'; continue; }
    if (r.type !== 'request') continue;
    const next = records[i + 1];
    const fn = describeFunction(r.bytes);
    rows.push({ index: rows.length, fn, variable: describeVariable(r.bytes), status: next?.type === 'reply' ? replyStatus(next.bytes) : '(no reply)', phase, resetBefore: reset });
    reset = false;
    if (fn === 'event ExitBootServices') phase = 'runtime';
  }
  return rows;
}

function replyStatus(b: Uint8Array): string {
  if (b.length < MM_HEADER_SIZE + 16) return '-';
  if (readMmHeader(b).guid !== Guids.smmVariable) return 'ok';
  return statusName(replyStatusOf(b, 'variable')!);
}

/** What the device options say, for the card ("defaults" when there are none). */
function describeOptions(o: TraceOptions | undefined): string {
  if (!o) return 'device defaults';
  const parts = [
    o.service.size !== undefined ? `size=${o.service.size}` : '',
    o.service.forceSecureBoot ? 'force-secure-boot=on' : '',
    o.service.disableCustomMode ? 'disable-custom-mode=on' : '',
    o.usePio ? 'use-pio=on' : '',
  ].filter(Boolean);
  return parts.length ? parts.join(',') : 'device defaults';
}

/**
 * Render the Trace view: the timeline, each reply compared with a replay by
 * the library on a device made with the trace's options (its NAME.options file).
 */
export async function renderTrace(root: HTMLElement, name: string, bytes: Uint8Array, initial: Variable[] = [], options?: TraceOptions): Promise<ReplayReport> {
  const rows = timeline(bytes);
  const svc = await VariableService.create({ variables: initial, options: options?.service ?? {} });
  const report = await replayTrace(parsePcap(bytes), svc);
  const diff = new Map(report.differences.map((d) => [d.index, d]));
  clear(root);
  const filter = h('input', { type: 'checkbox', onchange: () => { body.querySelectorAll<HTMLElement>('tr.same').forEach((tr) => { tr.hidden = filter.checked; }); } });
  const body = h('tbody');
  for (const r of rows) {
    if (r.resetBefore) body.append(h('tr', { class: 'reset' }, h('td', { colspan: 6 }, '— device reset —')));
    const d = diff.get(r.index);
    body.append(h('tr', { class: d ? (d.deviation ? 'deviation' : 'mismatch') : 'same', 'data-testid': d && !d.deviation ? 'mismatch-row' : undefined },
      h('td', { class: 'num' }, r.index), h('td', {}, r.phase), h('td', {}, r.fn), h('td', { class: 'mono' }, r.variable), h('td', {}, r.status),
      h('td', {}, d ? `${d.deviation ? 'deviation' : 'MISMATCH'}: ${d.what}` : 'same')));
  }
  root.append(
    h('h2', {}, name, ' ', h('small', {}, 'QEMU pcap')),
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('h4', {}, 'Requests'), h('div', { class: 'big', 'data-testid': 'trace-requests' }, report.requests)),
      h('div', { class: 'card' }, h('h4', {}, 'Replay by the library'),
        h('div', { class: 'big' }, badge(`${report.mismatches} mismatches`, report.mismatches ? 'bad' : 'ok', 'trace-mismatches')),
        h('div', { class: 'muted' }, `${report.deviations} documented deviations, ${initial.length ? `from the loaded store (${initial.length} variables)` : 'from an empty store'}`)),
      h('div', { class: 'card' }, h('h4', {}, 'Resets'), h('div', { class: 'big' }, rows.filter((r) => r.resetBefore).length)),
      h('div', { class: 'card' }, h('h4', {}, 'Device'), h('div', { class: 'mono', 'data-testid': 'trace-options' }, describeOptions(options)))),
    h('label', {}, filter, ' show only differences'),
    h('table', { class: 'trace', 'data-testid': 'trace' }, h('thead', {}, h('tr', {}, ...['#', 'phase', 'function', 'variable', 'QEMU status', 'replay'].map((x) => h('th', {}, x)))), body));
  return report;
}
