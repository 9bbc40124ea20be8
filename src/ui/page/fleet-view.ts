import { h, clear, download, badge } from './dom.js';

/** One VM as the daemon's /ui/fleet.json describes it (src/ui/fleet.ts). */
export interface FleetRow {
  id: string; mode: string | null; ready: boolean; missing: string[]; dbxRevision: string | null;
  storagePercent: number; used: number; maxStorage: number; lastWrite: string | null; owner: string | null; loaded: boolean;
}

const COLUMNS: Array<[keyof FleetRow, string]> = [
  ['id', 'VM'], ['mode', 'mode'], ['ready', '2023-ready'], ['dbxRevision', 'dbx revision'],
  ['storagePercent', 'storage %'], ['lastWrite', 'last write'], ['owner', 'owner host'],
];

export function renderFleet(root: HTMLElement, rows: FleetRow[], open: (id: string) => void): void {
  let sortKey: keyof FleetRow = 'id';
  let dir = 1;
  const filter = h('input', { type: 'search', placeholder: 'filter (e.g. "not ready", a VM id, a date)', 'data-testid': 'fleet-filter', oninput: () => draw() });
  const body = h('tbody');
  const cell = (r: FleetRow, k: keyof FleetRow): Node | string => {
    if (k === 'ready') return badge(r.ready ? '2023-ready' : 'not ready', r.ready ? 'ok' : 'bad');
    if (k === 'storagePercent') return `${r.storagePercent}%`;
    if (k === 'id') return h('a', { href: `#store/${encodeURIComponent(r.id)}`, onclick: (e: Event) => { e.preventDefault(); open(r.id); } }, r.id);
    const v = r[k];
    return v === null ? '—' : String(v);
  };
  const text = (r: FleetRow): string => `${r.id} ${r.mode} ${r.ready ? '2023-ready' : 'not ready'} ${r.dbxRevision ?? 'no dbx'} ${r.owner ?? ''} ${r.lastWrite ?? ''}`.toLowerCase();
  const visible = (): FleetRow[] => {
    const q = filter.value.toLowerCase();
    return rows.filter((r) => text(r).includes(q)).sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      return (x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1) * dir;
    });
  };
  function draw(): void {
    clear(body);
    for (const r of visible()) body.append(h('tr', { 'data-vm': r.id }, ...COLUMNS.map(([k]) => h('td', { 'data-col': k }, cell(r, k)))));
  }
  const head = h('tr', {}, ...COLUMNS.map(([k, label]) => h('th', { class: 'sortable', 'data-sort': k, onclick: () => { dir = sortKey === k ? -dir : 1; sortKey = k; draw(); } }, label)));
  const csv = (): string => [COLUMNS.map(([, l]) => l).join(','), ...visible().map((r) => COLUMNS.map(([k]) => csvCell(r[k])).join(','))].join('\n') + '\n';
  clear(root);
  root.append(h('h2', {}, 'Fleet ', h('small', {}, `${rows.length} VMs`)),
    h('div', {}, filter, ' ', h('button', { 'data-testid': 'csv', onclick: () => download('fleet.csv', csv(), 'text/csv') }, 'CSV')),
    h('table', { class: 'fleet', 'data-testid': 'fleet' }, h('thead', {}, head), body));
  draw();
}

function csvCell(v: unknown): string {
  const s = Array.isArray(v) ? v.join('; ') : v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
