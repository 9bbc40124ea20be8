import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { browserSkipReason, launchChromium, staticServer, BROWSER_DIST } from '../helpers/browser.js';
import { traceCases } from '../helpers/traces.js';

const skip = browserSkipReason();
/** The bundle as the page imports it; typed as the entry it is built from. */
const BUILD = '/dist/uefi-vars.js';
type Lib = typeof import('../../src/browser.js');

test('the browser build imports no Node built-in and names none', () => {
  if (skip) return;
  const js = readFileSync(join(BROWSER_DIST, 'uefi-vars.js'), 'utf8');
  assert.doesNotMatch(js, /from\s*["']node:|require\(["'](node:)?(fs|zlib|crypto|path|buffer)["']\)/);
});

test('in Chromium, the browser build replays real traces byte for byte and ends with QEMU\'s store', { skip }, async (t) => {
  const base = await staticServer(t);
  const { page } = await launchChromium(t);
  await page.goto(`${base}/`);
  const cases = traceCases().filter((c) => !c.deviations && /(x64|aa64)-(cold-boot|sb-authvars)$/.test(c.name));
  assert.ok(cases.length >= 2, 'firmware traces found');
  for (const c of cases) {
    const rel = c.base.slice(c.base.indexOf('/traces/') + 1);
    const r = await page.evaluate(async ({ rel, BUILD }) => {
      const lib = await (import(BUILD) as Promise<Lib>);
      const get = async (p: string): Promise<Uint8Array | undefined> => { const x = await fetch(`/shared/${p}`); return x.ok ? new Uint8Array(await x.arrayBuffer()) : undefined; };
      const initial = await get(`${rel}.initial.json`);
      const variables = initial ? (await lib.decodeStore(initial)).variables : [];
      const svc = await lib.VariableService.create({ variables });
      const report = await lib.replayTrace(lib.parsePcap((await get(`${rel}.pcap`))!), svc);
      const final = (await lib.decodeStore((await get(`${rel}.final.json`))!)).variables;
      const key = (v: { guid: string; name: Uint8Array; attributes: number; data: Uint8Array }): string => `${v.guid}/${lib.nameKey(v.name)}/${v.attributes}/${lib.toHex(v.data)}`;
      return {
        requests: report.requests, differences: report.differences.length,
        sameStore: JSON.stringify(svc.nonVolatileVariables().map(key).sort()) === JSON.stringify(final.map(key).sort()),
        node: typeof (globalThis as { process?: unknown }).process,
      };
    }, { rel, BUILD });
    assert.equal(r.node, 'undefined', 'this is a browser, not Node');
    assert.ok(r.requests > 50, `${c.name}: ${r.requests} requests`);
    assert.equal(r.differences, 0, `${c.name}: replies differ`);
    assert.equal(r.sameStore, true, `${c.name}: final store`);
  }
});

test('in Chromium, the browser build decodes a Debian .fd store, summarizes and re-encodes it exactly as Node does', { skip }, async (t) => {
  const base = await staticServer(t);
  const { page } = await launchChromium(t);
  await page.goto(`${base}/`);
  const r = await page.evaluate(async (BUILD) => {
    const lib = await (import(BUILD) as Promise<Lib>);
    const bytes = new Uint8Array(await (await fetch('/shared/vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd')).arrayBuffer());
    const d = await lib.decodeStore(bytes);
    const s = await lib.summarizeStore(d.variables, { asOf: new Date('2026-07-01T00:00:00Z') });
    const back = await lib.codecFor('edk2').encode(d.variables, d.layout);
    return { format: d.format, count: d.variables.length, summary: JSON.stringify(s), encoded: lib.toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(back)))) };
  }, BUILD);
  const { decodeStore } = await import('../../src/persist/formats.js');
  const { summarizeStore } = await import('../../src/inspect/index.js');
  const d = await decodeStore(new Uint8Array(readFileSync(join(process.cwd(), '../shared/vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd'))));
  assert.equal(r.format, 'edk2');
  assert.equal(r.count, d.variables.length);
  assert.deepEqual(JSON.parse(r.summary), JSON.parse(JSON.stringify(await summarizeStore(d.variables, { asOf: new Date('2026-07-01T00:00:00Z') }))));
  const { codecFor } = await import('../../src/persist/formats.js');
  const { createHash } = await import('node:crypto');
  assert.equal(r.encoded, createHash('sha256').update(await codecFor('edk2').encode(d.variables, d.layout)).digest('hex'), 'Chromium encodes the .fd as Node does');
});
