import { request as httpRequest } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { parseAttributes } from '../wire/attributes.js';
import { fromHex, toHex } from '../wire/hex.js';
import { parseCommand, type CommandSpec } from './command.js';
import { UsageError, JSON_OPTION } from './args.js';
import { guidFor } from './set.js';
import { Exit, out, err, writeStdout } from './io.js';

/** The management API's unix socket when none is named: what `npm start` and docs/systemd use, in that order. */
const DEFAULT_SOCKETS = ['./uefi-vars-api.sock', '/run/uefi-vars-api/api.sock'];

export const apiSpec: CommandSpec = {
  name: 'api',
  summary: 'talk to a running daemon\'s management API (no curl needed)',
  usage: [
    'api [--socket PATH | --url URL (--token-file F | --token T)] vms',
    'api [...] variables VM',
    'api [...] get VM NAME [GUID] [--out FILE|-]',
    'api [...] set VM NAME [GUID] ATTRS (--hex H | --data-file F) [--time-hex T]',
    'api [...] delete VM NAME [GUID]',
    'api [...] secure-boot VM',
  ],
  options: [
    { name: 'socket', type: 'string', value: 'PATH', help: `the API's Unix socket (default the first of ${DEFAULT_SOCKETS.join(', ')} that exists)` },
    { name: 'url', type: 'string', value: 'URL', help: 'the API over TCP, http://127.0.0.1:PORT (serve --api-port)' },
    { name: 'token-file', type: 'string', value: 'FILE', help: 'the bearer token for --url, read from FILE' },
    { name: 'token', type: 'string', value: 'TOKEN', help: 'the bearer token for --url (visible in ps: prefer --token-file or UEFI_VARS_API_TOKEN)' },
    { name: 'hex', type: 'string', value: 'HEX', help: 'set: the data as hex digits' },
    { name: 'data-file', type: 'string', value: 'FILE', help: 'set: the data, raw bytes from FILE' },
    { name: 'time-hex', type: 'string', value: 'HEX', help: 'set: the EFI_TIME of a time-based authenticated variable, 32 hex digits' },
    { name: 'out', short: 'o', type: 'string', value: 'FILE', help: 'get: write the raw data to FILE (- for stdout) instead of hex' },
    JSON_OPTION,
  ],
  details: 'Host writes bypass the guest\'s rules (docs/protocol.md section 8); this is how a VM in PostgreSQL is written.\n' +
    'GUID may be left out for a well-known NAME. Exit 0 on success, 2 when the API refuses (404 not found, 409 conflict), 1 otherwise.',
};

interface Answer { status: number; body: unknown; raw: string }

export async function runApi(argv: string[]): Promise<number> {
  const p = parseCommand(apiSpec, argv);
  const [action, ...args] = p.positional;
  const json = p.flags.has('json');
  const call = await connection(p.values);
  const need = (n: number, usage: string): string[] => {
    if (args.length < n || args.length > n + 1) throw new UsageError(`usage: uefi-vars api ${usage}`);
    return args;
  };
  const varPath = (vm: string, name: string, guidText: string | undefined): string =>
    `/vms/${encodeURIComponent(vm)}/variables/${guidFor(name, guidText)}/${encodeURIComponent(name)}`;
  let a: Answer;
  switch (action) {
    case 'vms': {
      if (args.length) throw new UsageError('usage: uefi-vars api vms');
      a = await call('GET', '/vms');
      if (ok(a) && !json) {
        for (const v of (a.body as { vms: Array<Record<string, unknown>> }).vms) {
          out(`${String(v['id'])}  ${v['loaded'] ? 'loaded' : 'stored'}  ${String(v['variables'] ?? '-')} variables  ${String(v['usedStorage'] ?? '-')}/${String(v['maxStorage'] ?? '-')} bytes${v['owner'] ? `  owner ${String(v['owner'])}` : ''}`);
        }
        return Exit.OK;
      }
      break;
    }
    case 'variables': {
      if (args.length !== 1) throw new UsageError('usage: uefi-vars api variables VM');
      a = await call('GET', `/vms/${encodeURIComponent(args[0]!)}/variables`);
      if (ok(a) && !json) {
        for (const v of (a.body as { variables: Array<Record<string, unknown>> }).variables) {
          out(`  ${String(v['guid'])}  ${String(v['name']).padEnd(24)} ${String(v['attributesText']).padEnd(12)} ${String(v['size']).padStart(6)} bytes`);
        }
        return Exit.OK;
      }
      break;
    }
    case 'get': {
      const [vm, name, guid] = need(2, 'get VM NAME [GUID] [--out FILE|-]');
      a = await call('GET', varPath(vm!, name!, guid));
      if (ok(a)) {
        const data = fromHex(String((a.body as { dataHex?: unknown }).dataHex ?? ''), 'dataHex');
        const file = p.values.get('out');
        if (file === '-') await writeStdout(data);
        else if (file) await writeFile(file, data);
        if (json) (file === '-' ? err : out)(a.raw.trimEnd());
        else if (!file) out(toHex(data));
        return Exit.OK;
      }
      break;
    }
    case 'set': {
      const [vm, name, ...rest] = args;
      if (!vm || !name || rest.length < 1 || rest.length > 2) throw new UsageError('usage: uefi-vars api set VM NAME [GUID] ATTRS (--hex H | --data-file F)');
      const attrText = rest[rest.length - 1]!;
      const attributes = parseAttributes(attrText);
      if (attributes === undefined) throw new UsageError(`ATTRS: not a number or NV|BS|RT|HR|AT names: ${JSON.stringify(attrText)}`);
      const data = await dataOf(p.values);
      const body: Record<string, unknown> = { attributes, dataHex: toHex(data) };
      if (p.values.has('time-hex')) body['timeHex'] = p.values.get('time-hex');
      a = await call('PUT', varPath(vm, name, rest.length === 2 ? rest[0] : undefined), body);
      if (ok(a) && !json) { out(`${vm}: ${name} written, ${data.length} bytes`); return Exit.OK; }
      break;
    }
    case 'delete': {
      const [vm, name, guid] = need(2, 'delete VM NAME [GUID]');
      a = await call('DELETE', varPath(vm!, name!, guid));
      if (ok(a)) { if (json) out(JSON.stringify({ deleted: true, vm, name })); else out(`${vm!}: ${name!} deleted`); return Exit.OK; }
      break;
    }
    case 'secure-boot': {
      if (args.length !== 1) throw new UsageError('usage: uefi-vars api secure-boot VM');
      a = await call('GET', `/vms/${encodeURIComponent(args[0]!)}/secure-boot`);
      if (ok(a) && !json) { out(JSON.stringify(a.body, null, 2)); return Exit.OK; }
      break;
    }
    default:
      throw new UsageError(action === undefined ? 'say vms, variables, get, set, delete or secure-boot' : `unknown action ${JSON.stringify(action)} (vms, variables, get, set, delete, secure-boot)`);
  }
  if (ok(a)) { out(a.raw.trimEnd()); return Exit.OK; }
  const e = a.body as { error?: string; message?: string } | undefined;
  err(`uefi-vars api: ${a.status} ${e?.error ?? ''}${e?.message ? `: ${e.message}` : ''}`.trim());
  if (json && a.raw) out(a.raw.trimEnd());
  return a.status === 404 || a.status === 409 ? Exit.EFI_ERROR : Exit.FAILURE;
}

const ok = (a: Answer): boolean => a.status >= 200 && a.status < 300;

async function dataOf(values: Map<string, string>): Promise<Uint8Array> {
  const hex = values.get('hex');
  const file = values.get('data-file');
  if ((hex === undefined) === (file === undefined)) throw new UsageError('give exactly one of --hex H, --data-file F');
  if (hex !== undefined) {
    try { return fromHex(hex.replace(/\s+/g, ''), '--hex'); } catch (e) { throw new UsageError((e as Error).message); }
  }
  try { return new Uint8Array(await readFile(file!)); } catch (e) { throw new UsageError(`${file!}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
}

type Call = (method: string, path: string, body?: unknown) => Promise<Answer>;

async function connection(values: Map<string, string>): Promise<Call> {
  const url = values.get('url');
  let socket = values.get('socket');
  if (url !== undefined && socket !== undefined) throw new UsageError('--socket and --url exclude each other');
  let token = values.get('token') ?? process.env['UEFI_VARS_API_TOKEN'];
  const tokenFile = values.get('token-file');
  if (tokenFile !== undefined) {
    try { token = (await readFile(tokenFile, 'utf8')).trim(); } catch (e) { throw new UsageError(`${tokenFile}: cannot read the token (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  }
  let target: { socketPath: string } | { host: string; port: number };
  let shown: string;
  if (url !== undefined) {
    let u: URL;
    try { u = new URL(url); } catch { throw new UsageError(`--url: not a URL: ${JSON.stringify(url)}`); }
    if (u.protocol !== 'http:') throw new UsageError('--url must be http://127.0.0.1:PORT (the API listens on loopback only)');
    target = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) };
    shown = u.host;
  } else {
    if (socket === undefined) {
      const { existsSync } = await import('node:fs');
      socket = DEFAULT_SOCKETS.find((s) => existsSync(s));
      if (socket === undefined) throw new UsageError(`no API socket at ${DEFAULT_SOCKETS.join(' or ')}; say --socket PATH or --url URL`);
    }
    target = { socketPath: socket };
    shown = socket;
  }
  return (method, path, body) => new Promise<Answer>((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest({
      ...target, method, path, timeout: 30_000,
      headers: {
        ...(token !== undefined && url !== undefined ? { Authorization: `Bearer ${token}` } : {}),
        ...(text !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try { parsed = raw ? JSON.parse(raw) : undefined; } catch { parsed = undefined; }
        resolve({ status: res.statusCode ?? 0, body: parsed, raw });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`${shown}: cannot reach the API (${e.code ?? e.message})`)));
    req.end(text);
  });
}
