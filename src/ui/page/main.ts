/**
 * The inspector page: Store, Trace and Fleet views over the browser build of
 * the library. Everything is decoded here, client-side; a server (`uefi-vars
 * ui`, the daemon's /ui) only hands over bytes and, for the fleet, one JSON list.
 * Opened from disk it works with drag-and-drop alone.
 */
import { decodeStore, parseTraceOptions, optionsFileFor, type Variable, type TraceOptions } from '../../browser.js';
import { h, clear } from './dom.js';
import { renderStore, type LoadedStore } from './store-view.js';
import { renderTrace } from './trace-view.js';
import { renderFleet, type FleetRow } from './fleet-view.js';

/** Injected by the serving side into the page's config script; `{}` for the static file. */
interface PageConfig {
  /** Files given to `uefi-vars ui`: fetched and opened at start (a trace with the text of its NAME.options file). */
  files?: Array<{ name: string; url: string; options?: string }>;
  /** The daemon's fleet list, and where one VM's store is (`{id}` replaced). */
  fleet?: string;
  vmStore?: string;
  /** Storage size for the gauge when the server knows it. */
  size?: number;
}

const config: PageConfig = JSON.parse(document.getElementById('uefi-vars-config')?.textContent || '{}') as PageConfig;
const token = new URLSearchParams(location.search).get('token');

let currentStore: LoadedStore | undefined;
const views = { store: h('div', { id: 'store-view' }), trace: h('div', { id: 'trace-view' }), fleet: h('div', { id: 'fleet-view' }) };
type ViewName = keyof typeof views;
const tabs = new Map<ViewName, HTMLButtonElement>();
const status = h('div', { class: 'status', 'data-testid': 'status' });

function show(name: ViewName): void {
  for (const [k, el] of Object.entries(views)) el.hidden = k !== name;
  for (const [k, b] of tabs) b.classList.toggle('active', k === name);
  document.body.dataset.view = name;
}

function withToken(url: string): string {
  if (!token) return url;
  return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(withToken(url), token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const isPcap = (b: Uint8Array): boolean => b.length >= 4 && [0xa1b2c3d4, 0xa1b23c4d].includes(new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) >>> 0);
const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

async function gunzip(b: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(b)]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Device options files dropped or served so far, by file name (`x.options`), for the traces that follow. */
const optionsFiles = new Map<string, string>();

/**
 * Open a store or a trace from its bytes (drop, file picker, server files). Resolves when rendered.
 * A trace is replayed with the options of its NAME.options file when one came with it.
 */
export async function openBytes(name: string, bytes: Uint8Array, optionsText?: string): Promise<void> {
  status.textContent = `opening ${name}…`;
  status.className = 'status';
  try {
    if (name.toLowerCase().endsWith('.options')) {
      parseTraceOptions(new TextDecoder().decode(bytes)); // refuse a bad file now, not at the trace
      optionsFiles.set(name, new TextDecoder().decode(bytes));
      status.textContent = `${name}: device options for ${name.slice(0, -'.options'.length)}.pcap`;
      return;
    }
    if (isGzip(bytes)) bytes = await gunzip(bytes);
    if (isPcap(bytes)) {
      show('trace');
      const text = optionsText ?? optionsFiles.get(optionsFileFor(name));
      const options: TraceOptions | undefined = text === undefined ? undefined : parseTraceOptions(text);
      await renderTrace(views.trace, name, bytes, useStoreForTrace.checked ? currentStore?.variables ?? [] : [], options);
    } else {
      const d = await decodeStore(bytes);
      currentStore = { name, format: d.format, variables: d.variables, layout: d.layout };
      show('store');
      await renderStore(views.store, currentStore, config.size);
    }
    status.textContent = `${name} opened`;
  } catch (e) {
    status.textContent = `${name}: ${(e as Error).message}`;
    status.className = 'status bad';
  }
}

async function openFiles(files: FileList | File[]): Promise<void> {
  // Options and stores first, so a trace dropped with its options and initial store replays against them.
  const list = Array.from(files);
  const bytes = await Promise.all(list.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  const rank = (f: { name: string; bytes: Uint8Array }): number => (f.name.toLowerCase().endsWith('.options') ? 0 : isPcap(f.bytes) || /\.pcap(\.gz)?$/i.test(f.name) ? 2 : 1);
  bytes.sort((a, b) => rank(a) - rank(b));
  for (const f of bytes) await openBytes(f.name, f.bytes);
}

async function openVm(id: string): Promise<void> {
  if (!config.vmStore) return;
  const url = config.vmStore.replace('{id}', encodeURIComponent(id));
  const bytes = await fetchBytes(url);
  const d = await decodeStore(bytes);
  currentStore = { name: `VM ${id}`, format: d.format, variables: d.variables };
  show('store');
  await renderStore(views.store, currentStore, config.size);
}

async function loadFleet(): Promise<void> {
  if (!config.fleet) return;
  const rows = JSON.parse(new TextDecoder().decode(await fetchBytes(config.fleet))) as { vms: FleetRow[] };
  renderFleet(views.fleet, rows.vms, (id) => { void openVm(id); });
}

const picker = h('input', { type: 'file', multiple: true, 'data-testid': 'file-input', onchange: () => { if (picker.files) void openFiles(picker.files); } });
const useStoreForTrace = h('input', { type: 'checkbox' });

function start(): void {
  const nav = h('nav', {});
  for (const name of ['store', 'trace', 'fleet'] as const) {
    if (name === 'fleet' && !config.fleet) continue;
    const b = h('button', { 'data-tab': name, onclick: () => show(name) }, name[0]!.toUpperCase() + name.slice(1));
    tabs.set(name, b);
    nav.append(b);
  }
  const drop = h('div', { class: 'drop', 'data-testid': 'drop' },
    'Drop a store (.fd, .json, AWS, .gz) or a QEMU pcap (with its .options file) here, or ', picker,
    h('label', {}, ' ', useStoreForTrace, ' replay traces from the loaded store'));
  document.body.append(h('header', {}, h('h1', {}, 'uefi-vars inspector'), nav), drop, status, views.store, views.trace, views.fleet);
  for (const el of [document.body]) {
    el.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    el.addEventListener('dragleave', () => drop.classList.remove('over'));
    el.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      if (e.dataTransfer?.files.length) void openFiles(e.dataTransfer.files);
    });
  }
  clear(views.store);
  views.store.append(h('p', { class: 'muted' }, 'No store opened yet.'));
  show(config.fleet ? 'fleet' : 'store');
  void (async () => {
    if (config.fleet) await loadFleet().catch((e: Error) => { status.textContent = `fleet: ${e.message}`; status.className = 'status bad'; });
    for (const f of config.files ?? []) {
      await fetchBytes(f.url).then((b) => openBytes(f.name, b, f.options)).catch((e: Error) => { status.textContent = `${f.name}: ${e.message}`; status.className = 'status bad'; });
    }
    document.body.dataset.ready = '1';
  })();
}

(globalThis as { uefiVarsInspector?: unknown }).uefiVarsInspector = { openBytes, openVm };
start();

export type { Variable };
