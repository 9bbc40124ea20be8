/**
 * Real Chromium for browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser download). Tests skip with a message when it is
 * absent (.ci/run installs it). The flags keep Chromium off the network.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BROWSER_DIST = resolve(process.cwd(), 'dist/browser');
export const SHARED = resolve(process.cwd(), '../shared');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Why browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(): string | undefined {
  // CI installs Chromium: there a missing browser fails the tests instead of skipping them.
  if (!existsSync(CHROMIUM) && process.env.UEFI_VARS_REQUIRE_CHROMIUM) throw new Error(`${CHROMIUM} missing but UEFI_VARS_REQUIRE_CHROMIUM is set`);
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser tests`;
  if (!existsSync(join(BROWSER_DIST, 'uefi-vars.js'))) return 'dist/browser not built: run npm run build';
  return undefined;
}

type After = { after(fn: () => Promise<void> | void): void };

export async function launchChromium(t: After): Promise<{ context: BrowserContext; page: Page; dir: string }> {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-chromium-'));
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 },
  });
  t.after(async () => {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => { process.stderr.write(`page error: ${e.message}\n`); });
  return { context, page, dir };
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json' };

/** A loopback server for /dist/* (the browser build) and /shared/* (test material, read-only). */
export async function staticServer(t: After): Promise<string> {
  const roots: Record<string, string> = { dist: BROWSER_DIST, shared: SHARED };
  const server: Server = createServer((req, res) => {
    const [, top, ...rest] = decodeURIComponent((req.url ?? '/').split('?')[0]!).split('/');
    const root = roots[top ?? ''];
    const file = root ? resolve(root, rest.join('/')) : undefined;
    if (!file || !(file + sep).startsWith(root! + sep) || !existsSync(file)) {
      res.writeHead(root || top === '' ? 404 : 404).end(top === '' ? '<!doctype html><title>blank</title>' : 'not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
