import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { parseGuidOrAlias } from '../../wire/guid.js';
import { nameKey } from '../../wire/ucs2.js';
import type { VmRegistry, VmEntry } from '../server/registry.js';
import { VmError } from '../server/registry.js';
import { OwnershipLostError } from '../../persist/postgres.js';
import type { DaemonMetrics } from '../metrics/metrics.js';
import type { WorkTracker } from '../server/limits.js';
import { variableListItem, variableDetail, vmView, secureBootView, fleetRow } from './api-views.js';
import { inspectorHtml, sendHtml, sendBytes } from '../../ui/page-html.js';
import { encodeQemuJson } from '../../persist/json-qemu.js';
import { auditQuery, type AuditSinks } from '../server/audit-sink.js';
import { parseVmQuota } from '../../service/vm-quota.js';
import { quotaFilePath, saveQuotaFile } from '../server/quota-file.js';
import { HostWriteError, hostName, hostVariable, hostPut, hostDelete, findVariable, type HostWriteProblem } from '../server/host-write.js';

export interface ApiContext {
  registry: VmRegistry;
  metrics: DaemonMetrics;
  logger: Logger;
  work: WorkTracker;
  isStopping(): boolean;
  /** The audit trails (GET /vms/ID/audit); absent, that endpoint is not there. */
  audit?: AuditSinks;
}

/** Largest request body: a 256 KiB variable in hex plus the JSON around it. */
export const MAX_BODY_BYTES = 2 * 262144 + 4096;

/** A refusal with its HTTP status and a named reason for the JSON body. */
class HttpError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
  }
}

const PROBLEM_STATUS: Record<HostWriteProblem, number> = {
  'bad-name': 400, 'bad-attributes': 400, 'bad-data': 400, 'bad-time': 400, 'empty-data': 400,
  'out-of-storage': 409, 'not-found': 404,
};

/**
 * The request handler for one listener. `token` set (the loopback TCP
 * listener) means every request must carry `Authorization: Bearer <token>`;
 * the Unix socket relies on its 0600 mode instead.
 */
export function createApiHandler(ctx: ApiContext, token?: string): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = token === undefined ? undefined : digest(token);
  return (req, res) => {
    const started = performance.now();
    if (expected && !authorized(req, expected) && !(isUiPath(req) && queryAuthorized(req, expected))) {
      ctx.logger.warn({ method: req.method, path: pathOf(req) }, 'api: missing or wrong bearer token');
      res.setHeader('WWW-Authenticate', 'Bearer');
      send(res, 401, { error: 'unauthorized', message: 'Authorization: Bearer <token> required' });
      req.resume();
      return;
    }
    route(ctx, req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        send(res, e.status, { error: e.reason, message: e.message });
      } else {
        ctx.logger.error({ err: (e as Error).message, stack: (e as Error).stack }, 'api: request failed');
        send(res, 500, { error: 'internal', message: 'internal error' });
      }
    }).finally(() => {
      ctx.logger.debug({ method: req.method, path: pathOf(req), status: res.statusCode, ms: Math.round(performance.now() - started) }, 'api request');
    });
  };
}

async function route(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  // Split before decoding, so an encoded "/" inside a variable name stays part of the name.
  const parts = pathOf(req).split('/').slice(1).map(decodeSegment);
  const [a, id, b, guidText, name, ...rest] = parts;
  if (rest.length > 0) throw new HttpError(404, 'no-route', 'no such endpoint');

  if (a === 'healthz' && parts.length === 1) {
    allow(method, ['GET']);
    send(res, 200, { status: ctx.isStopping() ? 'stopping' : 'ok', vmsLoaded: ctx.registry.loaded().length });
    return;
  }
  if (a === 'metrics' && parts.length === 1) {
    allow(method, ['GET']);
    const text = await ctx.metrics.registry.metrics();
    res.writeHead(200, { 'Content-Type': ctx.metrics.registry.contentType });
    res.end(text);
    return;
  }
  if (a === 'ui') {
    allow(method, ['GET']);
    await uiRoute(ctx, res, parts.slice(1));
    return;
  }
  if (a !== 'vms') throw new HttpError(404, 'no-route', 'no such endpoint');
  if (id === undefined) {
    allow(method, ['GET']);
    const loaded = new Map(ctx.registry.loaded().map((vm) => [vm.id, vm]));
    const list = await ctx.registry.list();
    send(res, 200, { vms: list.map((s) => vmView(s, loaded.get(s.id))) });
    return;
  }
  // Only writes load (with PostgreSQL: take over) a VM that this daemon does not serve; reads,
  // and requests that will be refused, do not.
  const vm = await vmFor(ctx, id, method !== 'PUT' && method !== 'DELETE');
  if (b === undefined) {
    allow(method, ['GET']);
    send(res, 200, vmView({ id: vm.id, loaded: vm.loaded, storePath: vm.storePath }, vm));
    return;
  }
  if (b === 'secure-boot' && guidText === undefined) {
    allow(method, ['GET']);
    send(res, 200, await secureBootView(vm));
    return;
  }
  if (b === 'audit' && guidText === undefined && ctx.audit) {
    allow(method, ['GET']);
    const filter = auditQuery(new URL(req.url ?? '/', 'http://localhost').searchParams);
    if (typeof filter === 'string') throw new HttpError(400, 'bad-query', filter);
    const { records, skipped } = await ctx.audit.read(vm, filter);
    send(res, 200, { vm: vm.id, records, skipped });
    return;
  }
  if (b === 'quota' && guidText === undefined) {
    await quotaRoute(ctx, req, res, vm, method);
    return;
  }
  if (b !== 'variables') throw new HttpError(404, 'no-route', 'no such endpoint');
  if (guidText === undefined) {
    allow(method, ['GET']);
    send(res, 200, { variables: vm.service.variables().map(variableListItem) });
    return;
  }
  if (name === undefined) throw new HttpError(404, 'no-route', 'use /vms/ID/variables/GUID/NAME');
  const guid = guidOf(guidText);
  const rawName = wrapProblem(() => hostName(name));
  switch (method) {
    case 'GET': {
      const v = findVariable(vm.service, guid, rawName);
      if (!v) throw new HttpError(404, 'not-found', 'no such variable');
      send(res, 200, variableDetail(v));
      return;
    }
    case 'PUT': {
      const body = await readJson(req);
      const v = wrapProblem(() => hostVariable(guid, rawName, body));
      await hostWrite(ctx, vm, 'put', guid, rawName, () => hostPut(vm.service, v), { attributes: v.attributes, size: v.data.length });
      send(res, 200, variableDetail(v));
      return;
    }
    case 'DELETE':
      await hostWrite(ctx, vm, 'delete', guid, rawName, () => hostDelete(vm.service, guid, rawName), {});
      res.writeHead(204).end();
      return;
    default:
      allow(method, ['GET', 'PUT', 'DELETE']);
  }
}

/**
 * The VM's quota (service/vm-quota.ts): GET it; PUT replaces it (fields left
 * out or null are no limit; `{}` clears it), durably beside the store before
 * the answer (quota-file.ts), and in force for the next guest request.
 */
async function quotaRoute(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, vm: VmEntry, method: string): Promise<void> {
  if (method === 'GET') { send(res, 200, { quota: vm.service.quota ?? {} }); return; }
  allow(method, ['GET', 'PUT']);
  const q = parseVmQuota(await readJson(req));
  if (typeof q === 'string') throw new HttpError(400, 'bad-quota', q);
  const file = quotaFilePath(ctx.registry.layout, vm.id);
  if (file === 'unsupported') throw new HttpError(501, 'quota-unsupported', 'quotas are not kept with --postgres yet');
  try {
    if (file) await saveQuotaFile(file, q);
  } catch (e) {
    throw new HttpError(500, 'persist-failed', `the quota was not changed: ${(e as Error).message}`);
  }
  await vm.service.setQuota(q);
  ctx.logger.info({ vm: vm.id, quota: q }, 'VM quota set');
  send(res, 200, { quota: q });
}

/**
 * The inspector page at /ui (docs/inspector.md), under the API's own auth: on
 * the TCP listener the token may also come as `?token=` on /ui paths, since a
 * browser opening a link sends no Authorization header. The page decodes the
 * stores itself; the daemon hands over the fleet list and a VM's variables.
 */
async function uiRoute(ctx: ApiContext, res: ServerResponse, parts: string[]): Promise<void> {
  if (parts.length === 0) {
    sendHtml(res, await inspectorHtml({ fleet: '/ui/fleet.json', vmStore: '/ui/vms/{id}/store.json' }));
    return;
  }
  if (parts.length === 1 && parts[0] === 'fleet.json') {
    const loaded = new Map(ctx.registry.loaded().map((vm) => [vm.id, vm]));
    const vms = [];
    for (const s of await ctx.registry.list()) {
      const vm = loaded.get(s.id) ?? await vmFor(ctx, s.id, true).catch(() => undefined);
      const mtime = await stat(s.storePath).then((st) => st.mtime.toISOString(), () => null);
      vms.push(await fleetRow(s, vm, mtime));
    }
    send(res, 200, { vms });
    return;
  }
  if (parts.length === 3 && parts[0] === 'vms' && parts[2] === 'store.json') {
    const vm = await vmFor(ctx, parts[1]!, true);
    sendBytes(res, encodeQemuJson(vm.service.variables()), 'application/json');
    return;
  }
  throw new HttpError(404, 'no-route', 'no such endpoint');
}

function isUiPath(req: IncomingMessage): boolean {
  const p = pathOf(req);
  return p === '/ui' || p.startsWith('/ui/');
}

function queryAuthorized(req: IncomingMessage, expected: Buffer): boolean {
  const q = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  return q !== null && timingSafeEqual(digest(q), expected);
}

/**
 * Run a host write: refused once the daemon is stopping (it must not start
 * new durable work), tracked so shutdown waits for it, logged as a host write
 * (names and sizes, never data).
 */
async function hostWrite(ctx: ApiContext, vm: VmEntry, op: 'put' | 'delete', guid: string, name: Uint8Array,
  write: () => Promise<unknown>, detail: Record<string, number>): Promise<void> {
  if (ctx.isStopping()) throw new HttpError(503, 'stopping', 'daemon stopping');
  try {
    await ctx.work.track(write());
  } catch (e) {
    if (e instanceof HostWriteError) throw new HttpError(PROBLEM_STATUS[e.problem], e.problem, e.message);
    ctx.logger.error({ vm: vm.id, op, guid, name: nameKey(name), err: (e as Error).message }, 'host write failed; store unchanged');
    if (e instanceof OwnershipLostError) throw new HttpError(409, 'ownership-lost', `${e.message}; nothing changed`);
    throw new HttpError(500, 'persist-failed', 'the store could not be written; nothing changed');
  }
  ctx.metrics.hostWrites.inc({ op });
  ctx.logger.info({ vm: vm.id, op, guid, name: nameKey(name), ...detail }, 'host write');
}

async function vmFor(ctx: ApiContext, id: string, readOnly: boolean): Promise<VmEntry> {
  try {
    if (readOnly) return await ctx.registry.view(id);
    // As at a HELLO: a VM nobody here is connected to may have been written elsewhere since.
    ctx.registry.forgetIdle(id);
    return await ctx.registry.get(id, false);
  } catch (e) {
    if (!(e instanceof VmError)) throw e;
    if (e.reason === 'store-unavailable') throw new HttpError(500, e.reason, e.message);
    throw new HttpError(e.reason === 'bad-vm-id' ? 400 : 404, e.reason, e.message);
  }
}

function guidOf(text: string): string {
  try { return parseGuidOrAlias(text); } catch { throw new HttpError(400, 'bad-guid', `not a GUID: ${JSON.stringify(text.slice(0, 60))}`); }
}

function wrapProblem<T>(fn: () => T): T {
  try { return fn(); } catch (e) {
    if (e instanceof HostWriteError) throw new HttpError(PROBLEM_STATUS[e.problem], e.problem, e.message);
    throw e;
  }
}

function allow(method: string, methods: string[]): void {
  if (!methods.includes(method)) throw new HttpError(405, 'method-not-allowed', `${method} not allowed here (${methods.join(', ')})`);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const p = q < 0 ? url : url.slice(0, q);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

function decodeSegment(s: string): string {
  try { return decodeURIComponent(s); } catch { throw new HttpError(400, 'bad-path', 'path segment is not valid percent-encoded UTF-8'); }
}

/** Read a JSON body, refusing it as soon as it passes MAX_BODY_BYTES rather than after. */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) { req.resume(); reject(new HttpError(413, 'body-too-large', `body over ${MAX_BODY_BYTES} bytes`)); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) { failed = true; reject(new HttpError(413, 'body-too-large', `body over ${MAX_BODY_BYTES} bytes`)); return; }
      chunks.push(c);
    });
    req.on('error', (e) => { failed = true; reject(e); });
    req.on('end', () => {
      if (failed) return;
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { reject(new HttpError(400, 'bad-json', 'body is not JSON')); }
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) { res.end(); return; }
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Compare digests, not tokens: equal length for timingSafeEqual, and no early exit on a prefix. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}
