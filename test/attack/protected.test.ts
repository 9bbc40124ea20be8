/**
 * Attack suite, part 3: the variables that decide the Secure Boot mode (read-only
 * globals, CustomMode) and plain writes over the key databases (issue 3; spec §3.4,
 * §4.4, §4.6; docs/deviations.md #3). Starting state: fixtures.realState (user mode).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventRequest, functionOnlyRequest } from '../../src/client/requests.js';
import {
  CUSTOM_MODE_GUID, DB, DBX, FILES, GLOBAL_GUID, REAL_KEYS, S, SB_ATTR, UPDATE_ATTR, auth2, efiTime, expectAccepted,
  expectRejected, getReply, realState, send, setRequest, status, type Target,
} from './fixtures.js';

const CUSTOM_MODE: Target = { name: 'CustomMode', guid: CUSTOM_MODE_GUID };
/** A db write carrying the descriptor but no signature: what CustomMode would let through. */
const unsignedDb = (): Uint8Array => auth2(efiTime(2012), new Uint8Array(0), FILES.db.payload);

// --- read-only globals -----------------------------------------------------------------

const READ_ONLY: [string, number, Uint8Array][] = [
  ['SetupMode', 0x06, Uint8Array.of(1)],
  ['SecureBoot', 0x06, Uint8Array.of(0)],
  ['SignatureSupport', 0x06, new Uint8Array(16)],
  ['VendorKeys', 0x06, Uint8Array.of(1)],
  ['VendorKeysNv', 0x23, auth2(efiTime(2012), new Uint8Array(0), Uint8Array.of(1))],
  ['AuditMode', 0x06, Uint8Array.of(1)],
  ['DeployedMode', 0x06, Uint8Array.of(1)],
];

for (const [name, attributes, data] of READ_ONLY) {
  const t: Target = { name, guid: GLOBAL_GUID };
  test(`guest write to ${name} → EFI_WRITE_PROTECTED`, async () => {
    const svc = await realState();
    await expectRejected(svc, t, setRequest(t, attributes, data), S.WRITE_PROTECTED, 'read-only-variable');
  });
  test(`guest delete of ${name} → EFI_WRITE_PROTECTED`, async () => {
    const svc = await realState();
    await expectRejected(svc, t, setRequest(t, attributes, new Uint8Array(0)), S.WRITE_PROTECTED, 'read-only-variable');
  });
}

test('control: the mode variables are published and readable (SetupMode 00, SecureBoot 01 in user mode)', async () => {
  const svc = await realState();
  for (const [name, want] of [['SetupMode', 0], ['SecureBoot', 1]] as const) {
    const r = await getReply(svc, { name, guid: GLOBAL_GUID });
    assert.equal(status(r), S.SUCCESS, name);
    assert.equal(r[24 + 16 + 36 + (name.length + 1) * 2], want, `${name} value`);
  }
});

test('SetupMode=1 overwrite at runtime does not open db: the write is refused, then an unsigned db → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  assert.equal((await svc.process(eventRequest('exitBootServices'))).deviceStatus, 0);
  const sm: Target = { name: 'SetupMode', guid: GLOBAL_GUID };
  await expectRejected(svc, sm, setRequest(sm, 0x06, Uint8Array.of(1)), S.WRITE_PROTECTED, 'read-only-variable');
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, unsignedDb()), S.SECURITY_VIOLATION, 'auth-no-signature');
});

// --- CustomMode -----------------------------------------------------------------------

test('control: CustomMode=1 at boot time is accepted, and then a db write without signature → EFI_SUCCESS', async () => {
  const svc = await realState();
  await expectAccepted(svc, CUSTOM_MODE, setRequest(CUSTOM_MODE, 0x03, Uint8Array.of(1)));
  await expectAccepted(svc, DB, setRequest(DB, SB_ATTR, unsignedDb()));
});

test('disableCustomMode: CustomMode=1 write → EFI_WRITE_PROTECTED, and db stays signature-protected', async () => {
  const svc = await realState({ options: { disableCustomMode: true } });
  await expectRejected(svc, CUSTOM_MODE, setRequest(CUSTOM_MODE, 0x03, Uint8Array.of(1)), S.WRITE_PROTECTED, 'custom-mode-disabled');
  await expectRejected(svc, DB, setRequest(DB, SB_ATTR, unsignedDb()), S.SECURITY_VIOLATION, 'auth-no-signature');
});

test('disableCustomMode: CustomMode=0 rewrite and CustomMode delete → EFI_WRITE_PROTECTED', async () => {
  const svc = await realState({ options: { disableCustomMode: true } });
  await expectRejected(svc, CUSTOM_MODE, setRequest(CUSTOM_MODE, 0x03, Uint8Array.of(0)), S.WRITE_PROTECTED, 'custom-mode-disabled');
  await expectRejected(svc, CUSTOM_MODE, setRequest(CUSTOM_MODE, 0x03, new Uint8Array(0)), S.WRITE_PROTECTED, 'custom-mode-disabled');
});

test('CustomMode=1 after ExitBootServices (CustomMode is NV|BS) → EFI_ACCESS_DENIED, and db stays signature-protected', async () => {
  const svc = await realState();
  await send(svc, functionOnlyRequest(6));
  await expectRejected(svc, CUSTOM_MODE, setRequest(CUSTOM_MODE, 0x03, Uint8Array.of(1)), S.ACCESS_DENIED, 'access-denied-phase');
  await expectRejected(svc, CUSTOM_MODE, setRequest(CUSTOM_MODE, 0x07, Uint8Array.of(1)), S.ACCESS_DENIED, 'access-denied-phase');
  await expectRejected(svc, DB, setRequest(DB, SB_ATTR, unsignedDb()), S.SECURITY_VIOLATION, 'auth-no-signature');
});

test('CustomMode delete after ExitBootServices → EFI_ACCESS_DENIED', async () => {
  const svc = await realState();
  assert.equal((await svc.process(eventRequest('exitBootServices'))).deviceStatus, 0);
  await expectRejected(svc, CUSTOM_MODE, setRequest(CUSTOM_MODE, 0x03, new Uint8Array(0)), S.ACCESS_DENIED, 'access-denied-phase');
});

// --- plain writes over the key databases -------------------------------------------

test('plain write (0x07) of the real db payload over the existing 0x27 db → EFI_INVALID_PARAMETER', async () => {
  const svc = await realState();
  await expectRejected(svc, DB, setRequest(DB, 0x07, FILES.db.payload), S.INVALID_PARAMETER, 'attributes-mismatch');
});

test('plain write (0x07) creating db when none is stored → EFI_INVALID_PARAMETER', async () => {
  const svc = await realState({}, { ...REAL_KEYS, db: undefined });
  assert.equal(status(await getReply(svc, DB)), S.NOT_FOUND, 'no db to start with');
  await expectRejected(svc, DB, setRequest(DB, 0x07, FILES.db.payload), S.INVALID_PARAMETER, 'secure-boot-attributes');
});

test('plain write (0x27 without a descriptor: the bare dbx payload) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  // Its ListSize read as dwLength points past the data.
  await expectRejected(svc, DBX, setRequest(DBX, SB_ATTR, FILES.dbx.payload), S.SECURITY_VIOLATION, 'auth-cert-length');
});
