import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';

const G = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';

/** A small deterministic generator (xorshift32), so a failure names its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

const bytes = (next: () => number, n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() & 0xff);

test('time and digest are written only for TIME_BASED variables, and read back on those unchanged (spec §6.2)', () => {
  // The fuzz harness (fuzz/targets/codec-json.ts) relies on exactly this loss; the rule is QEMU's.
  for (let seed = 1; seed <= 200; seed++) {
    const next = rng(seed);
    const vars: Variable[] = [];
    for (let i = 0; i < 1 + (next() % 6); i++) {
      const attributes = (next() & 0x7f) | 1;
      vars.push(makeVariable({
        guid: G, name: encodeName(`V${i}`), attributes, data: bytes(next, next() % 9),
        time: bytes(next, 16), digest: next() & 1 ? bytes(next, 32) : undefined,
      }));
    }
    const text = new TextDecoder().decode(encodeQemuJson(vars));
    const doc = JSON.parse(text) as { variables: Record<string, unknown>[] };
    const back = decodeQemuJson(encodeQemuJson(vars));
    vars.forEach((v, i) => {
      const timeBased = (v.attributes & 0x20) !== 0;
      const o = doc.variables[i]!;
      assert.equal('time' in o, timeBased, `seed ${seed} var ${i}: time key`);
      assert.equal('digest' in o, timeBased && v.digest !== undefined, `seed ${seed} var ${i}: digest key`);
      const b = back[i]!;
      assert.deepEqual(b.data, v.data);
      assert.equal(b.attributes, v.attributes);
      assert.deepEqual(b.time, timeBased ? v.time : new Uint8Array(16), `seed ${seed} var ${i}: time`);
      assert.deepEqual(b.digest, timeBased ? v.digest : undefined, `seed ${seed} var ${i}: digest`);
    });
  }
});

test('a time and digest on a variable without TIME_BASED are read, and the next save drops them', () => {
  const file = new TextEncoder().encode(JSON.stringify({ version: 2, variables: [
    { name: 'A', guid: G, attr: 7, data: '00', time: 'e907030a023530000000000000000000', digest: '00ff' },
  ] }));
  const [v] = decodeQemuJson(file);
  assert.equal(v!.time[0], 0xe9);
  assert.deepEqual([...v!.digest!], [0x00, 0xff]);
  const [again] = decodeQemuJson(encodeQemuJson([v!]));
  assert.deepEqual(again!.time, new Uint8Array(16));
  assert.equal(again!.digest, undefined);
});
