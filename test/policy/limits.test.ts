import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VariablePolicy } from '../../src/policy/engine.js';
import { POLICY_TABLE_LIMITS } from '../../src/policy/registry.js';
import { EfiStatus } from '../../src/wire/status.js';
import { encodeName } from '../../src/wire/ucs2.js';

const ctx = { endOfDxe: false, readyToBoot: false, exitBootServices: false, getVariable: () => undefined };

test('the policy table is bounded: past the limit a new policy is EFI_OUT_OF_RESOURCES and nothing changes', () => {
  const p = new VariablePolicy();
  for (let i = 0; i < POLICY_TABLE_LIMITS.entries; i++) {
    assert.equal(p.lockVariable('5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', encodeName(`V${i}`), ctx), EfiStatus.SUCCESS);
  }
  const before = p.snapshot();
  assert.equal(p.lockVariable('5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', encodeName('OneMore'), ctx), EfiStatus.OUT_OF_RESOURCES);
  assert.equal(p.lastReason, 'policy-table-full');
  assert.deepEqual(p.snapshot(), before);
  // A reset empties it again.
  p.reset();
  assert.equal(p.lockVariable('5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', encodeName('OneMore'), ctx), EfiStatus.SUCCESS);
});
