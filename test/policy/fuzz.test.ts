/**
 * Properties of the request path (DESIGN.md tier 3): random and mutated
 * VarCheckPolicy messages never throw, never change the message length, answer
 * device status 0x00 once the header is there, and a refused command leaves the
 * engine's state as it was; the variable-protocol entry points never throw either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeviceStatus, EfiStatus } from '../../src/wire/status.js';
import { VariablePolicy } from '../../src/policy/engine.js';
import { validateEntry } from '../../src/policy/entry.js';
import { PolicyReasons } from '../../src/policy/reasons.js';
import {
  AFTER_EOD, Cmd, DXE, GUID1, GUID2, LOCK_NOW, dumpMsg, entry, infoMsg, isEnabledMsg, policyMsg, propertyMsg, registerMsg,
  answer, result, Vars, ctx,
} from './builders.js';

const seeds: Uint8Array[] = [
  registerMsg(entry({ name: 'Boot####', lockType: LOCK_NOW })),
  registerMsg(entry({ name: undefined, namespace: GUID2 })),
  registerMsg(entry({ name: 'V', state: { namespace: GUID1, value: 1, name: 'S' } })),
  registerMsg(entry({ name: 'Var', minSize: 2, maxSize: 9, mustHave: 7 })),
  isEnabledMsg(),
  policyMsg(Cmd.LOCK),
  policyMsg(Cmd.DISABLE),
  dumpMsg(0),
  dumpMsg(1),
  infoMsg({ guid: GUID1, name: 'Boot0001', capacity: 64 }),
  infoMsg({ command: Cmd.GET_LOCK_VAR_STATE_INFO, guid: GUID1, name: 'V', capacity: 0 }),
];

interface Mutation { at: number; value: number }

const mutated = fc.record({
  seed: fc.integer({ min: 0, max: seeds.length - 1 }),
  flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
  // Structure-aware flips: Size, OffsetToName, LockPolicyType, command, page and name sizes.
  fields: fc.array(fc.record({ at: fc.constantFrom(8, 20, 24, 25, 26, 27, 36, 37, 40, 41, 60), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
  resize: fc.option(fc.integer({ min: 0, max: 17000 }), { nil: undefined }),
});

function build(m: { seed: number; flips: Mutation[]; fields: Mutation[]; resize: number | undefined }): Uint8Array {
  const base = seeds[m.seed]!;
  const len = m.resize ?? base.length;
  const out = new Uint8Array(len);
  out.set(base.subarray(0, Math.min(len, base.length)));
  for (const f of [...m.flips, ...m.fields]) if (len > 0) out[f.at % len] = f.value;
  return out;
}

function populated(options = {}): VariablePolicy {
  const p = new VariablePolicy(options);
  for (const s of seeds.slice(0, 4)) answer(p, s.slice(), DXE);
  return p;
}

test('property: mutated policy messages never throw, keep their length, and a refusal changes no state', () => {
  fc.assert(fc.property(fc.array(mutated, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.boolean(), (ms, eod, allowDisable) => {
    const p = populated({ allowDisable });
    const c = eod ? AFTER_EOD : DXE;
    for (const m of ms) {
      const msg = build(m);
      const before = p.snapshot();
      const dev = answer(p, msg, c).deviceStatus;
      assert.equal(msg.length, m.resize ?? seeds[m.seed]!.length);
      if (msg.length < 20) { assert.equal(dev, DeviceStatus.ERR_BAD_BUFFER_SIZE); continue; }
      assert.equal(dev, DeviceStatus.SUCCESS);
      if (result(msg) !== EfiStatus.SUCCESS) assert.deepEqual(p.snapshot(), before);
      for (const raw of p.snapshot().entries) assert.notEqual(typeof validateEntry(raw), 'string');
    }
  }), { numRuns: 300 });
});

test('property: random bytes as a policy message never throw and keep their length', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 0, max: 7 }), (bytes, cmd) => {
    const p = populated();
    const msg = bytes.slice();
    if (msg.length >= 12) { msg.set([0x56, 0x43, 0x50, 0x43, 1, 0, 0, 0], 0); msg[8] = cmd; msg[9] = msg[10] = msg[11] = 0; }
    const dev = answer(p, msg, DXE).deviceStatus;
    assert.equal(msg.length, bytes.length);
    assert.equal(dev, msg.length < 20 ? DeviceStatus.ERR_BAD_BUFFER_SIZE : DeviceStatus.SUCCESS);
  }), { numRuns: 500 });
});

test('property: LOCK_VARIABLE, checkSetVariable and the VarCheck functions never throw on any input', () => {
  const vars = new Vars().set(GUID1, 'S', Uint8Array.of(1));
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 80 }), fc.nat(0xffffffff), fc.nat(1 << 20), fc.boolean(), fc.boolean(),
    fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.integer({ min: 0, max: 12 }),
    (name, attributes, dataSize, exists, eod, fnMsg, fn) => {
      const p = populated();
      const c = ctx({ endOfDxe: eod, vars });
      const lock = p.lockVariable(GUID1, name, c).reason;
      assert.ok(lock === undefined || Object.hasOwn(PolicyReasons, lock));
      const verdict = p.checkSetVariable({ guid: GUID1, name, attributes, dataSize, isDelete: dataSize === 0, exists }, c).reason;
      assert.ok(verdict === undefined || Object.hasOwn(PolicyReasons, verdict));
      const msg = fnMsg.slice();
      const r = p.varCheckFunction(fn, msg, c);
      assert.equal(msg.length, fnMsg.length);
      assert.ok(r.responseLength === 16 || r.responseLength <= msg.length);
      const framed = propertyMsg(fn, GUID2, 'Name', { property: dataSize & 1 }, { nameSize: dataSize % 40 });
      assert.doesNotThrow(() => p.varCheckFunction(fn, framed, c));
    },
  ), { numRuns: 500 });
});
