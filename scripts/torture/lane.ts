/**
 * One lane of the crash torture: one store, one `uefi-vars serve` after
 * another on it. Each round starts the daemon, streams guest writes over its
 * socket, SIGKILLs it at a random moment and checks what the store holds
 * against the model of acknowledged writes (ops.ts). The next round's start is
 * the restart: it must load the store the kill left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { replyStatus } from '../../src/client/requests.js';
import { loadStoreFile, StoreFileError } from '../../src/persist/store-file.js';
import type { PgStore } from '../../src/persist/postgres.js';
import type { Variable } from '../../src/store/variable.js';
import { displayName } from '../../src/wire/ucs2.js';
import { statusName } from '../../src/wire/status.js';
import type { GeneratedKey } from '../../src/auth/cert-build.js';
import { OpStream, TORTURE_GUID, prng, sameModel, describeDiff, type Model, type Op } from './ops.js';

export type Backend = 'json' | 'fd' | 'postgres';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface LaneConfig {
  backend: Backend;
  lane: number;
  kills: number;
  seed: number;
  /** A private directory for the store (file backends) and the socket. */
  dir: string;
  /** postgres: the database URL, and a store the checker takes the VM over with after each kill. */
  pgUrl?: string;
  pgReader?: PgStore;
  signer?: GeneratedKey;
  /** Called after every checked kill (progress). */
  onKill?: () => void;
  /** Start no further round once this says so (a time budget, Ctrl-C). */
  stop?: () => boolean;
}

export interface LaneResult {
  kills: number;
  /** Ops answered before a kill (any status). */
  acked: number;
  /** Kills where the op in flight turned out durable / not durable / there was none. */
  inFlightApplied: number;
  inFlightLost: number;
  idle: number;
  /** Kills before the first answer (while starting, loading, saying HELLO or making the first write). */
  early: number;
  maxTempFiles: number;
  failures: string[];
}

interface Daemon { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stderr: () => string }

function startDaemon(c: LaneConfig, sock: string): Daemon {
  const store = c.backend === 'postgres'
    ? ['--postgres', c.pgUrl!, '--owner', `torture-${c.lane}`]
    : ['--store', storePath(c)];
  const child = spawn(process.execPath, [CLI, 'serve', ...store, '--socket', sock, '--log-level', 'warn', '--rate', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err = (err + b.toString('utf8')).slice(-4000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, exited, stderr: () => err };
}

const storePath = (c: LaneConfig): string => join(c.dir, c.backend === 'fd' ? 'vars.fd' : 'vars.json');
const vmId = (c: LaneConfig): string => `torture-${c.lane}`;
/** A loaded machine (2 cores, many daemons starting at once) can take many seconds to start one. */
const START_TIMEOUT_MS = 90_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function listening(path: string, gone: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection(path);
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return true;
    if (gone() || Date.now() > end) return false;
    await sleep(5);
  }
}

/** The torture variables the store holds now; a store that does not parse throws. */
async function storeModel(c: LaneConfig): Promise<Model> {
  let vars: Variable[];
  if (c.backend === 'postgres') {
    // Take the VM over, as the restarted daemon will: the killed daemon's last statement may still be
    // running on the server and commit after a mere look. Taking over waits for it, and fences out
    // one that comes later, so what is read here is what the next daemon reads (postgres.ts, epochs).
    vars = (await c.pgReader!.claim(vmId(c))).variables;
  } else {
    try {
      vars = (await loadStoreFile(storePath(c))).variables;
    } catch (e) {
      // Killed before the first save ever finished: no file yet is an empty store.
      if (e instanceof StoreFileError && e.detail === 'no such file') vars = [];
      else throw e;
    }
  }
  const m: Model = new Map();
  for (const v of vars) if (v.guid === TORTURE_GUID) m.set(displayName(v.name), { attributes: v.attributes, data: new Uint8Array(v.data) });
  return m;
}

async function tempFiles(c: LaneConfig): Promise<number> {
  if (c.backend === 'postgres') return 0;
  return (await readdir(c.dir)).filter((f) => f.endsWith('.tmp')).length;
}

export async function runLane(c: LaneConfig): Promise<LaneResult> {
  const random = prng(c.seed);
  // An .fd store has no place for a private authenticated variable's signer digest (docs/formats.md),
  // so after a restart such a variable can no longer be updated (its digest check fails): no
  // authenticated writes there (docs/durability.md).
  const ops = new OpStream(random, c.backend === 'fd' ? undefined : c.signer);
  const res: LaneResult = { kills: 0, acked: 0, inFlightApplied: 0, inFlightLost: 0, idle: 0, early: 0, maxTempFiles: 0, failures: [] };
  const sock = join(c.dir, 'd.sock');
  let model: Model = new Map();
  for (let round = 0; round < c.kills && !c.stop?.(); round++) {
    const where = `${c.backend} lane ${c.lane} kill ${round + 1} (seed ${c.seed})`;
    const d = startDaemon(c, sock);
    let dead = false;
    void d.exited.then(() => { dead = true; });
    // One kill in ten lands while the daemon starts, loads the store or makes its start-up save.
    const early = random() < 0.1;
    let killed = false;
    const kill = (): void => { if (!killed) { killed = true; d.child.kill('SIGKILL'); } };
    if (early) setTimeout(kill, random() * 600);
    let pending: Op | undefined;
    let answered = 0;
    try {
      const t0 = performance.now();
      const up = await listening(sock, () => dead, START_TIMEOUT_MS);
      if (!up && !killed) {
        const how = dead ? 'exited' : `was still not listening after ${((performance.now() - t0) / 1000).toFixed(0)} s`;
        kill();
        res.failures.push(`${where}: the daemon did not restart on the store the last kill left (it ${how}): ${d.stderr().trim().split('\n').pop() ?? ''}`);
        break;
      }
      const client = up ? await DaemonClient.connect(sock, vmId(c)).catch(() => undefined) : undefined;
      if (client) {
        let deadline = Infinity;
        for (;;) {
          if (killed) break;
          const op = await ops.next(model);
          pending = op;
          let status: bigint;
          try {
            const r = await client.process(op.request, 65536);
            status = replyStatus(r.reply!);
          } catch { break; } // the daemon is gone: `pending` is the op in flight
          pending = undefined;
          answered++;
          res.acked++;
          if (status !== op.expect) {
            res.failures.push(`${where}: ${op.kind} ${op.name} answered ${statusName(status)}, the rules say ${statusName(op.expect)}`);
            kill();
            break;
          }
          if (status === 0n) model = op.apply(model);
          if (answered === 1 && !early) {
            // Kill a random moment after the first answer: mostly soon, now and then after many writes.
            const wait = random() < 0.8 ? random() * 25 : random() * 200;
            deadline = performance.now() + wait;
            setTimeout(kill, wait);
          }
          if (performance.now() > deadline + 1000) kill(); // the timer should have fired: do not stream forever
        }
        client.close().catch(() => undefined);
      }
    } finally {
      kill();
    }
    const exit = await d.exited;
    if (exit.signal !== 'SIGKILL') {
      res.failures.push(`${where}: the daemon exited by itself (${exit.code ?? exit.signal}): ${d.stderr().trim().split('\n').pop() ?? ''}`);
      break;
    }
    if (res.failures.length) break;
    res.kills++;
    if (answered === 0) res.early++;

    let held: Model;
    try {
      held = await storeModel(c);
    } catch (e) {
      res.failures.push(`${where}: the store does not load after the kill: ${(e as Error).message}`);
      break;
    }
    if (sameModel(held, model)) {
      if (pending && !sameModel(pending.apply(model), model)) res.inFlightLost++; else res.idle++;
    } else if (pending && sameModel(held, pending.apply(model))) {
      // The op in flight was made durable before the kill; the guest was never told. Either is right.
      model = pending.apply(model);
      res.inFlightApplied++;
    } else {
      res.failures.push(`${where}: the store is not the acknowledged writes${pending ? ` (with or without the ${pending.kind} ${pending.name} in flight)` : ''}: ${describeDiff(model, held)}`);
      break;
    }
    // The daemon writes one temp file at a time; more means earlier kills' files were never removed.
    const temps = await tempFiles(c);
    res.maxTempFiles = Math.max(res.maxTempFiles, temps);
    if (temps > 1) { res.failures.push(`${where}: ${temps} temp files in the store's directory: earlier kills' were not removed`); break; }
    c.onKill?.();
  }
  return res;
}
