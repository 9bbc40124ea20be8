import { parentPort, workerData } from 'node:worker_threads';
import { prepareUpdate, type StoreVerdict } from './apply-store.js';
import { DirSyncer, FileTarget, Semaphore } from './apply-targets.js';
import type { UpdateTarget } from '../auth/auth2-build.js';
import type { DeviceOptions } from './args.js';

/**
 * One `apply --jobs N` worker thread (N > 1, store files): checks the stores the
 * main thread hands it, one at a time, while up to `writes` finished ones are
 * written. Messages in: `{ i, path }` (a store), `'end'`. Out: `{ i, verdict }`,
 * then `'finished'` once every write is durable.
 */
export interface WorkerInit { data: Uint8Array; target: UpdateTarget; dev: DeviceOptions; dryRun: boolean; writes: number }
export type WorkerResult = { i: number; verdict: StoreVerdict } | 'finished';

const init = workerData as WorkerInit;
const port = parentPort!;
const update = prepareUpdate(init.target, init.data);
const dirs = new DirSyncer();
const writes = new Semaphore(init.writes);
const queue: { i: number; path: string }[] = [];
const pending = new Set<Promise<void>>();
let ended = false;
let busy = false;
let finished = false;

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const { i, path } = queue.shift()!;
    const { done } = await new FileTarget(path, dirs).start(update, init.dev, init.dryRun, writes);
    const p = done.then((verdict) => { port.postMessage({ i, verdict } satisfies WorkerResult); });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  busy = false;
  if (ended && !finished) {
    finished = true;
    await Promise.all(pending);
    port.postMessage('finished' satisfies WorkerResult);
  }
}

port.on('message', (m: { i: number; path: string } | 'end') => {
  if (m === 'end') ended = true; else queue.push(m);
  void drain();
});
