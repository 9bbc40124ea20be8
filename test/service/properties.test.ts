/**
 * Properties of VariableService.process under random and mutated request buffers.
 * Seeds are the real requests of every pcap under ../shared/traces; mutations flip
 * bytes, rewrite MessageLength / NameSize / DataSize / Attributes / function ids,
 * truncate and extend. Invariants (spec §1.5, §2.3, and "nothing changes unless
 * every check passes"):
 *  - process never throws or rejects;
 *  - a reply, when there is one, is exactly 24 + MessageLength bytes and starts
 *    with the request's 24-byte MM header;
 *  - a request that is not a variable-protocol EFI_SUCCESS (any device status ≠ 0,
 *    any ReturnStatus ≠ EFI_SUCCESS, events, policy, unknown GUIDs) leaves
 *    variables() identical: GUIDs, name bytes, attributes, data, time, digest, order;
 *  - the same request sequence on two fresh services gives identical replies.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parsePcap } from '../../src/wire/pcap.js';
import type { VariableService } from '../../src/service/variable-service.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { fromHex } from '../../src/wire/hex.js';
import { freshService, setVar, fn, image, TRACES, TEST_GUID, OTHER_GUID, GLOBAL, S } from '../helpers/service.js';

const SMM_VARIABLE = fromHex('33d532ede69909429cc02d72cdd998a7');
const VAR_CHECK_POLICY = fromHex('110d1bdaa7d1c4469dc9f3714875c6eb');

function pcapsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...pcapsUnder(p));
    else if (p.endsWith('.pcap')) out.push(p);
  }
  return out.sort();
}

/** Every distinct request recorded by QEMU (complete records only). */
const SEEDS: Uint8Array[] = (() => {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const f of pcapsUnder(TRACES)) {
    for (const r of parsePcap(new Uint8Array(readFileSync(f)))) {
      if (r.type !== 'request' || r.capturedLength !== undefined) continue;
      const key = Buffer.from(r.bytes).toString('base64');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(r.bytes.slice());
    }
  }
  return out;
})();

/**
 * A service with a few variables of every kind: NV, volatile, runtime, authenticated
 * with time and digest. Small sizes (2048 leaves 602 bytes free) make the storage
 * limit reachable by single requests.
 */
async function preloaded(runtime: boolean, size = 262144): Promise<VariableService> {
  const svc = await freshService({
    options: { size },
    variables: [
      makeVariable({ guid: GLOBAL, name: encodeName('BootOrder'), attributes: 7, data: Uint8Array.of(0, 0, 1, 0) }),
      makeVariable({ guid: TEST_GUID, name: encodeName('NvBsOnly'), attributes: 3, data: new Uint8Array(40).fill(0x11) }),
      makeVariable({
        guid: OTHER_GUID, name: encodeName('AuthLoaded'), attributes: 0x27, data: fromHex('7061796c6f6164'),
        time: fromHex('e8070506070809000000000000000000'), digest: new Uint8Array(32).fill(0x5a),
      }),
    ],
  });
  assert.equal(await setVar(svc, 'Vol', 6, [1, 2, 3]), S.SUCCESS);
  assert.equal(await setVar(svc, 'A', 2, [9]), S.SUCCESS);
  if (runtime) assert.equal(await fn(svc, 6), S.SUCCESS);
  return svc;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isVariableGuid = (b: Uint8Array): boolean => b.length >= 16 && SMM_VARIABLE.every((x, i) => b[i] === x);
const u64le = (b: Uint8Array, off: number): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);

/** Process one request and check every per-request invariant; returns a fingerprint of the answer. */
async function processChecked(svc: VariableService, req: Uint8Array, bufferSize: number): Promise<string> {
  const before = image(svc.variables());
  const r = await svc.process(req, bufferSize);
  let changeAllowed = false;
  if (r.reply !== undefined) {
    assert.ok(req.length >= 24, 'a reply for a request shorter than its header');
    const ml = u64le(req, 16);
    assert.equal(BigInt(r.reply.length), 24n + ml, 'reply length is 24 + MessageLength');
    assert.equal(hex(r.reply.subarray(0, 24)), hex(req.subarray(0, 24)), 'reply keeps the MM header');
    if (r.deviceStatus === 0 && isVariableGuid(req) && ml >= 16n) changeAllowed = u64le(r.reply, 32) === 0n;
  } else {
    assert.equal(r.deviceStatus, 0x12, 'no reply only with device status 0x12');
  }
  assert.ok([0, 0x11, 0x12].includes(r.deviceStatus), `device status 0x${r.deviceStatus.toString(16)}`);
  if (!changeAllowed) assert.deepEqual(image(svc.variables()), before, 'a refused request changed the store');
  return `${r.deviceStatus}:${r.reply ? hex(r.reply) : '-'}`;
}

// ---- generators ---------------------------------------------------------------

const interestingU64 = fc.constantFrom(
  0n, 1n, 2n, 3n, 4n, 8n, 15n, 16n, 20n, 24n, 36n, 39n, 40n, 44n, 51n, 52n, 53n, 255n, 1024n, 4072n, 4096n,
  65452n, 65512n, 65513n, 65536n, 262144n, 262145n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n,
  2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 24n,
);
const anyU64 = fc.oneof(interestingU64, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 70000n }));
const bufferSize = fc.oneof(
  { weight: 12, arbitrary: fc.constant(65536) },
  { weight: 2, arbitrary: fc.constantFrom(4096, 64, 48, 40, 24, 23, 0) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 70000 }) },
);

type Mutation =
  | { kind: 'flip'; at: number; inHeader: boolean; xor: number }
  | { kind: 'u64'; off: number; value: bigint }
  | { kind: 'u32'; off: number; value: number }
  | { kind: 'ml'; value: bigint | { delta: number }; resize: boolean }
  | { kind: 'truncate'; keep: number }
  | { kind: 'extend'; extra: Uint8Array }
  | { kind: 'function'; value: bigint };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), inHeader: fc.boolean().map((b) => b && Math.random() < 0.2), xor: fc.integer({ min: 1, max: 255 }) }) },
  // Function, ReturnStatus, and the payload u64s: Guid halves, DataSize/NameSize (Access @56/@64, GetNext NameSize @56), QVI fields.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('u64' as const), off: fc.constantFrom(24, 32, 40, 48, 56, 56, 64, 64), value: anyU64 }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('u32' as const), off: fc.constantFrom(72, 72, 64, 68), value: fc.oneof(fc.constantFrom(0, 2, 3, 4, 6, 7, 0x27, 0x47, 0x67, 0x10, 0x80, 0xffffffff), fc.nat()) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ml' as const), value: fc.oneof(anyU64, fc.record({ delta: fc.integer({ min: -64, max: 64 }) })), resize: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ maxLength: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('function' as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 16n }), interestingU64) }) },
);

function applyMutation(req: Uint8Array, m: Mutation): Uint8Array {
  const out = req.slice();
  const v = new DataView(out.buffer);
  switch (m.kind) {
    case 'flip':
      if (m.inHeader || out.length <= 24) { if (out.length > 0) out[m.at % Math.min(out.length, 24)]! ^= m.xor; }
      else out[24 + (m.at % (out.length - 24))]! ^= m.xor;
      return out;
    case 'u64':
      if (m.off + 8 <= out.length) v.setBigUint64(m.off, m.value, true);
      return out;
    case 'u32':
      if (m.off + 4 <= out.length) v.setUint32(m.off, m.value >>> 0, true);
      return out;
    case 'function':
      if (out.length >= 32) v.setBigUint64(24, m.value, true);
      return out;
    case 'ml': {
      if (out.length < 24) return out;
      const cur = v.getBigUint64(16, true);
      const value = typeof m.value === 'bigint' ? m.value : BigInt(Math.max(0, Number(cur) + m.value.delta));
      v.setBigUint64(16, value, true);
      if (!m.resize || value > 70000n) return out;
      const sized = new Uint8Array(24 + Number(value));
      sized.set(out.subarray(0, Math.min(out.length, sized.length)));
      return sized;
    }
    case 'truncate':
      return out.subarray(0, out.length === 0 ? 0 : m.keep % (out.length + 1)).slice();
    case 'extend': {
      const e = new Uint8Array(out.length + m.extra.length);
      e.set(out);
      e.set(m.extra, out.length);
      return e;
    }
  }
}

/** Service setup: boot phase and storage size. */
const setup = fc.record({ runtime: fc.boolean(), size: fc.constantFrom(262144, 262144, 4096, 2048) });

const seed = fc.nat({ max: SEEDS.length - 1 }).map((i) => SEEDS[i]!);
const mutated = fc.tuple(seed, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => ms.reduce(applyMutation, s));

/** Random buffers with a plausible header: mostly the variable GUID, a fitting or random MessageLength. */
const randomRequest = fc.tuple(
  fc.oneof({ weight: 6, arbitrary: fc.constant(SMM_VARIABLE) }, { weight: 1, arbitrary: fc.constant(VAR_CHECK_POLICY) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  fc.oneof(fc.bigInt({ min: 0n, max: 15n }), interestingU64),
  fc.uint8Array({ maxLength: 160 }),
  fc.oneof({ weight: 4, arbitrary: fc.constant<'fit'>('fit') }, { weight: 1, arbitrary: fc.constant<'random'>('random') }),
  anyU64,
).map(([guid, fnId, body, mode, ml]) => {
  const b = new Uint8Array(24 + 8 + body.length);
  b.set(guid, 0);
  const v = new DataView(b.buffer);
  v.setBigUint64(16, mode === 'fit' ? BigInt(8 + body.length) : ml, true);
  v.setBigUint64(24, fnId, true);
  b.set(body, 32);
  return b;
});

const rawBytes = fc.uint8Array({ maxLength: 96 });

// ---- properties ---------------------------------------------------------------

describe('request-path properties (fast-check)', () => {
  test('the trace seeds are there', () => {
    assert.ok(SEEDS.length > 1000, `${SEEDS.length} distinct requests`);
  });

  test('mutated real requests: no exception, reply = 24 + MessageLength with the request header, refusals change nothing', async () => {
    await fc.assert(fc.asyncProperty(setup, fc.array(fc.tuple(mutated, bufferSize), { minLength: 1, maxLength: 12 }), async ({ runtime, size }, steps) => {
      const svc = await preloaded(runtime, size);
      for (const [req, size] of steps) await processChecked(svc, req, size);
    }), { numRuns: 2000 });
  });

  test('unmutated real requests in random order keep the same invariants', async () => {
    await fc.assert(fc.asyncProperty(setup, fc.array(seed, { minLength: 1, maxLength: 20 }), async ({ runtime, size }, reqs) => {
      const svc = await preloaded(runtime, size);
      for (const req of reqs) await processChecked(svc, req, 65536);
    }), { numRuns: 500 });
  });

  test('random structured requests: same invariants', async () => {
    await fc.assert(fc.asyncProperty(setup, fc.array(fc.tuple(randomRequest, bufferSize), { minLength: 1, maxLength: 10 }), async ({ runtime, size }, steps) => {
      const svc = await preloaded(runtime, size);
      for (const [req, size] of steps) await processChecked(svc, req, size);
    }), { numRuns: 1000 });
  });

  test('random bytes of any length: same invariants', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(rawBytes, bufferSize), { minLength: 1, maxLength: 10 }), async (steps) => {
      const svc = await preloaded(false);
      for (const [req, size] of steps) await processChecked(svc, req, size);
    }), { numRuns: 300 });
  });

  test('determinism: the same request sequence on two fresh services gives identical replies and stores', async () => {
    const anyRequest = fc.oneof(mutated, seed, randomRequest);
    await fc.assert(fc.asyncProperty(setup, fc.array(fc.tuple(anyRequest, bufferSize), { minLength: 1, maxLength: 12 }), async ({ runtime, size }, steps) => {
      const a = await preloaded(runtime, size);
      const b = await preloaded(runtime, size);
      for (const [req, size] of steps) {
        const ra = await processChecked(a, req, size);
        const rb = await processChecked(b, req, size);
        assert.equal(ra, rb);
      }
      assert.deepEqual(image(a.variables()), image(b.variables()));
      assert.equal(a.usedStorage, b.usedStorage);
    }), { numRuns: 500 });
  });

  test('requests sent without waiting for each other are answered as if sent one by one', async () => {
    await fc.assert(fc.asyncProperty(setup, fc.array(fc.oneof(mutated, seed), { minLength: 2, maxLength: 10 }), async ({ runtime, size }, reqs) => {
      const a = await preloaded(runtime, size);
      const b = await preloaded(runtime, size);
      const together = await Promise.all(reqs.map((r) => a.process(r, 65536)));
      for (const [i, r] of reqs.entries()) {
        const one = await b.process(r, 65536);
        assert.equal(together[i]!.deviceStatus, one.deviceStatus);
        assert.equal(together[i]!.reply ? hex(together[i]!.reply!) : '-', one.reply ? hex(one.reply) : '-');
      }
      assert.deepEqual(image(a.variables()), image(b.variables()));
    }), { numRuns: 300 });
  });
});
