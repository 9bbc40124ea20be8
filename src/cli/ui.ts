import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AddressInfo } from 'node:net';
import { encodeQemuJson } from '../persist/json-qemu.js';
import { inspectorHtml, sendHtml, sendBytes } from '../ui/page-html.js';
import { parseStoreTarget, readTarget, type StoreTarget } from './store-target.js';
import { parseCommand, intValue, UsageError, type CommandSpec } from './command.js';
import { out } from './io.js';
import { parseTraceOptions, optionsFileFor } from '../inspect/trace-options.js';

export const UI: CommandSpec = {
  name: 'ui',
  summary: 'serve the inspector page for stores and traces on loopback (prints the URL, opens nothing)',
  usage: ['ui [STORE|TRACE…] [--port N] [--size N]'],
  options: [
    { name: 'port', type: 'string', value: 'N', help: 'TCP port on 127.0.0.1 (default: a random free one)' },
    { name: 'size', type: 'string', value: 'N', help: 'storage pool for the gauge, as the device\'s size (default 262144)' },
  ],
  details: 'The URL carries a random token; every request without it is refused (403). Files are read when the page asks\n' +
    'for them and decoded in the browser; an efivarfs directory or a PostgreSQL VM is handed over as QEMU JSON.\n' +
    'A trace is replayed with the device options of the NAME.options file beside it (e.g. --size 65536), if there is one.\nStops on Ctrl-C.',
};

export async function runUi(argv: string[]): Promise<number> {
  const p = parseCommand(UI, argv);
  const port = intValue(p, 'port') ?? 0;
  if (port > 65535) throw new UsageError('--port must be 0..65535');
  const size = intValue(p, 'size');
  const files = p.positional;
  const targets = files.map((f) => parseStoreTarget(f));
  for (const t of targets) {
    if (t.kind === 'postgres') continue;
    const f = t.path;
    try { await stat(f); } catch (e) { throw new UsageError(`${f}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  }
  const token = randomBytes(24).toString('base64url');
  const expected = createHash('sha256').update(token).digest();
  // A trace's NAME.options beside it (the device it was recorded with) goes with it, checked here.
  const options = await Promise.all(targets.map(async (t) => {
    if (t.kind === 'postgres' || !/\.pcap(\.gz)?$/i.test(t.path)) return undefined;
    const text = await readFile(optionsFileFor(t.path), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try { parseTraceOptions(text); } catch (e) { throw new UsageError(`${optionsFileFor(t.path)}: ${(e as Error).message}`); }
    return text;
  }));
  const config = {
    files: targets.map((t, i) => ({ name: t.kind === 'postgres' ? t.shown : basename(t.path), url: `files/${i}`, ...(options[i] !== undefined ? { options: options[i] } : {}) })),
    ...(size !== undefined ? { size } : {}),
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => { if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }); res.end(`${e.message}\n`); });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const given = url.searchParams.get('token') ?? /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!given || !timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden: open the URL uefi-vars ui printed (it carries the token)\n');
      return;
    }
    if (req.method !== 'GET') { res.writeHead(405, { Allow: 'GET' }).end(); return; }
    if (url.pathname === '/') { sendHtml(res, await inspectorHtml(config)); return; }
    const m = /^\/files\/(\d+)$/.exec(url.pathname);
    const file = m ? targets[Number(m[1])] : undefined;
    if (file === undefined) { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n'); return; }
    sendBytes(res, await fileBytes(file));
  }
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  const { port: bound } = server.address() as AddressInfo;
  out(`uefi-vars ui: http://127.0.0.1:${bound}/?token=${token}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { server.closeAllConnections(); server.close(() => resolve()); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** A file's bytes as they are; a directory (efivarfs) or a PostgreSQL VM as QEMU JSON. */
async function fileBytes(t: StoreTarget): Promise<Uint8Array> {
  if (t.kind === 'postgres' || (await stat(t.path)).isDirectory()) return encodeQemuJson((await readTarget(t)).variables);
  return new Uint8Array(await readFile(t.path));
}
