import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EfiStatus, statusName } from '../../src/wire/status.js';
import { StoreReasons } from '../../src/store/reasons.js';
import { PersistReasons } from '../../src/store/backend.js';
import { AuthReasons } from '../../src/auth/reasons.js';
import { PolicyReasons } from '../../src/policy/reasons.js';
import { ALL_REASONS, isMmReason, reasonDeviation, statusOf, type MmReason, type Reason } from '../../src/service/reasons.js';
import { Deviations } from '../../src/store/deviations.js';

type StatusName = keyof typeof EfiStatus;

/**
 * Every reason with the status the spec (../shared/spec/uefi-vars-spec.md) or,
 * for edk2-only answers the spec leaves to edk2, the named edk2 function gives it.
 * Written by reading those texts, not from service/reasons.ts: a wrong status in
 * the table, or a new reason without a row here, fails.
 */
const EXPECTED: readonly (readonly [Reason, StatusName, string])[] = [
  // store: framing, names, lookup, check_update, storage
  ['message-too-short', 'BAD_BUFFER_SIZE', '§2.5.1-§2.5.3 step 1, §2.5.5 step 1'],
  ['field-past-message', 'BAD_BUFFER_SIZE', '§2.5.1 step 3, §2.5.3 step 3, §2.5.5 steps 1-2'],
  ['reply-exceeds-buffer', 'BAD_BUFFER_SIZE', '§2.5.1 step 7, §2.5.2 step 7, §2.5.4'],
  ['buffer-too-small', 'BUFFER_TOO_SMALL', '§2.5.1 step 8, §2.3 generic rule'],
  ['size-exceeds-storage', 'OUT_OF_RESOURCES', '§2.5.1 step 2, §3.8'],
  ['name-invalid', 'INVALID_PARAMETER', '§2.5.1 step 4, §3.1'],
  ['name-empty', 'INVALID_PARAMETER', '§2.5.3 step 4 recommendation'],
  ['name-no-nul', 'INVALID_PARAMETER', '§2.5.1 step 4 (name invalid, §3.1)'],
  ['not-found', 'NOT_FOUND', '§2.5.1 step 5'],
  ['current-not-found', 'INVALID_PARAMETER', '§2.5.2 step 6'],
  ['end-of-list', 'NOT_FOUND', '§2.5.2 steps 5-6'],
  ['access-denied-phase', 'ACCESS_DENIED', '§2.5.1 step 6, §2.5.3 steps 8.1-8.2, §3.4'],
  ['attributes-unsupported', 'UNSUPPORTED', '§2.5.3 step 8.2, §3.2'],
  ['attributes-mismatch', 'INVALID_PARAMETER', '§2.5.3 step 8.3'],
  ['append-unsupported', 'UNSUPPORTED', '§2.5.3 step 9'],
  ['out-of-storage', 'OUT_OF_RESOURCES', '§2.5.3 step 10, §3.8'],
  ['quota-variables', 'OUT_OF_RESOURCES', 'UEFI 2.10 §8.2 SetVariable (not enough storage), our per-VM quota'],
  ['quota-bytes', 'OUT_OF_RESOURCES', 'UEFI 2.10 §8.2 SetVariable, our per-VM quota'],
  ['quota-write-rate', 'OUT_OF_RESOURCES', 'UEFI 2.10 §8.2 SetVariable, our per-VM quota'],
  ['function-unsupported', 'UNSUPPORTED', '§2.4 (7, 9, 10, 12-14, 0, >= 15)'],
  // persist: QEMU only warns (§6.1); UEFI 2.10 SetVariable: could not be saved = EFI_DEVICE_ERROR
  ['persist-failed', 'DEVICE_ERROR', '§6.1; UEFI 2.10 §8.2 SetVariable'],
  // auth
  ['auth-descriptor-short', 'SECURITY_VIOLATION', '§4.1 check 1'],
  ['auth-cert-length', 'SECURITY_VIOLATION', '§4.1 checks 2-3'],
  ['auth-revision', 'UNSUPPORTED', '§4.1 check 4 (QEMU)'],
  ['auth-cert-type', 'SECURITY_VIOLATION', '§4.1 check 4 [DIFF] (edk2)'],
  ['auth-time-fields', 'SECURITY_VIOLATION', '§4.1 check 5 (edk2)'],
  ['auth-no-signature', 'SECURITY_VIOLATION', '§4.4 step 3'],
  ['auth-signature', 'SECURITY_VIOLATION', '§4.2 (a signature that does not verify is rejected)'],
  ['auth-untrusted', 'SECURITY_VIOLATION', '§3.3 last item, §4.3'],
  ['auth-no-trust-anchor', 'SECURITY_VIOLATION', '§4.3 (a missing trust variable)'],
  ['auth-stale-timestamp', 'SECURITY_VIOLATION', '§2.5.3 step 6'],
  ['auth-signer-mismatch', 'SECURITY_VIOLATION', '§2.5.3 step 6, §4.8 step 4'],
  ['auth-siglist-format', 'INVALID_PARAMETER', '§4.4 (edk2 CheckSignatureListFormat)'],
  ['auth-counter-based', 'UNSUPPORTED', '§2.5.3 step 6, §3.2, §4.8'],
  ['read-only-variable', 'WRITE_PROTECTED', '§3.4 recommendation'],
  ['key-database-attributes', 'INVALID_PARAMETER', '§3.3 (edk2: wrong attributes)'],
  ['unauthenticated-delete', 'SECURITY_VIOLATION', '§3.3 (edk2: the descriptor is missing)'],
  ['secure-boot-attributes', 'INVALID_PARAMETER', '§4.6 item 1'],
  ['force-secure-boot', 'WRITE_PROTECTED', '§4.6 item 2'],
  ['custom-mode-disabled', 'WRITE_PROTECTED', '§4.6 item 3'],
  // policy: comm header and commands
  ['bad-signature', 'INVALID_PARAMETER', '§5.1 (edk2)'],
  ['unknown-command', 'UNSUPPORTED', '§5.2 other'],
  ['is-enabled-too-short', 'BAD_BUFFER_SIZE', '§5.2 IS_ENABLED (QEMU)'],
  ['already-disabled', 'ALREADY_STARTED', '§5.2 DISABLE (edk2)'],
  ['disable-not-allowed', 'WRITE_PROTECTED', '§5.2 DISABLE (edk2)'],
  ['interface-locked', 'WRITE_PROTECTED', '§5.2 REGISTER'],
  // policy: REGISTER
  ['register-too-short', 'BAD_BUFFER_SIZE', '§5.3 step 1'],
  ['entry-past-message', 'BAD_BUFFER_SIZE', '§5.3 step 2'],
  ['entry-too-small', 'BAD_BUFFER_SIZE', '§5.3 step 3'],
  ['entry-size-mismatch', 'BAD_BUFFER_SIZE', '§5.3 steps 2-3 (Size against the bytes)'],
  ['name-offset-in-header', 'BAD_BUFFER_SIZE', '§5.3 step 4'],
  ['name-offset-in-state-policy', 'BAD_BUFFER_SIZE', '§5.3 step 5'],
  ['name-offset-past-entry', 'BAD_BUFFER_SIZE', '§5.3 step 6'],
  ['name-surrogate', 'INVALID_PARAMETER', '§5.3 step 7'],
  ['bad-version', 'INVALID_PARAMETER', '§5.3 edk2 checks'],
  ['max-size-zero', 'INVALID_PARAMETER', '§5.3 edk2 checks'],
  ['unknown-lock-type', 'INVALID_PARAMETER', '§5.3 edk2 checks'],
  ['name-offset-not-packed', 'INVALID_PARAMETER', '§5.3 edk2 checks'],
  ['state-name-malformed', 'INVALID_PARAMETER', '§5.3 edk2 checks'],
  ['name-malformed', 'INVALID_PARAMETER', '§5.3 edk2 checks'],
  ['too-many-wildcards', 'INVALID_PARAMETER', '§5.3 edk2 checks (> 255 #)'],
  ['duplicate-policy', 'ALREADY_STARTED', '§5.3 step 8'],
  ['policy-table-full', 'OUT_OF_RESOURCES', 'docs/policy.md P10 (edk2: table allocation fails)'],
  // policy: DUMP, GET_INFO (edk2 VarCheckPolicyLibMmiHandler, VariablePolicyLib)
  ['dump-too-short', 'INVALID_PARAMETER', 'edk2 VarCheckPolicyLibMmiHandler DUMP size check'],
  ['dump-page-out-of-range', 'INVALID_PARAMETER', 'edk2 VarCheckPolicyLibMmiHandler PageRequested > pages'],
  ['dump-expired', 'TIMEOUT', '§2.4 note (edk2 EFI_TIMEOUT); VarCheckPolicyLibMmiHandler empty cache'],
  ['info-too-short', 'INVALID_PARAMETER', 'edk2 VarCheckPolicyLibMmiHandler GET_INFO size check'],
  ['info-name-size-too-large', 'INVALID_PARAMETER', 'edk2 VarCheckPolicyLibMmiHandler GET_INFO'],
  ['info-name-unterminated', 'INVALID_PARAMETER', 'edk2 VarCheckPolicyLibMmiHandler GET_INFO'],
  ['no-matching-policy', 'NOT_FOUND', 'edk2 GetVariablePolicyInfo'],
  ['not-lock-on-var-state', 'NOT_FOUND', 'edk2 GetLockOnVariableStateVariablePolicyInfo'],
  ['name-buffer-too-small', 'BUFFER_TOO_SMALL', 'edk2 GetVariablePolicyInfo'],
  // policy: SetVariable enforcement
  ['policy-attributes-must-have', 'INVALID_PARAMETER', '§5.5 step 1'],
  ['policy-attributes-cant-have', 'INVALID_PARAMETER', '§5.5 step 2'],
  ['policy-size-too-small', 'INVALID_PARAMETER', '§5.5 step 3'],
  ['policy-size-too-large', 'INVALID_PARAMETER', '§5.5 step 3'],
  ['locked-now', 'WRITE_PROTECTED', '§5.5 step 4'],
  ['locked-on-create', 'WRITE_PROTECTED', '§5.5 step 4'],
  ['locked-on-var-state', 'WRITE_PROTECTED', '§5.5 step 4'],
  ['state-probe-failed', 'ABORTED', '§5.5 [DIFF] (edk2 mGetVariableHelper failures)'],
  // policy: LOCK_VARIABLE
  ['lock-after-end-of-dxe', 'ACCESS_DENIED', '§2.5.5 step 3 (edk2)'],
  ['lock-name-too-long', 'BAD_BUFFER_SIZE', '§2.5.5 step 2'],
  // policy: VarCheck functions 7, 9, 10 (edk2 SmmVariableHandler, VarCheckLib)
  ['statistics-not-collected', 'UNSUPPORTED', '§2.4 function 7, §7.4'],
  ['var-check-unknown-function', 'UNSUPPORTED', '§2.4'],
  ['var-check-too-short', 'BAD_BUFFER_SIZE', '§2.5.x step 1 pattern (edk2 writes no status)'],
  ['var-check-name-past-message', 'ACCESS_DENIED', '§3.1 (edk2 SMM handler: EFI_ACCESS_DENIED)'],
  ['var-check-name-unterminated', 'ACCESS_DENIED', '§3.1 (edk2: Name[NameSize/2 - 1] == 0, else EFI_ACCESS_DENIED)'],
  ['var-check-name-empty', 'INVALID_PARAMETER', 'edk2 VarCheckLibVariablePropertySet'],
  ['var-check-bad-revision', 'INVALID_PARAMETER', 'edk2 VarCheckLibVariablePropertySet'],
  ['var-check-after-end-of-dxe', 'ACCESS_DENIED', 'edk2 SmmVariableHandler (property set after EndOfDxe)'],
  ['var-check-table-full', 'OUT_OF_RESOURCES', 'docs/policy.md P10 (our bound; edk2 allocation failure answers EFI_OUT_OF_RESOURCES)'],
  ['property-not-found', 'NOT_FOUND', 'edk2 VarCheckLibVariablePropertyGet'],
  ['property-read-only', 'WRITE_PROTECTED', 'edk2 VarCheckLibSetVariableCheck'],
  ['property-attributes', 'INVALID_PARAMETER', 'edk2 VarCheckLibSetVariableCheck'],
  ['property-size', 'INVALID_PARAMETER', 'edk2 VarCheckLibSetVariableCheck'],
];

const LAYERS = { store: StoreReasons, persist: PersistReasons, auth: AuthReasons, policy: PolicyReasons } as const;

test('statusOf gives every reason of every layer the EFI status the spec names for it', () => {
  const rows = new Map<string, StatusName>();
  for (const [r, s, where] of EXPECTED) {
    assert.ok(!rows.has(r), `${r} listed twice`);
    assert.ok(EfiStatus[s] !== undefined, `${s} (${where}) is an EFI status`);
    rows.set(r, s);
  }
  for (const [layer, table] of Object.entries(LAYERS)) {
    for (const r of Object.keys(table)) {
      const want = rows.get(r);
      assert.ok(want, `${layer} reason ${r} has no expected status in this test`);
      assert.equal(statusName(statusOf(r as Reason)), statusName(EfiStatus[want]), `${layer} reason ${r}`);
      assert.notEqual(statusOf(r as Reason), EfiStatus.SUCCESS, `${r}: a refusal is never EFI_SUCCESS`);
    }
  }
  // Nothing listed here that no layer names, and the table holds exactly the layers' reasons.
  const named = new Set(Object.values(LAYERS).flatMap((t) => Object.keys(t)));
  for (const r of rows.keys()) assert.ok(named.has(r), `${r} is a reason of some layer`);
  assert.deepEqual([...ALL_REASONS].sort(), [...named].sort());
  assert.equal(statusOf(undefined), EfiStatus.SUCCESS);
});

test('each layer names its own reasons: no reason is named by two layers', () => {
  const seen = new Map<string, string>();
  for (const [layer, table] of Object.entries(LAYERS)) {
    for (const r of Object.keys(table)) {
      assert.equal(seen.get(r), undefined, `${r} named by ${seen.get(r)} and ${layer}`);
      seen.set(r, layer);
    }
  }
});

test('a reason keeps the documented deviation its layer attaches, and reasons read back from a frame are recognised', () => {
  for (const table of Object.values(LAYERS)) {
    for (const [r, e] of Object.entries(table) as [Reason, { deviation?: keyof typeof Deviations }][]) {
      assert.equal(reasonDeviation(r), e.deviation, r);
      if (e.deviation) assert.ok(Deviations[e.deviation], `${r}: ${e.deviation} is a documented deviation`);
      assert.ok(isMmReason(r), r);
    }
  }
  // The documented ids the reasons stand for (docs/deviations.md #1, #3, #4, #10, #14; docs/policy.md P1, P3, P9)
  assert.equal(reasonDeviation('name-empty'), 'empty-name');
  assert.equal(reasonDeviation('read-only-variable'), 'read-only-variable');
  assert.equal(reasonDeviation('unauthenticated-delete'), 'unauthenticated-delete');
  assert.equal(reasonDeviation('auth-cert-type'), 'auth-cert-type');
  assert.equal(reasonDeviation('auth-siglist-format'), 'siglist-format');
  assert.equal(reasonDeviation('bad-signature'), 'policy-comm-header');
  assert.equal(reasonDeviation('bad-version'), 'policy-structure');
  assert.equal(reasonDeviation('property-not-found'), 'varcheck-functions');
  assert.equal(reasonDeviation('not-found'), undefined);
  for (const t of ['no-buffer', 'message-exceeds-buffer', 'unknown-mm-guid']) {
    assert.ok(isMmReason(t), t);
    assert.equal(reasonDeviation(t as MmReason), undefined);
  }
  for (const s of ['', 'policy', 'toString', '__proto__', 'constructor', 'EFI_SUCCESS']) assert.equal(isMmReason(s), false, s);
});

/** Module specifiers that reach the EFI status constants (wire/status), in one source text. */
function statusImports(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2] ?? '';
    if (/(^|\/)wire\/status(\.js)?$/.test(spec)) out.push(spec);
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('the scan for EFI status imports catches every import form', () => {
  assert.deepEqual(statusImports(`import { EfiStatus } from '../wire/status.js';`), ['../wire/status.js']);
  assert.deepEqual(statusImports(`import type { X } from "../../wire/status.js";`), ['../../wire/status.js']);
  assert.deepEqual(statusImports(`export { EfiStatus } from '../wire/status.js';`), ['../wire/status.js']);
  assert.deepEqual(statusImports(`const s = await import('../wire/status.js');`), ['../wire/status.js']);
  assert.deepEqual(statusImports(`import {\n  EfiStatus,\n  DeviceStatus,\n} from '../wire/status.js';`), ['../wire/status.js']);
  assert.deepEqual(statusImports(`import { x } from '../wire/statusbar.js';\nimport { guid } from '../wire/guid.js';`), []);
});

test('no layer below service/ decides in EFI statuses: store, auth, policy and persist import no wire/status', () => {
  const root = join(process.cwd(), 'src');
  const bad: string[] = [];
  for (const layer of ['store', 'auth', 'policy', 'persist']) {
    for (const f of sources(join(root, layer))) {
      for (const spec of statusImports(readFileSync(f, 'utf8'))) bad.push(`${relative(process.cwd(), f)} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});
