/**
 * Replay of QEMU's recorded answers (../shared/traces/qemu-conformance) through
 * the policy engine alone: every VarCheckPolicy message of `policy-register`
 * must come back byte for byte, and in `lock-variable` every LOCK_VARIABLE status
 * and every SetVariable that the policy decides must match. (The full request
 * path, including the service's own framing, is the lead's replay.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../../src/wire/hex.js';
import { guidAt } from '../../src/wire/guid.js';
import { EfiStatus, statusName } from '../../src/wire/status.js';
import { answerPolicyMessage } from '../../src/service/policy-functions.js';
import { statusOf } from '../../src/service/reasons.js';
import { variableKey } from '../../src/store/variable.js';
import { VariablePolicy } from '../../src/policy/engine.js';
import type { PolicyContext } from '../../src/policy/engine.js';

interface TraceLine {
  seq: number;
  resets_before: number;
  request: string;
  response: string | null;
  dev_sts: number;
  mm_guid_name?: string;
  function_name?: string;
  status?: string;
  note?: string;
}

function trace(name: string): TraceLine[] {
  const url = new URL(`../../../../shared/traces/qemu-conformance/${name}.jsonl`, import.meta.url);
  return readFileSync(url, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as TraceLine);
}

function u64(b: Uint8Array, o: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x1_0000_0000;
}

test('QEMU trace policy-register: every VarCheckPolicy reply (Result, State) replays byte for byte', () => {
  const lines = trace('policy-register');
  const policy = new VariablePolicy();
  const ctx: PolicyContext = { endOfDxe: false, readyToBoot: false, exitBootServices: false, getVariable: () => undefined };
  let replayed = 0;
  for (const l of lines) {
    if (l.resets_before > 0) policy.reset();
    if (l.mm_guid_name !== 'VarCheckPolicy') continue;
    const request = fromHex(l.request);
    const msg = request.slice(24);
    const a = answerPolicyMessage(policy, msg, ctx);
    const dev = a.deviceStatus;
    assert.equal(dev, l.dev_sts, `seq ${l.seq} device status`);
    assert.equal(msg.length, request.length - 24, `seq ${l.seq} length`);
    assert.equal(toHex(msg), l.response!.slice(48), `seq ${l.seq} (${l.note ?? ''}): reason ${a.reason ?? 'none'}`);
    replayed++;
  }
  assert.equal(replayed, 21);
});

test('QEMU trace lock-variable: LOCK_VARIABLE answers and the policy verdict on every SetVariable match', () => {
  const lines = trace('lock-variable');
  const policy = new VariablePolicy();
  const vars = new Map<string, number>(); // key → attributes
  let endOfDxe = false;
  const ctx = (): PolicyContext => ({ endOfDxe, readyToBoot: false, exitBootServices: false, getVariable: () => undefined });
  let locks = 0;
  let sets = 0;
  for (const l of lines) {
    if (l.resets_before > 0) {
      policy.reset();
      endOfDxe = false;
      for (const [k, attr] of vars) if (!(attr & 1)) vars.delete(k);
    }
    const m = fromHex(l.request).subarray(24);
    if (l.mm_guid_name === 'EndOfDxe') { endOfDxe = true; continue; }
    if (l.mm_guid_name !== 'SmmVariable') continue;
    const recorded = fromHex(l.response!).subarray(24);
    const want = new DataView(recorded.buffer, recorded.byteOffset).getBigUint64(8, true);
    if (l.function_name === 'LOCK_VARIABLE') {
      // The service's own framing (spec §2.5.5 step 1) answers seq 6-7 before the policy sees them.
      if (m.length < 40 || 40 + u64(m, 32) > m.length) { assert.equal(want, EfiStatus.BAD_BUFFER_SIZE); continue; }
      const name = m.slice(40, 40 + u64(m, 32));
      const st = statusOf(policy.lockVariable(guidAt(m, 16), name, ctx()).reason);
      assert.equal(statusName(st), statusName(want), `seq ${l.seq} (${l.note ?? ''})`);
      locks++;
    } else if (l.function_name === 'SET_VARIABLE') {
      const dataSize = u64(m, 32);
      const nameSize = u64(m, 40);
      const attributes = new DataView(m.buffer, m.byteOffset).getUint32(48, true);
      const name = m.slice(52, 52 + nameSize);
      const guid = guidAt(m, 16);
      const key = variableKey(guid, name);
      const st = statusOf(policy.checkSetVariable({ guid, name, attributes, dataSize, isDelete: dataSize === 0, exists: vars.has(key) }, ctx()).reason);
      assert.equal(statusName(st), statusName(want), `seq ${l.seq} (${l.note ?? ''})`);
      if (want === EfiStatus.SUCCESS) {
        if (dataSize === 0) vars.delete(key); else vars.set(key, attributes);
      }
      sets++;
    }
  }
  assert.equal(locks, 3);
  assert.equal(sets, 7);
});
