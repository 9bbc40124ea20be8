import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { tempDir, spawnServe, waitListening, setVar, sleep, EFI_SUCCESS, type ServeProcess } from './helpers.js';
import { prng } from '../../scripts/torture/ops.js'; // one seeded PRNG: a failing round re-runs from the seed in the message

/**
 * kill -9 during NV writes (DESIGN.md testing tier 4): whatever the moment,
 * the store must parse and hold every write the guest was told succeeded.
 * 100 rounds, 25 per test so no single test runs long. Daemons are started
 * two rounds ahead, so a round costs its own writes, not a Node start-up.
 */
const ROUNDS_PER_TEST = 25;
const TESTS = 4;
const PREWARM = 2;


interface Slot { store: string; sock: string; proc: ServeProcess; ready: Promise<void> }

function startSlot(dir: string, n: number): Slot {
  const store = join(dir, `round-${n}.json`);
  const sock = join(dir, `round-${n}.sock`);
  const proc = spawnServe(['--store', store, '--socket', sock, '--log-level', 'warn', '--rate', '0']);
  return { store, sock, proc, ready: waitListening(sock, 15_000, proc.exited) };
}

/** One round: stream distinct NV writes, SIGKILL at a random moment after the first acknowledgement, check the store. */
async function round(slot: Slot, n: number, random: () => number, seed: number): Promise<number> {
  await slot.ready.catch((e: Error) => { throw new Error(`round ${n}: ${e.message}: ${slot.proc.stderr()}`); });
  const c = await DaemonClient.connect(slot.sock, 'victim');
  const acked = new Map<string, Uint8Array>();
  let firstAck!: () => void;
  const first = new Promise<void>((r) => { firstAck = r; });
  const writer = (async () => {
    for (let i = 0; ; i++) {
      const name = `Kill${n}_${i}`;
      const data = Uint8Array.from({ length: 48 }, (_, k) => (i * 31 + k + n) & 0xff);
      let status: bigint;
      try { status = await setVar(c, name, data); } catch { return; } // the daemon is gone
      assert.equal(status, EFI_SUCCESS, `round ${n} write ${i}`);
      acked.set(name, data);
      firstAck();
    }
  })();
  // If the daemon dies on its own the writer ends without an ack; do not wait forever for one.
  writer.then(firstAck, firstAck);
  await first;
  assert.ok(acked.size > 0, `round ${n}: the daemon acknowledged nothing: ${slot.proc.stderr()}`);
  await sleep(random() * 60);
  slot.proc.child.kill('SIGKILL');
  const exit = await slot.proc.exited;
  assert.equal(exit.signal, 'SIGKILL');
  await writer;
  await c.close().catch(() => undefined);

  const loaded = await loadStoreFile(slot.store); // throws if torn
  const byName = new Map(loaded.variables.map((v) => [nameKey(v.name), v]));
  for (const [name, data] of acked) {
    const v = byName.get(name);
    assert.ok(v, `round ${n} (seed ${seed}): ${name} was acknowledged but is not in the store`);
    assert.deepEqual(new Uint8Array(v.data), data, `round ${n}: ${name} holds different data`);
  }
  return acked.size;
}

for (let k = 0; k < TESTS; k++) {
  test(`SIGKILL at a random moment during NV writes never loses an acknowledged write nor tears the store (rounds ${k * ROUNDS_PER_TEST + 1}-${(k + 1) * ROUNDS_PER_TEST})`, async (t) => {
    const dir = tempDir(t);
    const seed = (Date.now() ^ (k * 0x9e3779b9)) >>> 0;
    const random = prng(seed);
    const slots: Slot[] = [];
    t.after(() => { for (const s of slots) s.proc.child.kill('SIGKILL'); });
    for (let i = 0; i < Math.min(PREWARM, ROUNDS_PER_TEST); i++) slots.push(startSlot(dir, i));
    let writes = 0;
    for (let i = 0; i < ROUNDS_PER_TEST; i++) {
      if (i + PREWARM < ROUNDS_PER_TEST) slots.push(startSlot(dir, i + PREWARM));
      writes += await round(slots[i]!, i, random, seed);
    }
    assert.ok(writes >= ROUNDS_PER_TEST, 'every round acknowledged at least one write before the kill');
    t.diagnostic(`seed ${seed}: ${writes} acknowledged writes over ${ROUNDS_PER_TEST} rounds`);
  });
}
