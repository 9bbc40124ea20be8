import { parentPort } from 'node:worker_threads';
import { inProcessVerifier } from '../../auth/verifier.js';
import type { VerifyJob, VerifyAnswer, JobResult } from './verify-pool.js';

/**
 * One signature-check thread of the daemon's pool (verify-pool.ts): runs the
 * pure checks of auth/verifier.ts on the bytes it is sent, one job at a time,
 * and posts the answer back under the job's id. Holds no VM state.
 */
const port = parentPort!;

async function run(job: VerifyJob): Promise<JobResult> {
  switch (job.op) {
    case 'detached': return inProcessVerifier.verifyDetached(job.certData, job.content, job.anchors);
    case 'private': return inProcessVerifier.verifyPrivate(job.certData, job.content);
    case 'siglist': return inProcessVerifier.signatureListFormat(job.variable, job.data);
  }
}

port.on('message', (job: VerifyJob) => {
  void run(job).then(
    (result) => { port.postMessage({ id: job.id, result } satisfies VerifyAnswer); },
    (e: unknown) => { port.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) } satisfies VerifyAnswer); },
  );
});
