/**
 * Randomized differential test of the list discipline (issue 17 items 1-2; spec
 * §2.5.2, §2.5.3, §3.6, §4.5): seeded random operation sequences from random
 * loaded stores, run on VariableService (through handle) and on the independent
 * QEMU list model; after every step the answer, the stored list and the full
 * GetNextVariableName walk must agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G, ST, type Rec, type AuthWrite } from './qemu-list-model.js';
import { Pair, makePool, addSigned, loadedRec, pkRec, type Op, type Pool } from './list-driver.js';
import { sha256List, x509List } from './qemu-list-model.js';

/** mulberry32: small, seedable, good enough to pick operations. */
function prng(seed: number): { int(n: number): number; chance(p: number): boolean; pick<T>(a: readonly T[]): T } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (a) => a[Math.floor(next() * a.length)]!,
  };
}
type Rng = ReturnType<typeof prng>;

const PLAIN_NAMES = ['A', 'Bb', 'LongerName0001'];
const PLAIN_ATTRS = [7, 7, 7, 6, 6, 3, 2, 0x47, 0, 0x87];
const KEYDBS: readonly [string, string][] = [[G.security, 'db'], [G.security, 'db'], [G.security, 'dbx'], [G.global, 'KEK'], [G.global, 'PK']];

/** Private variable writes that are signed for real: the pool every sequence draws from. */
const PRIVATE: AuthWrite[] = [];
for (const signer of ['S1', 'S2']) {
  for (let time = 1; time <= 4; time++) {
    for (const bytes of [Uint8Array.of(0xaa), Uint8Array.of(0xbb, 0xcc), new Uint8Array(0)]) {
      PRIVATE.push({ guid: G.test, name: 'Priv', append: false, time, bytes, signer });
    }
  }
}
PRIVATE.push({ guid: G.test, name: 'Priv', append: true, time: 2, bytes: Uint8Array.of(0xaa), signer: 'S1' });
PRIVATE.push({ guid: G.test, name: 'Priv', append: true, time: 3, bytes: Uint8Array.of(0xdd), signer: 'S1' });
/** PK-signed (and rogue-signed) KEK updates and an append: valid only while PK holds the test PK. */
const KEK_SIGNED: AuthWrite[] = [
  { guid: G.global, name: 'KEK', append: false, time: 20, lists: [[7]], signer: 'PK' },
  { guid: G.global, name: 'KEK', append: false, time: 21, lists: [[7, 8]], signer: 'PK' },
  { guid: G.global, name: 'KEK', append: true, time: 22, lists: [[8, 9]], signer: 'PK' },
  { guid: G.global, name: 'KEK', append: false, time: 23, lists: [[9]], signer: 'rogue' },
];

function randomStore(r: Rng, pool: Pool): Rec[] {
  const recs: Rec[] = [];
  if (r.chance(0.5)) recs.push(loadedRec(G.global, 'Boot0000', 7, Uint8Array.of(1, 2, 3)));
  const pk = r.int(3);
  if (pk === 1) recs.push(pkRec(pool, 'PK'));
  if (pk === 2) recs.push(loadedRec(G.global, 'PK', 0x27, sha256List([0]), 1, [0]));
  if (r.chance(0.5)) recs.push(loadedRec(G.global, 'KEK', 0x27, sha256List([1]), r.int(3), [1]));
  if (r.chance(0.4)) recs.push(loadedRec(G.security, 'db', 0x27, sha256List([2]), r.int(3), [2]));
  if (r.chance(0.3)) recs.push(loadedRec(G.security, 'dbx', 0x27, sha256List([3]), r.int(3), [3]));
  const sbe = r.int(3);
  if (sbe > 0) recs.push(loadedRec(G.sbe, 'SecureBootEnable', 3, Uint8Array.of(sbe - 1)));
  const cm = r.int(3);
  if (cm > 0) recs.push(loadedRec(G.customMode, 'CustomMode', 3, Uint8Array.of(cm - 1)));
  if (r.chance(0.3)) recs.push(loadedRec(G.global, 'VendorKeysNv', 0x23, Uint8Array.of(0)));
  if (r.chance(0.2)) recs.push(loadedRec(G.test, 'Bb', 7, Uint8Array.of(9)));
  // A record without data (only a loaded store has one): never found, keeps its place.
  if (r.chance(0.08)) recs.push(loadedRec(G.test, 'A', 7, new Uint8Array(0)));
  for (let i = recs.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [recs[i], recs[j]] = [recs[j]!, recs[i]!];
  }
  return recs;
}

function randomOp(r: Rng, pair: Pair, signedBudget: { left: number }): Op {
  const x = r.int(100);
  if (x < 22) {
    const data = Uint8Array.from({ length: 1 + r.int(2) }, () => r.int(3));
    return { k: 'plain', guid: r.chance(0.85) ? G.test : G.other, name: r.pick(PLAIN_NAMES), attrs: r.pick(PLAIN_ATTRS), data };
  }
  if (x < 32) {
    // DataSize 0: a delete (of an authenticated variable: refused, deviation #4).
    const [guid, name] = r.chance(0.25) ? r.pick(KEYDBS) : [r.chance(0.9) ? G.test : G.other, r.pick([...PLAIN_NAMES, 'Priv'])];
    return { k: 'plain', guid, name, attrs: r.pick([0, 7, 0x27]), data: new Uint8Array(0) };
  }
  if (x < 56) {
    const [guid, name] = r.pick(KEYDBS);
    const append = name === 'PK' ? r.chance(0.15) : r.chance(0.5);
    const lists = r.chance(0.12) ? [] : name === 'PK' ? [[r.int(5)]] : Array.from({ length: 1 + r.int(2) }, () => Array.from({ length: 1 + r.int(2) }, () => r.int(4)));
    return { k: 'auth', w: { guid, name, append, time: 1 + r.int(6), lists } };
  }
  if (x < 67) {
    const data = r.chance(0.1) ? new Uint8Array(0) : Uint8Array.of(r.chance(0.7) ? 1 : 0);
    return { k: 'plain', guid: G.customMode, name: 'CustomMode', attrs: 3, data };
  }
  if (x < 69) return { k: 'plain', guid: G.sbe, name: 'SecureBootEnable', attrs: 3, data: r.chance(0.3) ? new Uint8Array(0) : Uint8Array.of(r.int(2)) };
  if (x < 70) return { k: 'plain', guid: G.global, name: r.pick(['SetupMode', 'SecureBoot']), attrs: 6, data: Uint8Array.of(1) };
  if (x < 72) return { k: 'auth', w: { guid: G.test, name: 'Priv', append: false, time: 1 + r.int(4), bytes: Uint8Array.of(1) } };
  if (x < 75 && signedBudget.left > 0) {
    signedBudget.left--;
    return { k: 'auth', w: r.chance(0.65) ? r.pick(PRIVATE) : r.pick(KEK_SIGNED) };
  }
  if (x < 79) return { k: 'reset' };
  if (x < 81) return { k: 'ebs' };
  if (x < 84) return { k: 'endOfDxe' };
  if (x < 86) return { k: 'lock', guid: G.test, name: r.pick([...PLAIN_NAMES, 'Priv']) };
  if (x < 88) return { k: 'lock', guid: G.security, name: 'db' };
  // GetNext with a caller buffer around the size of the next name (BUFFER_TOO_SMALL or not).
  const known = pair.model.list;
  const cur = r.chance(0.15) || known.length === 0 ? { name: '', guid: G.test as string } : r.chance(0.1) ? { name: 'Nope', guid: G.test as string } : r.pick(known);
  return { k: 'next', name: cur.name, guid: cur.guid, capacity: (cur.name.length + 1) * 2 + r.int(26) };
}

const SEQUENCES = 10_000;

test(`${SEQUENCES} seeded random sequences: QEMU's list discipline, step by step, against the model`, async () => {
  const pool = await makePool([...PRIVATE, ...KEK_SIGNED]);
  // PK updates signed by the PK itself (user mode): the auth init runs again behind the new PK.
  const pkList = x509List(pool.signers.get('PK')!.cert);
  const pkUpdates: AuthWrite[] = [24, 25].map((time) => ({ guid: G.global, name: 'PK', append: false, time, bytes: pkList, signer: 'PK' }));
  await addSigned(pool, pkUpdates);
  KEK_SIGNED.push(...pkUpdates);
  // Verified signatures are the expensive part (~2 ms each): a budget over the whole run.
  const signedBudget = { left: 400 };
  let steps = 0;
  const statuses = new Map<string, number>();
  const seen = { pkInits: 0, duplicateAppends: 0, shadowedEmpty: 0 };
  for (let seed = 1; seed <= SEQUENCES; seed++) {
    const r = prng(seed * 2654435761);
    const loaded = randomStore(r, pool);
    // One sequence in five runs with a store just big enough for a few more variables.
    const tight = r.chance(0.2);
    const size = tight ? loaded.reduce((n, x) => n + 96 + x.name.length * 2 + 2 + x.data.length, 807) + 80 + r.int(400) : undefined;
    const pair = await Pair.start(pool, loaded, r.chance(0.5), undefined, size);
    const at = (what: string, ops: readonly Op[]): string => `seed ${seed}, store [${loaded.map((x) => x.name).join(', ')}], ops ${JSON.stringify(ops, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))}: ${what}`;
    const ops: Op[] = [];
    const first = await pair.compare();
    if (first) assert.fail(at(first, ops));
    const n = 2 + r.int(4);
    for (let i = 0; i < n; i++) {
      const op = randomOp(r, pair, signedBudget);
      ops.push(op);
      const diff = (await pair.step(op)) ?? (await pair.compare());
      if (diff) assert.fail(at(diff, ops));
      steps++;
      if (pair.lastStatus !== undefined) {
        const key = `${op.k} ${pair.lastStatus.toString(16)}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }
    for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += pair.model.seen[k];
  }
  assert.ok(steps >= SEQUENCES * 2);
  if (process.env.LIST_MIX) console.log([...statuses].sort().join('\n'), seen);
  // The mix reaches every check stage and the rules it is about, many times over.
  const S = (n: bigint): string => n.toString(16);
  const expectAtLeast = (key: string, n: number): void => assert.ok((statuses.get(key) ?? 0) >= n, `${key}: ${statuses.get(key) ?? 0} times`);
  for (const st of [ST.SUCCESS, ST.INVALID_PARAMETER, ST.UNSUPPORTED, ST.ACCESS_DENIED, ST.WRITE_PROTECTED, ST.OUT_OF_RESOURCES, ST.SECURITY_VIOLATION]) expectAtLeast(`plain ${S(st)}`, 20);
  for (const st of [ST.SUCCESS, ST.SECURITY_VIOLATION, ST.OUT_OF_RESOURCES]) expectAtLeast(`auth ${S(st)}`, 20);
  for (const st of [ST.SUCCESS, ST.BUFFER_TOO_SMALL, ST.NOT_FOUND, ST.INVALID_PARAMETER]) expectAtLeast(`next ${S(st)}`, 20);
  assert.ok(seen.pkInits >= 60 && seen.duplicateAppends >= 30 && seen.shadowedEmpty >= 20, JSON.stringify(seen));
});

test('the generator reaches what it is meant to: PK writes with auth init, all-duplicate appends, empty records, BUFFER_TOO_SMALL', async () => {
  // A fixed sequence through the rules the random mix relies on, checked the same way.
  const pool = await makePool([]);
  const pair = await Pair.start(pool, [loadedRec(G.test, 'A', 7, new Uint8Array(0)), loadedRec(G.global, 'KEK', 0x27, sha256List([1]), 1, [1])], true);
  const ops: Op[] = [
    { k: 'plain', guid: G.customMode, name: 'CustomMode', attrs: 3, data: Uint8Array.of(1) },
    { k: 'auth', w: { guid: G.security, name: 'db', append: false, time: 2, lists: [[2]] } },
    { k: 'plain', guid: G.test, name: 'A', attrs: 7, data: Uint8Array.of(1) },
    { k: 'auth', w: { guid: G.security, name: 'db', append: true, time: 3, lists: [[2]] } },
    { k: 'auth', w: { guid: G.global, name: 'PK', append: false, time: 2, lists: [[0]] } },
    { k: 'next', name: 'PK', guid: G.global, capacity: 6 },
    // The PK write's auth init set CustomMode back to 0.
    { k: 'plain', guid: G.customMode, name: 'CustomMode', attrs: 3, data: Uint8Array.of(1) },
    { k: 'auth', w: { guid: G.global, name: 'PK', append: false, time: 3, lists: [] } },
    { k: 'lock', guid: G.security, name: 'db' },
    { k: 'endOfDxe' },
    { k: 'auth', w: { guid: G.security, name: 'db', append: true, time: 4, lists: [[3]] } },
    { k: 'reset' },
  ];
  const statuses: (bigint | undefined)[] = [];
  for (const op of ops) {
    const diff = (await pair.step(op)) ?? (await pair.compare());
    assert.equal(diff, undefined, JSON.stringify(op));
    statuses.push(pair.lastStatus);
  }
  // Spelled out: BUFFER_TOO_SMALL for SetupMode after PK (6 < 20 bytes), the locked db after EndOfDxe.
  assert.deepEqual(statuses, [ST.SUCCESS, ST.SUCCESS, ST.SUCCESS, ST.SUCCESS, ST.SUCCESS, ST.BUFFER_TOO_SMALL, ST.SUCCESS, ST.SUCCESS, ST.SUCCESS, undefined, ST.WRITE_PROTECTED, undefined]);
  // The all-duplicate db append moved db behind A; the PK write put the auth variables behind PK.
  const names = pair.model.list.map((x) => x.name);
  assert.deepEqual(names.slice(0, 2), ['A', 'KEK']);
  assert.ok(names.indexOf('db') > names.lastIndexOf('A'));
});
