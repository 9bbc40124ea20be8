import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';

/**
 * The inspector page as the servers hand it out (`uefi-vars ui`, the daemon's
 * /ui): the built dist/browser/inspector.html with a config for where its data
 * is. The page decodes everything itself; the config only names URLs.
 */
export interface PageConfig {
  files?: Array<{ name: string; url: string }>;
  fleet?: string;
  vmStore?: string;
  size?: number;
}

const PAGE = fileURLToPath(new URL('../../browser/inspector.html', import.meta.url));
const CONFIG_SLOT = '<script id="uefi-vars-config" type="application/json">{}</script>';

let cached: Promise<string> | undefined;

/** The page's HTML; fails with a clear message when the browser build is missing. */
export function inspectorHtml(config: PageConfig): Promise<string> {
  cached ??= readFile(PAGE, 'utf8').catch((e: NodeJS.ErrnoException) => {
    cached = undefined;
    throw new Error(`inspector page not built (${PAGE}: ${e.code ?? e.message}); run npm run build`);
  });
  // JSON inside a script element: escape '<' so no value can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return cached.then((html) => html.replace(CONFIG_SLOT, CONFIG_SLOT.replace('{}', json)));
}

/** Headers for the page and its data: nothing cached, nothing sniffed, no framing, no referrer (the URL holds a token). */
export const PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
} as const;

export function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}

export function sendBytes(res: ServerResponse, bytes: Uint8Array, type = 'application/octet-stream'): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': type, 'Content-Length': bytes.length });
  res.end(bytes);
}
