/**
 * Attack suite, part 4: private time-based authenticated variables (spec §4.8,
 * docs/deviations.md #8, #16). The value is a real payload (DBUpdate2024's signature
 * list); the variable is created in-process by a signer, then attacked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeIdentity, testPki, type TestIdentity } from '../helpers/keys.js';
import type { VariableService } from '../../src/service/variable-service.js';
import {
  FILES, S, SB_ATTR, TEST_GUID, UPDATE_ATTR, auth2, efiTime, expectAccepted, expectRejected, realState, set,
  setRequest, sign, type Target,
} from './fixtures.js';

const VAR: Target = { name: 'AttackPrivate', guid: TEST_GUID };
const named = { name: 'AttackPrivate', guid: TEST_GUID };
const T2011 = efiTime(2011, 6, 1);
const T2012 = efiTime(2012, 6, 1);
const value = FILES.db.payload;

/** A real-certificate service holding AttackPrivate, created (0x27 @ 2011) by `owner`. */
async function withPrivate(owner: TestIdentity): Promise<VariableService> {
  const svc = await realState();
  const r = await set(svc, VAR, SB_ATTR, await sign(named, SB_ATTR, T2011, value, owner));
  assert.equal(r.status, S.SUCCESS, `create (${r.reason})`);
  const v = svc.variables().find((x) => x.guid === TEST_GUID);
  assert.ok(v?.digest, 'the signer digest is stored');
  return svc;
}

test('control: a later update by the creating signer → EFI_SUCCESS', async () => {
  const { leaf } = await testPki();
  const svc = await withPrivate(leaf);
  await expectAccepted(svc, VAR, setRequest(VAR, SB_ATTR, await sign(named, SB_ATTR, T2012, FILES.db3p.payload, leaf)));
});

test('private variable updated by a different signer → EFI_SECURITY_VIOLATION', async () => {
  const { leaf, rogue } = await testPki();
  const svc = await withPrivate(leaf);
  const data = await sign(named, SB_ATTR, T2012, FILES.db3p.payload, rogue);
  await expectRejected(svc, VAR, setRequest(VAR, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-signer-mismatch');
});

test('private variable updated by a signer with the same CN but another key → EFI_SECURITY_VIOLATION', async () => {
  const { rogue } = await testPki();
  const twin = await makeIdentity({ cn: rogue.cn });
  const svc = await withPrivate(rogue);
  const data = await sign(named, SB_ATTR, T2012, FILES.db3p.payload, twin);
  await expectRejected(svc, VAR, setRequest(VAR, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-signer-mismatch');
});

test('APPEND (0x67) to a private authenticated variable by its own signer → EFI_UNSUPPORTED', async () => {
  const { leaf } = await testPki();
  const svc = await withPrivate(leaf);
  const data = await sign(named, UPDATE_ATTR, T2012, FILES.db3p.payload, leaf);
  await expectRejected(svc, VAR, setRequest(VAR, UPDATE_ATTR, data), S.UNSUPPORTED, 'append-unsupported');
});

test('unsigned delete (DataSize 0) of a private authenticated variable → EFI_SECURITY_VIOLATION', async () => {
  const { leaf } = await testPki();
  const svc = await withPrivate(leaf);
  await expectRejected(svc, VAR, setRequest(VAR, SB_ATTR, new Uint8Array(0)), S.SECURITY_VIOLATION, 'unauthenticated-delete');
});

test('signed-empty-payload delete of a private variable by a different signer → EFI_SECURITY_VIOLATION', async () => {
  const { leaf, rogue } = await testPki();
  const svc = await withPrivate(leaf);
  const data = await sign(named, SB_ATTR, T2012, new Uint8Array(0), rogue);
  await expectRejected(svc, VAR, setRequest(VAR, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-signer-mismatch');
});

test('dwLength 24 (no PKCS#7) on an existing private variable → EFI_SECURITY_VIOLATION (deviations #8)', async () => {
  const { leaf } = await testPki();
  const svc = await withPrivate(leaf);
  await expectRejected(svc, VAR, setRequest(VAR, SB_ATTR, auth2(T2012, new Uint8Array(0), value)), S.SECURITY_VIOLATION, 'auth-no-signature');
});

test('dwLength 24 (no PKCS#7) creating a private variable → EFI_SECURITY_VIOLATION (deviations #8)', async () => {
  const svc = await realState();
  const t: Target = { name: 'AttackPrivate2', guid: TEST_GUID };
  await expectRejected(svc, t, setRequest(t, SB_ATTR, auth2(T2012, new Uint8Array(0), value)), S.SECURITY_VIOLATION, 'auth-no-signature');
});

test('replay of the creating write (same timestamp) on a private variable → EFI_SECURITY_VIOLATION', async () => {
  const { leaf } = await testPki();
  const svc = await withPrivate(leaf);
  const data = await sign(named, SB_ATTR, T2011, value, leaf);
  await expectRejected(svc, VAR, setRequest(VAR, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-stale-timestamp');
});

test('private variable: the real Microsoft dbx update re-targeted at it (signature over "dbx") → EFI_SECURITY_VIOLATION', async () => {
  const { leaf } = await testPki();
  const svc = await withPrivate(leaf);
  await expectRejected(svc, VAR, setRequest(VAR, UPDATE_ATTR, FILES.dbx.bytes), S.SECURITY_VIOLATION, 'auth-signature');
});
