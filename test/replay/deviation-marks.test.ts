/**
 * Issue 17 item 4: a documented deviation is marked on the decision (MmResult.deviation),
 * so replay tells it from a mismatch whatever the status: successes QEMU would refuse,
 * and refusals whose reason QEMU shares only in other cases. Each test pairs the
 * deviating decision with its non-deviating twin (same reason, QEMU agrees).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testPki } from '../helpers/keys.js';
import { CERT, DB, KEK, PK, S, SB_ATTR, SECURITY_GUID, T2010, TEST_GUID, efiTime, ownState, setRequest, sign, x509List, FILES, type Target } from '../attack/fixtures.js';
import { entry, policyMsg, LOCK_NOW, LOCK_ON_VAR_STATE, NO_LOCK, GUID1 } from '../policy/builders.js';
import { VariableService } from '../../src/service/variable-service.js';
import { signVariable } from '../../src/auth/sign.js';
import { setVariableRequest, getVariableRequest } from '../../src/client/requests.js';
import { mmRequest } from '../helpers/service.js';
import { Guids, guidBytes } from '../../src/wire/guid.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { makeVariable } from '../../src/store/variable.js';
import type { MmResult } from '../../src/service/mm-handler.js';

const named = (t: Target): { name: string; guid: string } => ({ name: t.name as string, guid: t.guid });
const T2011 = efiTime(2011, 6, 1);
const REGISTER = 3;
const LOCK = 5;
const status = (r: MmResult): bigint => new DataView(r.reply!.buffer, r.reply!.byteOffset).getBigUint64(32, true);
const policyResult = (r: MmResult): bigint => new DataView(r.reply!.buffer, r.reply!.byteOffset).getBigUint64(24 + 12, true);
const endOfDxe = (svc: VariableService): Promise<MmResult> => svc.process(mmRequest(guidBytes(Guids.endOfDxe), 1));
const register = (svc: VariableService, spec: Parameters<typeof entry>[0]): Promise<MmResult> =>
  svc.process(mmRequest(guidBytes(Guids.varCheckPolicy), policyMsg(REGISTER, entry(spec))));

test('a ContentInfo-wrapped PK accepted in Setup Mode is the documented deviation #7; the bare one is no deviation', async () => {
  const { pk } = await testPki();
  for (const contentInfo of [false, true]) {
    const svc = await VariableService.create({ variables: [] });
    const data = await signVariable({ name: 'PK', guid: PK.guid, attributes: SB_ATTR, time: T2011, payload: x509List(pk.cert), signerCert: pk.cert, signerKey: pk.key }, { contentInfo });
    const r = await svc.process(setRequest(PK, SB_ATTR, data));
    assert.equal(status(r), S.SUCCESS);
    assert.equal(r.deviation, contentInfo ? 'pkcs7-content-info' : undefined);
  }
});

test('a stale timestamp is a deviation (#11) only when it equals the stored one; an older one QEMU refuses too', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const equal = await svc.process(setRequest(KEK, SB_ATTR, await sign(named(KEK), SB_ATTR, T2010, FILES.kekAmi.payload, pk)));
  assert.equal(equal.reason, 'auth-stale-timestamp');
  assert.equal(equal.deviation, 'equal-timestamp');
  const older = await svc.process(setRequest(KEK, SB_ATTR, await sign(named(KEK), SB_ATTR, efiTime(2009, 1, 1), FILES.kekAmi.payload, pk)));
  assert.equal(older.reason, 'auth-stale-timestamp');
  assert.equal(older.deviation, undefined);
});

test('an untrusted signer on dbr is the key-database rule (#15, QEMU and edk2 accept it as private); on db it is no deviation', async () => {
  const { pk, kek, rogue } = await testPki();
  const svc = await ownState(pk, kek);
  const dbr: Target = { name: 'dbr', guid: SECURITY_GUID };
  const r = await svc.process(setRequest(dbr, SB_ATTR, await sign(named(dbr), SB_ATTR, T2011, x509List(CERT.redHatPk), rogue)));
  assert.equal(status(r), S.SECURITY_VIOLATION);
  assert.equal(r.reason, 'auth-untrusted');
  assert.equal(r.deviation, 'dbt-dbr-key-database');
  const db = await svc.process(setRequest(DB, SB_ATTR, await sign(named(DB), SB_ATTR, T2011, x509List(CERT.redHatPk), rogue)));
  assert.equal(db.reason, 'auth-untrusted');
  assert.equal(db.deviation, undefined);
});

test('a private variable is a deviation (#16) when SignerInfo binding differs from QEMU\'s certificate 0 / last certificate', async () => {
  const { leaf, intermediate, root } = await testPki();
  const target = { name: 'PrivVar', guid: TEST_GUID };
  const write = async (extra: Uint8Array[]): Promise<MmResult> => {
    const svc = await VariableService.create({ variables: [] });
    const data = await signVariable({ ...target, attributes: SB_ATTR, time: T2011, payload: Uint8Array.of(1), signerCert: leaf.cert, signerKey: leaf.key }, { extraCertificates: extra });
    return svc.process(setRequest(target, SB_ATTR, data));
  };
  const same = await write([intermediate.cert, root.cert]);
  assert.equal(status(same), S.SUCCESS);
  assert.equal(same.deviation, undefined);
  const reordered = await write([root.cert, intermediate.cert]);
  assert.equal(status(reordered), S.SUCCESS);
  assert.equal(reordered.deviation, 'private-signer-binding');
});

test('an unauthenticated delete of KEK answers edk2: Attributes 0 -> EFI_INVALID_PARAMETER, 0x27 -> EFI_SECURITY_VIOLATION; both deviation #4', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const zero = await svc.process(setVariableRequest({ name: 'KEK', guid: KEK.guid, attributes: 0, data: new Uint8Array(0) }));
  assert.equal(status(zero), S.INVALID_PARAMETER);
  assert.equal(zero.deviation, 'unauthenticated-delete');
  const sb = await svc.process(setVariableRequest({ name: 'KEK', guid: KEK.guid, attributes: SB_ATTR, data: new Uint8Array(0) }));
  assert.equal(status(sb), S.SECURITY_VIOLATION);
  assert.equal(sb.deviation, 'unauthenticated-delete');
});

test('a name without its NUL is deviation #2 only where QEMU\'s scan past NameSize would accept it', async () => {
  const svc = await VariableService.create({ variables: [] });
  const units = (s: string): Uint8Array => encodeName(s).subarray(0, 2 * s.length); // no NUL
  // Data starting 00 00: QEMU's scan (NameSize code units) finds a zero unit in it and accepts.
  const zeroAfter = await svc.process(setVariableRequest({ name: units('NoNul'), guid: TEST_GUID, attributes: 7, data: Uint8Array.of(0, 0, 1) }));
  assert.equal(status(zeroAfter), S.INVALID_PARAMETER);
  assert.equal(zeroAfter.deviation, 'name-without-nul');
  // Data 'AB' + a surrogate right after the name: QEMU's scan fails too (same status, no deviation).
  const surrogate = await svc.process(setVariableRequest({ name: units('NoNul'), guid: TEST_GUID, attributes: 7, data: Uint8Array.of(0x41, 0, 0x00, 0xd8, 0, 0, 0, 0, 0, 0) }));
  assert.equal(status(surrogate), S.INVALID_PARAMETER);
  assert.equal(surrogate.deviation, undefined);
  const get = await svc.process(getVariableRequest({ name: units('Ab'), guid: TEST_GUID, dataSize: 8 }));
  assert.equal(status(get), S.INVALID_PARAMETER);
  assert.equal(get.deviation, 'name-without-nul', 'the zero caller buffer after the name ends QEMU\'s scan');
});

test('P7: REGISTER after EndOfDxe is refused as a deviation; after an explicit LOCK (QEMU refuses too) it is not', async () => {
  const late = await VariableService.create({ variables: [] });
  await endOfDxe(late);
  const r = await register(late, { namespace: GUID1, name: 'A', lockType: NO_LOCK });
  assert.equal(policyResult(r), S.WRITE_PROTECTED);
  assert.equal(r.reason, 'interface-locked');
  assert.equal(r.deviation, 'policy-locked-at-end-of-dxe');

  const locked = await VariableService.create({ variables: [] });
  await locked.process(mmRequest(guidBytes(Guids.varCheckPolicy), policyMsg(LOCK)));
  const r2 = await register(locked, { namespace: GUID1, name: 'A', lockType: NO_LOCK });
  assert.equal(r2.reason, 'interface-locked');
  assert.equal(r2.deviation, undefined);
});

test('locked-now from a named policy is no deviation; from a namespace-wide one it is P5; locked-on-var-state is P4', async () => {
  const svc = await VariableService.create({ variables: [
    makeVariable({ guid: GUID1, name: encodeName('State'), attributes: 7, data: Uint8Array.of(1) }),
  ] });
  assert.equal(policyResult(await register(svc, { namespace: GUID1, name: 'Named', lockType: LOCK_NOW })), 0n);
  assert.equal(policyResult(await register(svc, { namespace: TEST_GUID, lockType: LOCK_NOW })), 0n);
  assert.equal(policyResult(await register(svc, { namespace: GUID1, name: 'ByState', lockType: LOCK_ON_VAR_STATE, state: { namespace: GUID1, name: 'State', value: 1 } })), 0n);
  await endOfDxe(svc);
  const named2 = await svc.process(setVariableRequest({ name: 'Named', guid: GUID1, attributes: 7, data: Uint8Array.of(1) }));
  assert.equal(named2.reason, 'locked-now');
  assert.equal(named2.deviation, undefined);
  const wide = await svc.process(setVariableRequest({ name: 'Anything', guid: TEST_GUID, attributes: 7, data: Uint8Array.of(1) }));
  assert.equal(wide.reason, 'locked-now');
  assert.equal(wide.deviation, 'namespace-policy');
  const byState = await svc.process(setVariableRequest({ name: 'ByState', guid: GUID1, attributes: 7, data: Uint8Array.of(1) }));
  assert.equal(byState.reason, 'locked-on-var-state');
  assert.equal(byState.deviation, 'lock-on-var-state-layout');
});

test('P6: a delete QEMU would refuse on the old variable\'s size is accepted as a deviation; one both accept is not', async () => {
  const svc = await VariableService.create({ variables: [
    makeVariable({ guid: GUID1, name: encodeName('Small'), attributes: 7, data: Uint8Array.of(1) }),
    makeVariable({ guid: GUID1, name: encodeName('Big'), attributes: 7, data: new Uint8Array(8) }),
  ] });
  assert.equal(policyResult(await register(svc, { namespace: GUID1, name: 'Small', lockType: NO_LOCK, minSize: 4 })), 0n);
  assert.equal(policyResult(await register(svc, { namespace: GUID1, name: 'Big', lockType: NO_LOCK, minSize: 4 })), 0n);
  await endOfDxe(svc);
  const small = await svc.process(setVariableRequest({ name: 'Small', guid: GUID1, attributes: 7, data: new Uint8Array(0) }));
  assert.equal(status(small), S.SUCCESS);
  assert.equal(small.deviation, 'policy-delete-checks');
  const big = await svc.process(setVariableRequest({ name: 'Big', guid: GUID1, attributes: 7, data: new Uint8Array(0) }));
  assert.equal(status(big), S.SUCCESS);
  assert.equal(big.deviation, undefined);
});
