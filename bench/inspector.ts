import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeStore } from '../src/persist/formats.js';
import { encodeQemuJson } from '../src/persist/json-qemu.js';
import { makeVariable } from '../src/store/variable.js';
import { encodeName } from '../src/wire/ucs2.js';
import { summary, fmt, line } from './stats.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DIST = resolve(process.cwd(), 'dist/browser');
const SHARED = resolve(process.cwd(), '../shared');

/**
 * (issue 14, bench) The inspector in real Chromium: the page bundle's gzipped
 * size against its 300 KB budget, and the time from a store's bytes to the
 * rendered Store view (decode, Secure Boot chain, dbx, boot entries, gauge,
 * variable table, then two animation frames so layout is included), for a
 * Debian store and a synthetic 1 MiB one, against the 1 s target.
 */
export async function benchInspector(rounds = 5): Promise<void> {
  const html = join(DIST, 'inspector.html');
  const gz = gzipSync(readFileSync(html), { level: 9 }).length;
  line('inspector page bundle (inspector.html, gzipped): KiB', `${fmt(gz / 1024, 1)} (budget 300 KB: ${fmt(gz / 300_000, 2)}x)`);
  if (!existsSync(CHROMIUM)) { line('inspector render in Chromium', `skipped: ${CHROMIUM} not found`); return; }

  // 1 MiB: the Red Hat + Microsoft store (every 2023 certificate, the full dbx) plus 1 KiB variables up to 1 MiB of data.
  const msall = (await decodeStore(readFileSync(join(SHARED, 'vectors/reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-msall-dbx.fd')))).variables;
  const have = msall.reduce((n, v) => n + v.data.length + v.name.length, 0);
  const filler = Array.from({ length: Math.ceil((1 << 20) - have) / 1000 | 0 }, (_, i) =>
    makeVariable({ guid: '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', name: encodeName(`Bench${i}`), attributes: 7, data: new Uint8Array(1000).fill(i & 0xff) }));
  const big = encodeQemuJson([...msall, ...filler]);
  const stores = [
    { name: 'OVMF_VARS_4M.ms.fd', bytes: new Uint8Array(readFileSync(join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd'))) },
    { name: `1 MiB store (${msall.length + filler.length} variables, JSON)`, bytes: big },
  ];

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`file://${html}`);
    await page.waitForFunction(() => (globalThis as { uefiVarsInspector?: unknown }).uefiVarsInspector !== undefined);
    for (const s of stores) {
      await page.evaluate(([name, b64]) => { (globalThis as unknown as { benchInput: [string, Uint8Array] }).benchInput = [name!, Uint8Array.from(atob(b64!), (c) => c.charCodeAt(0))]; }, [s.name, Buffer.from(s.bytes).toString('base64')]);
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) {
        times.push(await page.evaluate(async () => {
          const g = globalThis as unknown as { benchInput: [string, Uint8Array]; uefiVarsInspector: { openBytes(n: string, b: Uint8Array): Promise<void> } };
          const t0 = performance.now();
          await g.uefiVarsInspector.openBytes(g.benchInput[0], g.benchInput[1]);
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          return performance.now() - t0;
        }));
      }
      const rows = await page.locator('table.vars tr.var').count();
      const st = summary(times);
      line(`inspector render ${s.name}: ms p50 / max`, `${fmt(st.p50, 0)} / ${fmt(Math.max(...times), 0)} (${rows} rows; target 1000 ms: ${fmt(Math.max(...times) / 1000, 2)}x)`);
    }
  } finally {
    await browser.close();
  }
}
