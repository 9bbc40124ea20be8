import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VariablePolicy } from '../../src/policy/engine.js';
import { POLICY_TABLE_LIMITS } from '../../src/policy/registry.js';
import { EfiStatus } from '../../src/wire/status.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { statusOf } from '../../src/service/reasons.js';
import { st } from './builders.js';

const ctx = { endOfDxe: false, readyToBoot: false, exitBootServices: false, getVariable: () => undefined };

test('the policy table is bounded: past the limit a new policy is EFI_OUT_OF_RESOURCES and nothing changes', () => {
  const p = new VariablePolicy();
  for (let i = 0; i < POLICY_TABLE_LIMITS.entries; i++) {
    assert.equal(st(p.lockVariable('5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', encodeName(`V${i}`), ctx)), EfiStatus.SUCCESS);
  }
  const before = p.snapshot();
  const full = p.lockVariable('5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', encodeName('OneMore'), ctx);
  assert.equal(statusOf(full.reason), EfiStatus.OUT_OF_RESOURCES);
  assert.equal(full.reason, 'policy-table-full');
  assert.deepEqual(p.snapshot(), before);
  // A reset empties it again.
  p.reset();
  assert.equal(st(p.lockVariable('5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', encodeName('OneMore'), ctx)), EfiStatus.SUCCESS);
});
