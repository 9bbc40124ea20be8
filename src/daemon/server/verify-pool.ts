import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { inProcessVerifier, type AuthVerifier, type KeyDatabase } from '../../auth/verifier.js';
import type { Pkcs7Result, PrivateResult } from '../../auth/pkcs7.js';
import type { SignatureListProblem } from '../../auth/siglist-rules.js';

/** A check sent to a worker (verify-worker.ts). Byte arrays are copies the worker may keep. */
export type VerifyJob = { id: number } & (
  | { op: 'detached'; certData: Uint8Array; content: Uint8Array; anchors: Uint8Array[] }
  | { op: 'private'; certData: Uint8Array; content: Uint8Array }
  | { op: 'siglist'; variable: KeyDatabase; data: Uint8Array });

type JobInput = VerifyJob extends infer J ? J extends { id: number } ? Omit<J, 'id'> : never : never;
export type JobResult = Pkcs7Result | PrivateResult | SignatureListProblem | undefined;

export type VerifyAnswer = { id: number; result: JobResult } | { id: number; error: string };

interface Pending {
  job: VerifyJob;
  resolve(r: JobResult): void;
  reject(e: unknown): void;
  /** The same check on this thread: used when a worker dies or the pool is closed. */
  fallback(): Promise<JobResult>;
}

interface Slot { worker: Worker; busy: Pending | undefined }

/** Threads for a host with `cores` CPUs: leave one for the event loop, at most 4. */
export function defaultVerifyWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

/**
 * The daemon's signature checks, off the event loop (issue 18 item 2). One
 * thread serves every VM, so a guest whose authenticated write costs tens of ms
 * (or, before the per-request caps, seconds) of PKCS#7 and X.509 work would
 * freeze every other VM's firmware for that long; here that work runs on worker
 * threads and the event loop only copies bytes in and the answer out.
 *
 * Per-VM order is the service's (its queue awaits each write before the next
 * request), so a VM has at most one job here at a time, and jobs start in
 * arrival order: with N VMs writing, each waits for at most N − 1 others. The
 * answers are those of auth/verifier.ts's in-process functions, computed by the
 * same code; a worker that dies has its job re-run on this thread (correct,
 * just not off-loop) and is replaced for the next one.
 */
export class VerifyPool implements AuthVerifier {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number = defaultVerifyWorkers(), private readonly onWorkerError?: (e: Error) => void) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`verify workers must be a positive integer, got ${size}`);
  }

  /** Start the threads now, so the first write does not pay their start-up (~50 ms of module loading). */
  warm(): void {
    while (!this.closed && this.slots.length < this.size) this.spawn();
  }

  verifyDetached(certData: Uint8Array, content: Uint8Array, anchors: readonly Uint8Array[]): Promise<Pkcs7Result> {
    // slice(): a view would carry its whole backing buffer (a request, a stored variable) across.
    return this.submit({ op: 'detached', certData: certData.slice(), content: content.slice(), anchors: anchors.map((a) => a.slice()) },
      () => inProcessVerifier.verifyDetached(certData, content, anchors)) as Promise<Pkcs7Result>;
  }

  verifyPrivate(certData: Uint8Array, content: Uint8Array): Promise<PrivateResult> {
    return this.submit({ op: 'private', certData: certData.slice(), content: content.slice() },
      () => inProcessVerifier.verifyPrivate(certData, content)) as Promise<PrivateResult>;
  }

  signatureListFormat(variable: KeyDatabase, data: Uint8Array): Promise<SignatureListProblem | undefined> {
    return this.submit({ op: 'siglist', variable, data: data.slice() },
      () => inProcessVerifier.signatureListFormat(variable, data)) as Promise<SignatureListProblem | undefined>;
  }

  /** Jobs waiting for a thread (metrics, tests). */
  get queued(): number { return this.queue.length; }

  /** Stop the threads; checks still waiting, and any asked for later, run on this thread. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const p of this.queue.splice(0)) this.runHere(p);
    for (const s of slots) if (s.busy) this.runHere(s.busy);
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private submit(input: JobInput, fallback: () => Promise<JobResult>): Promise<JobResult> {
    if (this.closed) return fallback();
    return new Promise<JobResult>((resolve, reject) => {
      this.queue.push({ job: { ...input, id: this.nextId++ } as VerifyJob, resolve, reject, fallback });
      this.pump();
    });
  }

  private runHere(p: Pending): void {
    let r: Promise<JobResult>;
    try { r = p.fallback(); } catch (e) { p.reject(e); return; }
    r.then(p.resolve, p.reject);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.busy === undefined);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.worker.postMessage(p.job);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url));
    worker.unref(); // an idle pool never keeps the process alive; close() ends it
    const slot: Slot = { worker, busy: undefined };
    this.slots.push(slot);
    worker.on('message', (a: VerifyAnswer) => {
      const p = slot.busy;
      if (!p || p.job.id !== a.id) return;
      slot.busy = undefined;
      // A check that threw there throws here too: the in-process run gives the caller the same error.
      if ('error' in a) this.runHere(p); else p.resolve(a.result);
      this.pump();
    });
    const lost = (e: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // already closed or reported
      this.slots.splice(i, 1);
      if (!this.closed) this.onWorkerError?.(e);
      if (slot.busy) this.runHere(slot.busy);
      slot.busy = undefined;
      this.pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`verify worker exited with code ${code}`)));
    return slot;
  }
}
