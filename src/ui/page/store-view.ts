import {
  summarizeStore, codecFor, STORE_CODECS, decodeValue, nameKey, formatAttributes, formatTime,
  type StoreSummary, type Variable, type CertificateFacts, type KeyDatabase, type StoreFormat,
} from '../../browser.js';
import { h, append, clear, download, badge, table, hexDump } from './dom.js';

export interface LoadedStore { name: string; format: StoreFormat; variables: Variable[]; layout?: unknown }

/** Render the Store view of one decoded store into `root`. */
export async function renderStore(root: HTMLElement, store: LoadedStore, size?: number): Promise<StoreSummary> {
  const s = await summarizeStore(store.variables, size !== undefined ? { size } : {});
  clear(root);
  append(root,
    h('h2', {}, store.name, ' ', h('small', {}, `${store.format} store, ${store.variables.length} variables`)),
    h('div', { class: 'cards' }, modeCard(s), readinessCard(s), dbxCard(s), storageCard(s)),
    h('h3', {}, 'Key chain: PK → KEK → db'),
    h('div', { class: 'chain' }, chainColumn('PK', s.pk, 'pk'), chainColumn('KEK', s.kek, 'kek'), chainColumn('db', s.db, 'db')),
    bootSection(s),
    s.sbatLevel ? h('section', {}, h('h3', {}, 'SbatLevel'), h('pre', {}, s.sbatLevel.join('\n'))) : null,
    downloads(store),
    variableTable(store.variables),
  );
  return s;
}

function modeCard(s: StoreSummary): HTMLElement {
  const sb = s.secureBoot;
  return h('div', { class: 'card' }, h('h4', {}, 'Secure Boot'),
    h('div', { class: 'big', 'data-testid': 'sb-mode' }, sb.mode === 'setup' ? 'Setup Mode' : sb.mode === 'user' ? 'User Mode' : sb.mode),
    h('div', {}, 'SecureBoot ', badge(sb.secureBoot ? 'on' : 'off', sb.secureBoot ? 'ok' : 'warn')),
    h('div', {}, `SetupMode ${sb.setupMode ? 1 : 0} · CustomMode ${sb.customMode ? 1 : 0} · SecureBootEnable ${sb.secureBootEnable ?? '—'}`));
}

function readinessCard(s: StoreSummary): HTMLElement {
  const r = s.readiness;
  return h('div', { class: 'card' }, h('h4', {}, '2023 certificates'),
    h('div', { class: 'big' }, badge(r.verdict, r.ready ? 'ok' : 'bad', 'verdict')),
    r.missing.length ? h('ul', { 'data-testid': 'missing' }, ...r.missing.map((m) => h('li', {}, `missing ${m}`))) : h('div', {}, 'KEK 2K CA 2023, Windows UEFI CA 2023, Microsoft UEFI CA 2023 enrolled'));
}

function dbxCard(s: StoreSummary): HTMLElement {
  const f = s.dbx.facts;
  return h('div', { class: 'card' }, h('h4', {}, 'dbx'),
    h('div', { class: 'big', 'data-testid': 'dbx-revision' }, f.revision ?? (f.total ? 'older than any published' : 'empty')),
    h('div', {}, Object.entries(f.entries).map(([t, n]) => `${n} ${t}`).join(', ') || 'no entries'),
    f.total ? h('div', { class: 'muted' }, `${f.known} in Microsoft's list${f.arch ? ` (${f.arch})` : ''}, ${f.unknown} others${f.latest ? `; ${f.missing} missing from ${f.latest}` : ''}`) : null,
    ...f.revokedCertificates.map((c) => h('div', { class: 'muted' }, `revoked: ${c}`)));
}

function storageCard(s: StoreSummary): HTMLElement {
  const st = s.storage;
  const pct = Math.min(100, st.percent);
  return h('div', { class: 'card' }, h('h4', {}, 'Storage'),
    h('div', { class: 'big', 'data-testid': 'storage-percent' }, `${st.percent}%`),
    h('div', { class: 'gauge' }, h('div', { class: `fill ${pct > 90 ? 'bad' : pct > 75 ? 'warn' : 'ok'}`, style: `width:${pct}%` })),
    h('div', { class: 'muted' }, `${st.used} used, ${st.remaining} free of ${st.maxStorage} bytes (QueryVariableInfo)`));
}

function chainColumn(label: string, db: KeyDatabase, id: string): HTMLElement {
  const certs = db.lists.flatMap((l) => l.entries);
  return h('div', { class: 'column', 'data-testid': `chain-${id}` }, h('h4', {}, label, db.malformed ? badge('malformed', 'bad') : null),
    !db.present ? h('div', { class: 'muted' }, '(absent)') : null,
    ...certs.map((e) => (e.certificate ? certBox(e.certificate, id) : h('div', { class: 'cert' }, `${e.type} ${e.hash?.slice(0, 16)}…`))));
}

function certBox(c: CertificateFacts, id: string): HTMLElement {
  return h('div', { class: `cert${c.expired ? ' expired' : ''}` },
    h('div', { class: 'subject', 'data-testid': `${id}-subject` }, c.commonName ?? c.subject),
    h('div', { class: 'muted' }, c.subject),
    h('div', {}, 'issuer ', c.issuer),
    h('div', {}, `valid ${c.notBefore.slice(0, 10)} … ${c.notAfter.slice(0, 10)} `, c.expired ? badge('expired', 'bad') : c.notYetValid ? badge('not yet valid', 'warn') : null),
    h('div', { class: 'mono muted', title: c.sha256 }, `sha256 ${c.sha256}`));
}

function bootSection(s: StoreSummary): HTMLElement {
  const b = s.boot;
  return h('section', {}, h('h3', {}, 'Boot entries'),
    h('div', {}, `BootOrder: ${b.order?.join(', ') ?? '(none)'}`, b.next ? ` · BootNext: ${b.next}` : '', b.current ? ` · BootCurrent: ${b.current}` : ''),
    table(['option', 'title', 'device path', 'active'], b.entries.map((e) => ('malformed' in e
      ? [e.name, '(malformed)', '', '']
      : [e.name, e.title, h('span', { class: 'mono' }, e.devicePath), e.active ? 'yes' : 'no'])), { 'data-testid': 'boot' }));
}

function downloads(store: LoadedStore): HTMLElement {
  const base = store.name.replace(/\.[^.]*$/, '') || 'store';
  const button = (label: string, format: StoreFormat, ext: string): HTMLElement => h('button', {
    onclick: () => { void codecFor(format).encode(store.variables, format === store.format ? store.layout : undefined).then((b) => download(`${base}.${ext}`, b)); },
  }, label);
  const buttons = STORE_CODECS.flatMap((c, i) => [...(i ? [' '] : []), button(c.label, c.name, c.extensions[0]!.slice(1))]);
  return h('section', {}, h('h3', {}, 'Download'), ...buttons);
}

/** At most ~3 lines of a decoded value in the table (search still sees all of it; the hex view has every byte). */
const shorten = (text: string): string => (text.length > DECODED_CHARS ? `${text.slice(0, DECODED_CHARS)}… (${text.length} chars)` : text);
const DECODED_CHARS = 240;

function variableTable(vars: Variable[]): HTMLElement {
  const tbody = h('tbody');
  const rows = vars.map((v) => {
    const name = nameKey(v.name), decoded = decodeValue(v) ?? '';
    // The hex view is built on the first click: a 1 MiB store would otherwise lay out megabytes of hidden text.
    const cell = h('td', { colspan: 5 });
    const detail = h('tr', { class: 'detail', hidden: true }, cell);
    const row = h('tr', { class: 'var', onclick: () => {
      if (!cell.firstChild) cell.append(h('pre', { class: 'mono' }, hexDump(v.data)));
      detail.hidden = !detail.hidden;
    } },
      h('td', {}, name), h('td', { class: 'mono' }, v.guid), h('td', {}, formatAttributes(v.attributes)),
      h('td', { class: 'num' }, v.data.length), h('td', { class: 'decoded' }, shorten(decoded) || ((v.attributes & 0x20) ? `time ${formatTime(v.time)}` : '')));
    tbody.append(row, detail);
    return { row, detail, text: `${name} ${v.guid} ${decoded}`.toLowerCase() };
  });
  const search = h('input', {
    type: 'search', placeholder: 'search name, GUID, value', 'data-testid': 'var-search',
    oninput: () => {
      const q = search.value.toLowerCase();
      for (const r of rows) { const show = r.text.includes(q); r.row.hidden = !show; if (!show) r.detail.hidden = true; }
    },
  });
  return h('section', {}, h('h3', {}, 'Variables ', search),
    h('table', { class: 'vars', 'data-testid': 'variables' }, h('thead', {}, h('tr', {}, ...['name', 'GUID', 'attributes', 'size', 'decoded (click a row for hex)'].map((x) => h('th', {}, x)))), tbody));
}
