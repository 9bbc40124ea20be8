/**
 * Issue 18 item 3 (daemon part): one VM sending expensive authenticated writes
 * back to back must not stall another VM on the same daemon. Real sockets, a real
 * daemon (in this process, so its event loop is the one measured), two VMs: A
 * alternates Setup-Mode db writes of 200 distinct X.509 lists (each parsed by the
 * format check) with private writes whose PKCS#7 makes the signer lookup compare
 * a long issuer Name against many same-serial certificates; B reads a variable
 * every 2 ms (latency counted from when each read was due). B's p99 is asserted
 * with headroom for this loaded 2-core machine (the strict 5 ms figure is
 * `npm run bench fairness`); the measured figures are printed. FAIR_WORKERS=0 runs
 * the checks on the event loop: before the PKCS#7 work bounds (auth/der.ts,
 * trust.ts) that failed with a p99 of seconds; with them each check costs a few ms,
 * and the pool (daemon/server/verify-pool.ts, tested in verify-pool.test.ts) takes even
 * that off the loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { getVariableRequest, replyStatus, replyData } from '../../src/client/requests.js';
import { x509Certificates } from '../../src/wire/siglist.js';
import { startDaemon, EFI_SUCCESS } from './helpers.js';
import { runFairness, describeFigures, type HostileRequest } from '../helpers/fairness.js';
import { manyListsDbWrite, privateLookupWrite, smallCerts, IMAGE_SECURITY_GUID, HOSTILE_GUID } from '../helpers/hostile.js';

const SECURITY_VIOLATION = 0x800000000000001an;
const EFI_NOT_FOUND = 0x800000000000000en;

test('a VM sending expensive authenticated writes back to back does not stall another VM\'s GetVariable', { timeout: 180_000 }, async (t) => {
  const workers = process.env.FAIR_WORKERS ? { verifyWorkers: Number(process.env.FAIR_WORKERS) } : {};
  const d = await startDaemon(t, { rateLimit: { ratePerSecond: 0, burst: 0 }, ...workers });
  const certs = await smallCerts(200, Uint8Array.of(0x01, 0x02), 'fair-db');
  // Rounds of distinct writes (a later db timestamp each round, a different private payload), so the
  // hostile phase lasts long enough to sample the quiet VM even now that each check is bounded (h18a's caps).
  const requests: HostileRequest[] = [];
  for (let round = 0; round < 8; round++) {
    requests.push(
      { bytes: await manyListsDbWrite(200, 1 + 2 * round, certs), expect: EFI_SUCCESS, label: `db, 200 X.509 lists, round ${round}` },
      { bytes: await privateLookupWrite(600, 32, 1 + 2 * round), expect: SECURITY_VIOLATION, label: `private, 600-RDN issuer, 32 same-serial certs, round ${round}` },
      { bytes: await manyListsDbWrite(200, 2 + 2 * round, certs), expect: EFI_SUCCESS, label: `db, 200 X.509 lists, later, round ${round}` },
      { bytes: await privateLookupWrite(300, 32, 2 + 2 * round), expect: SECURITY_VIOLATION, label: `private, 300-RDN issuer, round ${round}` },
    );
  }
  for (const r of requests) assert.ok(r.bytes.length <= 65536 - 24, `${r.label}: ${r.bytes.length} bytes fit the MM buffer`);
  const quiet = await runFairness(d.socket, []);
  const f = await runFairness(d.socket, requests);
  t.diagnostic(`alone: ${describeFigures(quiet)}`);
  t.diagnostic(`while the other VM writes: ${describeFigures(f)}; hostile writes, ms each: ${f.writeMs.map((w) => w.toFixed(0)).join(', ')}`);
  assert.ok(f.reads >= 30, `the quiet VM was served while the hostile one wrote (${f.reads} reads)`);
  // A robust bound for a shared, loaded 2-core machine (the strict 5 ms figure is `npm run bench fairness`):
  // 25 ms, or eight times what the quiet VM sees with nothing else running when the host itself is that slow.
  const bound = Math.max(25, 8 * quiet.p99);
  assert.ok(f.p99 <= bound, `quiet VM p99 ${f.p99.toFixed(2)} ms <= ${bound.toFixed(2)} ms`);
  // Whatever the host's load, the quiet VM never waits for a whole hostile write (on the event loop it did: p99 = seconds).
  // (Checked only when the writes are long enough for that to mean something: bounded checks cost a few ms.)
  const cheapest = Math.min(...f.writeMs);
  if (cheapest >= 50) assert.ok(f.p99 < cheapest / 2, `quiet VM p99 ${f.p99.toFixed(2)} ms well below the cheapest hostile write (${cheapest.toFixed(2)} ms)`);

  // The hostile VM's own outcome is the rules': db holds the last accepted write, the refused private variable does not exist.
  const a = await DaemonClient.connect(d.socket, 'vm-hostile');
  t.after(() => a.close());
  const db = (await a.process(getVariableRequest({ name: 'db', guid: IMAGE_SECURITY_GUID, dataSize: 65000 }), 65536)).reply!;
  assert.equal(replyStatus(db), EFI_SUCCESS);
  assert.deepEqual(x509Certificates(replyData(db).data), certs);
  const priv = (await a.process(getVariableRequest({ name: 'HostileLookup', guid: HOSTILE_GUID, dataSize: 64 }), 65536)).reply!;
  assert.equal(replyStatus(priv), EFI_NOT_FOUND);
});
