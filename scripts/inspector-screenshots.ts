/**
 * `npm run screenshots`: the pictures in docs/inspector.md, taken from the
 * built page in Debian's Chromium. The Store view has OVMF_VARS_4M.ms.fd
 * dropped on it. The Trace view has x64-sb-authvars.pcap.
 * Run it again after changing the page.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PAGE = resolve(process.cwd(), 'dist/browser/inspector.html');
const SHARED = resolve(process.cwd(), '../shared');
const OUT = resolve(process.cwd(), 'docs/images');

const shots = [
  { file: 'inspector-store.png', input: join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd'), ready: '[data-testid=verdict]' },
  { file: 'inspector-trace.png', input: join(SHARED, 'traces/x64-sb-authvars.pcap'), ready: '[data-testid=trace-mismatches]' },
];

mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
try {
  for (const s of shots) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    await page.goto(`file://${PAGE}`);
    const name = s.input.split('/').pop()!;
    await page.evaluate(([n, b64]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64!), (c) => c.charCodeAt(0))], n!));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [name, readFileSync(s.input).toString('base64')]);
    await page.waitForSelector(s.ready, { timeout: 60_000 });
    await page.screenshot({ path: join(OUT, s.file) });
    process.stdout.write(`docs/images/${s.file}\n`);
    await page.close();
  }
} finally {
  await browser.close();
}
