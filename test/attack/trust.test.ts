/**
 * Attack suite, part 2: who may sign what, replays, deletes, and correctly signed
 * but unacceptable content (issue 3). Real payloads (the Microsoft and OEM files, the
 * real certificates) are re-signed with throwaway test keys only where a fresh valid
 * signature is needed; those run against fixtures.ownState (our PK, our KEK + Microsoft
 * KEK CA 2011), the rest against fixtures.realState.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeIdentity, testPki } from '../helpers/keys.js';
import {
  CERT, DB, DBX, FILES, KEK, PK, S, SB_ATTR, SECURITY_GUID, T2010, UPDATE_ATTR, cat, efiTime,
  expectAccepted, expectRejected, getReply, ownState, realState, send, set, setRequest, sign, x509List,
  type Target,
} from './fixtures.js';
import { guidLe } from '../auth/vectors.js';

const named = (t: Target): { name: string; guid: string } => ({ name: t.name as string, guid: t.guid });
const T2011 = efiTime(2011, 6, 1);
const T2012 = efiTime(2012, 6, 1);

// --- positive controls --------------------------------------------------------------

test('control: own-key state — DBUpdate2024 payload re-signed by our KEK (0x27, later time) → EFI_SUCCESS, then the real Microsoft dbx update too', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  await expectAccepted(svc, DB, setRequest(DB, SB_ATTR, await sign(named(DB), SB_ATTR, T2011, FILES.db.payload, kek)));
  await expectAccepted(svc, DBX, setRequest(DBX, UPDATE_ATTR, FILES.dbx.bytes));
});

test('control: own-key state — a PK rotation to the Red Hat certificate signed by our PK → EFI_SUCCESS', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  await expectAccepted(svc, PK, setRequest(PK, SB_ATTR, await sign(named(PK), SB_ATTR, T2011, x509List(CERT.redHatPk), pk)));
});

test('control: own-key state — a signed empty dbx payload from our KEK deletes dbx → EFI_SUCCESS', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  await expectAccepted(svc, DBX, setRequest(DBX, SB_ATTR, await sign(named(DBX), SB_ATTR, T2011, new Uint8Array(0), kek)));
  assert.equal(new DataView((await getReply(svc, DBX)).buffer).getBigUint64(32, true), S.NOT_FOUND);
});

test('control: allowPkSignedDb — DBUpdate2024 payload signed by the PK → EFI_SUCCESS', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek, { options: { allowPkSignedDb: true } });
  await expectAccepted(svc, DB, setRequest(DB, UPDATE_ATTR, await sign(named(DB), UPDATE_ATTR, T2011, FILES.db.payload, pk)));
});

// --- wrong signer ---------------------------------------------------------------------

test('db update (DBUpdate2024 payload) signed by a generated key with its own certificate embedded → EFI_SECURITY_VIOLATION', async () => {
  const { rogue } = await testPki();
  const svc = await realState();
  const data = await sign(named(DB), UPDATE_ATTR, FILES.db.time, FILES.db.payload, rogue);
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('dbx update signed by a forged leaf naming "Microsoft Corporation KEK CA 2011" as issuer (wrong key) → EFI_SECURITY_VIOLATION', async () => {
  const { rogue } = await testPki();
  const forgedIssuer = { ...rogue, cert: CERT.msKekCa2011 }; // issuer name from the real CA, signature by the rogue key
  const leaf = await makeIdentity({ cn: 'Microsoft Windows UEFI Key Exchange Key', issuer: forgedIssuer });
  const svc = await realState();
  const data = await sign(named(DBX), UPDATE_ATTR, FILES.dbx.time, FILES.dbx.payload, leaf);
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('KEK update KEKUpdate_AMI_PK1 signed by an OEM PK that is not the stored PK → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, KEK, setRequest(KEK, UPDATE_ATTR, FILES.kekAmi.bytes), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('KEK update KEKUpdate_Microsoft_PK1 (Hyper-V firmware PK) against the Red Hat PK → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, KEK, setRequest(KEK, UPDATE_ATTR, FILES.kekMsPk1.bytes), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('KEK update signed by a KEK entry (Red Hat is in KEK, PK is AMI\'s) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState({}, { pk: CERT.amiTestPk, kek: [CERT.msKekCa2011, CERT.redHatPk], db: CERT.msWinPca2011 });
  await expectRejected(svc, KEK, setRequest(KEK, UPDATE_ATTR, FILES.kekRedHat.bytes), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('Microsoft dbx update when KEK holds only the Red Hat certificate → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState({}, { pk: CERT.redHatPk, kek: [CERT.redHatPk], db: CERT.msWinPca2011 });
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, FILES.dbx.bytes), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('KEK signer used for PK (Red Hat PK certificate payload signed by our KEK) → EFI_SECURITY_VIOLATION', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(PK), SB_ATTR, T2011, x509List(CERT.redHatPk), kek);
  await expectRejected(svc, PK, setRequest(PK, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('db-signing key (our KEK) used for a KEK write (KEKUpdate_AMI_PK1 payload) → EFI_SECURITY_VIOLATION', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(KEK), UPDATE_ATTR, T2011, FILES.kekAmi.payload, kek);
  await expectRejected(svc, KEK, setRequest(KEK, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('db update signed by the PK (allowPkSignedDb off, QEMU rule) → EFI_SECURITY_VIOLATION', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(DB), UPDATE_ATTR, T2011, FILES.db.payload, pk);
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-untrusted');
});

// --- replay / timestamps ------------------------------------------------------------

test('replay of the exact same signed write twice without APPEND (equal timestamp) → EFI_SECURITY_VIOLATION (deviations #11)', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const req = setRequest(DB, SB_ATTR, await sign(named(DB), SB_ATTR, T2011, FILES.db.payload, kek));
  assert.equal((await send(svc, req)).status, S.SUCCESS, 'first write');
  await expectRejected(svc, DB, req, S.SECURITY_VIOLATION, 'auth-stale-timestamp');
});

test('replay of an older, once-valid signed write without APPEND → EFI_SECURITY_VIOLATION', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const older = setRequest(DBX, SB_ATTR, await sign(named(DBX), SB_ATTR, T2011, FILES.dbxArm.payload, kek));
  const newer = setRequest(DBX, SB_ATTR, await sign(named(DBX), SB_ATTR, T2012, FILES.dbx.payload, kek));
  assert.equal((await send(svc, older)).status, S.SUCCESS);
  assert.equal((await send(svc, newer)).status, S.SUCCESS);
  await expectRejected(svc, DBX, older, S.SECURITY_VIOLATION, 'auth-stale-timestamp');
});

test('signed write (no APPEND) dated before the stored timestamp → EFI_SECURITY_VIOLATION', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(DB), SB_ATTR, efiTime(2009, 12, 31, 23, 59, 59), FILES.db.payload, kek);
  await expectRejected(svc, DB, setRequest(DB, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-stale-timestamp');
});

test('signed write (no APPEND) with a timestamp equal to the stored one → EFI_SECURITY_VIOLATION', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(KEK), SB_ATTR, T2010, FILES.kekAmi.payload, pk);
  await expectRejected(svc, KEK, setRequest(KEK, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-stale-timestamp');
});

// --- deletes --------------------------------------------------------------------------

for (const t of [PK, KEK, DB, DBX]) {
  test(`unsigned delete (DataSize 0, attributes 0x27) of ${t.name as string} → EFI_SECURITY_VIOLATION (deviations #4)`, async () => {
    const svc = await realState();
    await expectRejected(svc, t, setRequest(t, SB_ATTR, new Uint8Array(0)), S.SECURITY_VIOLATION, 'unauthenticated-delete');
  });
}

test('unsigned delete of db with attributes 0 → EFI_INVALID_PARAMETER (edk2 ProcessVarWithKek wants NV|AT), with 0x67 → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DB, setRequest(DB, 0, new Uint8Array(0)), S.INVALID_PARAMETER, 'key-database-attributes');
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, new Uint8Array(0)), S.SECURITY_VIOLATION, 'unauthenticated-delete');
});

test('signed-empty-payload delete of db signed by the wrong key → EFI_SECURITY_VIOLATION', async () => {
  const { rogue } = await testPki();
  const svc = await realState();
  const data = await sign(named(DB), SB_ATTR, T2011, new Uint8Array(0), rogue);
  await expectRejected(svc, DB, setRequest(DB, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('DBUpdate2024 with its payload cut off (a Microsoft signature reused as a delete) → EFI_SECURITY_VIOLATION', async () => {
  const f = FILES.db;
  const svc = await realState();
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, f.bytes.subarray(0, 16 + f.dwLength)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('PK delete (signed empty payload) signed by our KEK instead of our PK → EFI_SECURITY_VIOLATION', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(PK), SB_ATTR, T2011, new Uint8Array(0), kek);
  await expectRejected(svc, PK, setRequest(PK, SB_ATTR, data), S.SECURITY_VIOLATION, 'auth-untrusted');
});

// --- correctly signed, but wrong attributes or malformed content --------------------

test('correctly signed db update over 0x63 (BS|NV|AT|APPEND, RT missing) on the existing 0x27 db → EFI_INVALID_PARAMETER', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(DB), 0x63, T2011, FILES.db.payload, kek);
  await expectRejected(svc, DB, setRequest(DB, 0x63, data), S.INVALID_PARAMETER, 'attributes-mismatch');
});

test('correctly signed new dbx over 0x23 (RT missing; no dbx stored yet) → EFI_INVALID_PARAMETER', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const del = await sign(named(DBX), SB_ATTR, T2011, new Uint8Array(0), kek);
  assert.equal((await set(svc, DBX, SB_ATTR, del)).status, S.SUCCESS, 'dbx deleted first');
  const data = await sign(named(DBX), 0x23, T2012, FILES.dbx.payload, kek);
  await expectRejected(svc, DBX, setRequest(DBX, 0x23, data), S.INVALID_PARAMETER, 'secure-boot-attributes');
});

test('correctly signed PK over 0x23 (spec §8 item 44) → EFI_INVALID_PARAMETER', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const data = await sign(named(PK), 0x23, T2011, x509List(CERT.redHatPk), pk);
  await expectRejected(svc, PK, setRequest(PK, 0x23, data), S.INVALID_PARAMETER, 'attributes-mismatch');
});

test('correctly signed dbx whose EFI_SIGNATURE_LIST is truncated (real payload minus its last byte) → EFI_INVALID_PARAMETER', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const payload = FILES.dbx.payload.subarray(0, FILES.dbx.payload.length - 1);
  const data = await sign(named(DBX), UPDATE_ATTR, T2011, payload, kek);
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.INVALID_PARAMETER, 'auth-siglist-format');
});

test('correctly signed dbx whose list has an unknown SignatureType → EFI_INVALID_PARAMETER', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const payload = FILES.dbx.payload.slice();
  payload.set(guidLe('01234567-89ab-cdef-0123-456789abcdef'), 0);
  const data = await sign(named(DBX), UPDATE_ATTR, T2011, payload, kek);
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.INVALID_PARAMETER, 'auth-siglist-format');
});

test('correctly signed db whose X.509 entry is not a certificate → EFI_INVALID_PARAMETER', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const payload = FILES.db.payload.slice();
  payload[28 + 16] = 0x31; // the certificate's outer SEQUENCE tag becomes SET
  const data = await sign(named(DB), UPDATE_ATTR, T2011, payload, kek);
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, data), S.INVALID_PARAMETER, 'auth-siglist-format');
});

test('correctly signed PK payload with two certificates (Red Hat + AMI) → EFI_INVALID_PARAMETER', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const payload = cat(x509List(CERT.redHatPk), x509List(CERT.amiTestPk));
  const data = await sign(named(PK), SB_ATTR, T2011, payload, pk);
  await expectRejected(svc, PK, setRequest(PK, SB_ATTR, data), S.INVALID_PARAMETER, 'auth-siglist-format');
});

test('sanity: the own-key state has our PK and KEK in place', async () => {
  const { pk, kek } = await testPki();
  const svc = await ownState(pk, kek);
  const vars = svc.variables();
  assert.ok(vars.some((v) => v.guid === SECURITY_GUID && Buffer.from(v.data).includes(Buffer.from(CERT.msWinPca2011))));
  assert.ok(vars.some((v) => Buffer.from(v.data).includes(Buffer.from(kek.cert))));
  assert.ok(vars.some((v) => Buffer.from(v.data).includes(Buffer.from(pk.cert))));
  assert.equal(svc.secureBoot.setupMode, false);
});
