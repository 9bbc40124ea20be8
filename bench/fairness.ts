import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../src/daemon/server/server.js';
import { createLogger } from '../src/daemon/server/logging.js';
import { manyListsDbWrite, privateLookupWrite, smallCerts } from '../test/helpers/hostile.js';
import { runFairness, type FairnessFigures, type HostileRequest } from '../test/helpers/fairness.js';
import { fmt, line } from './stats.js';

const SUCCESS = 0n;
const SECURITY_VIOLATION = 0x800000000000001an;

async function scenario(verifyWorkers: number | undefined, requests: HostileRequest[]): Promise<{ quiet: FairnessFigures; loaded: FairnessFigures }> {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-fair-'));
  const d = await Daemon.start({
    layout: { kind: 'dir', dir: join(dir, 'vms') }, socketPath: join(dir, 'data.sock'),
    logger: createLogger('silent'), rateLimit: { ratePerSecond: 0, burst: 0 },
    ...(verifyWorkers === undefined ? {} : { verifyWorkers }),
  });
  try {
    const quiet = await runFairness(join(dir, 'data.sock'), [], 1000);
    const loaded = await runFairness(join(dir, 'data.sock'), requests);
    return { quiet, loaded };
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * (issue 18) Two VMs on one daemon (in this process, so its event loop is the one
 * measured): the first sends expensive authenticated writes back to back — Setup-Mode
 * db writes of 200 distinct X.509 lists, private writes whose PKCS#7 names a
 * 600-RDN issuer next to 32 same-serial certificates — while the second reads a
 * variable in a loop. Its p99 against the 5 ms floor, with the signature checks on
 * the worker pool (the daemon's default) and on the event loop (--verify-workers 0
 * in the config, the behaviour before), next to the second VM reading alone.
 */
export async function benchFairness(): Promise<void> {
  const certs = await smallCerts(200, Uint8Array.of(0x01, 0x02), 'bench-db');
  const requests: HostileRequest[] = [];
  for (let i = 1; i <= 3; i++) {
    requests.push({ bytes: await manyListsDbWrite(200, i, certs), expect: SUCCESS, label: `db ${i}` });
    requests.push({ bytes: await privateLookupWrite(600, 32, i), expect: SECURITY_VIOLATION, label: `private ${i}` });
  }
  for (const [label, workers] of [['worker pool (default)', undefined], ['on the event loop (before)', 0]] as const) {
    const { quiet, loaded } = await scenario(workers, requests);
    const worst = Math.max(...loaded.writeMs);
    line(`second VM GetVariable p99 while first VM sends hostile writes, ${label}: ms (floor 5)`, `${fmt(loaded.p99, 2)} (max ${fmt(loaded.max, 2)}, ${loaded.reads} reads)`);
    line(`  event-loop stall max, ${label}: ms`, `${fmt(loaded.stall, 2)} (second VM alone: p99 ${fmt(quiet.p99, 2)}, stall ${fmt(quiet.stall, 2)})`);
    line(`  hostile write, ${label}: ms worst / all`, `${fmt(worst, 0)} / ${loaded.writeMs.map((w) => fmt(w, 0)).join(' ')}`);
  }
}
