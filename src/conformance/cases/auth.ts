/**
 * Spec §8 items 41–57 (authenticated variables, §4) and §10.1 (the two
 * descriptors that crash QEMU 10.2). Keys are made at run time (keys.ts).
 */
import { Guids, guidBytes } from '../../wire/guid.js';
import { encodeSignatureLists } from '../../wire/siglist.js';
import { concatBytes } from '../../wire/hex.js';
import { signVariable } from '../../auth/sign.js';
import type { CaseContext, ConformanceCase } from '../case.js';
import type { Identity } from '../keys.js';
import { AP, BS, DATA4, GLOBAL, NV, NV_BS_RT, S, VENDOR, hardReset, mustSet } from './helpers.js';

const AUTH = 0x27; // NV|BS|RT|TIME_BASED_AUTHENTICATED_WRITE_ACCESS, what PK/KEK/db/dbx must carry (§4.6)
const DB_GUID = Guids.imageSecurityDatabase;
const OWNER = '11111111-2222-3333-4444-555555555555';

/** EFI_TIME: year, month, day, hh:mm:ss; `nanosecond` only to build the non-zero-field case. */
export function efiTime(year: number, month: number, day: number, second = 0, nanosecond = 0): Uint8Array {
  const t = new Uint8Array(16);
  const v = new DataView(t.buffer);
  v.setUint16(0, year, true);
  t[2] = month; t[3] = day; t[4] = 12; t[5] = 0; t[6] = second;
  v.setUint32(8, nanosecond, true);
  return t;
}

/** EFI_TIME ‖ WIN_CERTIFICATE_UEFI_GUID header with the given fields ‖ certData ‖ payload (malformed descriptors). */
function descriptor(o: { dwLength?: number; revision?: number; certType?: number; certData?: Uint8Array; payload?: Uint8Array; time?: Uint8Array }): Uint8Array {
  const cert = o.certData ?? new Uint8Array(0);
  const hdr = new Uint8Array(24);
  const v = new DataView(hdr.buffer);
  v.setUint32(0, o.dwLength ?? 24 + cert.length, true);
  v.setUint16(4, o.revision ?? 0x0200, true);
  v.setUint16(6, o.certType ?? 0x0ef1, true);
  hdr.set(guidBytes(Guids.certTypePkcs7), 8);
  return concatBytes([o.time ?? efiTime(2025, 1, 1), hdr, cert, o.payload ?? new Uint8Array(0)]);
}

const x509List = (cert: Uint8Array): Uint8Array => encodeSignatureLists([{ type: Guids.certX509, headerSize: 0, signatureSize: 16 + cert.length, header: new Uint8Array(0), entries: [{ owner: OWNER, data: cert }] }]);
const sha256List = (fill: number): Uint8Array => encodeSignatureLists([{ type: Guids.certSha256, headerSize: 0, signatureSize: 48, header: new Uint8Array(0), entries: [{ owner: OWNER, data: new Uint8Array(32).fill(fill) }] }]);

/** One EFI_SIGNATURE_LIST of `type` holding `entries` (owner OWNER) of equal size. */
function list(type: string, entries: readonly Uint8Array[]): Uint8Array {
  const size = 16 + (entries[0]?.length ?? 0);
  return encodeSignatureLists([{ type, headerSize: 0, signatureSize: size, header: new Uint8Array(0), entries: entries.map((data) => ({ owner: OWNER, data })) }]);
}
const hash = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

interface SignedWrite { name: string; guid: string; attributes?: number; time: Uint8Array; payload: Uint8Array; by: Identity; contentInfo?: boolean; signedAttributes?: number }

function signed(w: SignedWrite): Promise<Uint8Array> {
  return signVariable({
    name: w.name, guid: w.guid, attributes: w.signedAttributes ?? w.attributes ?? AUTH, time: w.time, payload: w.payload,
    signerCert: w.by.cert, signerKey: w.by.key,
  }, w.contentInfo ? { contentInfo: true } : {});
}

async function write(ctx: CaseContext, w: SignedWrite): Promise<bigint> {
  return ctx.client.setVariable(w.name, w.guid, w.attributes ?? AUTH, await signed(w));
}

/** Enrol PK (self-signed) and a KEK signed by it: user mode. */
async function enrolPkKek(ctx: CaseContext): Promise<void> {
  const k = await ctx.keys();
  ctx.expect('setup: enrol PK', await write(ctx, { name: 'PK', guid: GLOBAL, time: efiTime(2025, 1, 1), payload: x509List(k.pk.cert), by: k.pk }), S.SUCCESS);
  ctx.expect('setup: enrol KEK signed by PK', await write(ctx, { name: 'KEK', guid: GLOBAL, time: efiTime(2025, 1, 2), payload: x509List(k.kek.cert), by: k.pk }), S.SUCCESS);
}

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

export const authCases: ConformanceCase[] = [
  {
    id: 'pk-empty-certdata', item: '§8.41', title: 'PK with a descriptor but empty CertData in setup mode (edk2: accepted)', marker: 'DIFF',
    async run(ctx) {
      const k = await ctx.keys();
      ctx.either('SetVariable PK', await ctx.client.setVariable('PK', GLOBAL, AUTH, descriptor({ payload: x509List(k.pk.cert) })),
        { edk2: S.SUCCESS, qemu: S.SECURITY_VIOLATION });
    },
  },
  {
    id: 'pk-contentinfo', item: '§8.42', title: 'PK signed as a ContentInfo-wrapped SignedData (QEMU rejects it)', marker: 'BUG',
    async run(ctx) {
      const k = await ctx.keys();
      ctx.either('ContentInfo-wrapped PK', await write(ctx, { name: 'PK', guid: GLOBAL, time: efiTime(2025, 1, 1), payload: x509List(k.pk.cert), by: k.pk, contentInfo: true }),
        { edk2: S.SUCCESS, qemu: S.SECURITY_VIOLATION });
    },
  },
  {
    id: 'pk-enrol', item: '§8.43', title: 'Self-signed PK (bare SignedData): SetupMode 00, SecureBoot 01, SecureBootEnable 01, PK attributes 0x27',
    async run(ctx) {
      const k = await ctx.keys();
      const payload = x509List(k.pk.cert);
      ctx.expect('SetVariable PK', await write(ctx, { name: 'PK', guid: GLOBAL, time: efiTime(2025, 1, 1), payload, by: k.pk }), S.SUCCESS);
      const pk = await ctx.client.getVariable('PK', GLOBAL);
      ctx.expect('PK data', pk.data, payload);
      ctx.expect('PK attributes', pk.attributes, AUTH);
      ctx.expect('SetupMode', (await ctx.client.getVariable('SetupMode', GLOBAL)).data, u8(0));
      ctx.expect('SecureBoot', (await ctx.client.getVariable('SecureBoot', GLOBAL)).data, u8(1));
      const sbe = await ctx.client.getVariable('SecureBootEnable', Guids.secureBootEnableDisable);
      ctx.expect('SecureBootEnable', sbe.data, u8(1));
      ctx.expect('SecureBootEnable attributes', sbe.attributes, NV | BS);
    },
  },
  {
    id: 'pk-wrong-attributes', item: '§8.44', title: 'PK with attributes 0x23 (signed over 0x23): INVALID_PARAMETER',
    async run(ctx) {
      const k = await ctx.keys();
      ctx.expect('SetVariable PK 0x23', await write(ctx, { name: 'PK', guid: GLOBAL, attributes: 0x23, time: efiTime(2025, 1, 1), payload: x509List(k.pk.cert), by: k.pk }), S.INVALID_PARAMETER);
      ctx.expect('still in setup mode', (await ctx.client.getVariable('SetupMode', GLOBAL)).data, u8(1));
    },
  },
  {
    id: 'descriptor-checks', item: '§8.45', title: 'Descriptor checks: wRevision, wCertificateType, DataSize 39, dwLength past the data', marker: 'DIFF',
    async run(ctx) {
      const c = ctx.client;
      const junk = new Uint8Array(16).fill(0x30);
      ctx.expect('wRevision 0x0100', await c.setVariable('AuthConf', VENDOR, AUTH, descriptor({ revision: 0x0100, certData: junk, payload: DATA4 })), S.UNSUPPORTED);
      ctx.either('wCertificateType 0x0002', await c.setVariable('AuthConf', VENDOR, AUTH, descriptor({ certType: 0x0002, certData: junk, payload: DATA4 })),
        { edk2: S.SECURITY_VIOLATION, qemu: S.UNSUPPORTED });
      ctx.expect('DataSize 39', await c.setVariable('AuthConf', VENDOR, AUTH, descriptor({ certData: junk }).subarray(0, 39)), S.SECURITY_VIOLATION);
      const long = descriptor({ certData: junk, payload: DATA4 });
      new DataView(long.buffer).setUint32(16, long.length - 16 + 1, true);
      ctx.expect('dwLength > DataSize - 16', await c.setVariable('AuthConf', VENDOR, AUTH, long), S.SECURITY_VIOLATION);
      ctx.expect('nothing stored', (await c.getVariable('AuthConf', VENDOR)).status, S.NOT_FOUND);
    },
  },
  {
    id: 'descriptor-time-fields', item: '§8.45', title: 'Non-zero Nanosecond in the descriptor time (edk2: SECURITY_VIOLATION)', marker: 'DIFF',
    async run(ctx) {
      const k = await ctx.keys();
      ctx.either('private variable with Nanosecond 5', await write(ctx, { name: 'AuthNs', guid: VENDOR, time: efiTime(2025, 1, 1, 0, 5), payload: DATA4, by: k.signer }),
        { edk2: S.SECURITY_VIOLATION, qemu: S.SUCCESS });
    },
  },
  {
    id: 'plain-write-over-authenticated', item: '§8.45', title: 'A plain (attr 7) write over an authenticated variable (edk2: WRITE_PROTECTED)', marker: 'DIFF',
    async run(ctx) {
      const k = await ctx.keys();
      ctx.expect('setup: private variable', await write(ctx, { name: 'AuthPlain', guid: VENDOR, time: efiTime(2025, 1, 1), payload: DATA4, by: k.signer }), S.SUCCESS);
      ctx.either('plain overwrite', await ctx.client.setVariable('AuthPlain', VENDOR, NV_BS_RT, u8(1)), { edk2: S.WRITE_PROTECTED, qemu: S.INVALID_PARAMETER });
      ctx.expect('data unchanged', (await ctx.client.getVariable('AuthPlain', VENDOR)).data, DATA4);
    },
  },
  {
    id: 'kek-needs-pk', item: '§8.46', title: 'In user mode KEK unsigned → SECURITY_VIOLATION; signed by PK → SUCCESS',
    async run(ctx) {
      const k = await ctx.keys();
      ctx.expect('enrol PK', await write(ctx, { name: 'PK', guid: GLOBAL, time: efiTime(2025, 1, 1), payload: x509List(k.pk.cert), by: k.pk }), S.SUCCESS);
      ctx.expect('KEK without signature', await ctx.client.setVariable('KEK', GLOBAL, AUTH, descriptor({ time: efiTime(2025, 1, 2), payload: x509List(k.kek.cert) })), S.SECURITY_VIOLATION);
      ctx.expect('KEK signed by an unrelated key', await write(ctx, { name: 'KEK', guid: GLOBAL, time: efiTime(2025, 1, 2), payload: x509List(k.kek.cert), by: k.other }), S.SECURITY_VIOLATION);
      ctx.expect('KEK signed by PK', await write(ctx, { name: 'KEK', guid: GLOBAL, time: efiTime(2025, 1, 2), payload: x509List(k.kek.cert), by: k.pk }), S.SUCCESS);
    },
  },
  {
    id: 'db-signers', item: '§8.47', title: 'db signed by KEK → SUCCESS; signed by PK (edk2: SUCCESS)', marker: 'DIFF',
    async run(ctx) {
      const k = await ctx.keys();
      await enrolPkKek(ctx);
      ctx.either('db signed by PK', await write(ctx, { name: 'db', guid: DB_GUID, time: efiTime(2025, 2, 1), payload: sha256List(1), by: k.pk }),
        { edk2: S.SUCCESS, qemu: S.SECURITY_VIOLATION });
      ctx.expect('db signed by KEK', await write(ctx, { name: 'db', guid: DB_GUID, time: efiTime(2025, 3, 1), payload: sha256List(2), by: k.kek }), S.SUCCESS);
      ctx.expect('db content', (await ctx.client.getVariable('db', DB_GUID)).data, sha256List(2));
    },
  },
  {
    id: 'db-timestamps', item: '§8.48', title: 'db rewrite with the same timestamp (edk2: SECURITY_VIOLATION); an older one → SECURITY_VIOLATION', marker: 'DIFF',
    async run(ctx) {
      const k = await ctx.keys();
      await enrolPkKek(ctx);
      const t = efiTime(2025, 3, 1);
      ctx.expect('db signed by KEK', await write(ctx, { name: 'db', guid: DB_GUID, time: t, payload: sha256List(1), by: k.kek }), S.SUCCESS);
      ctx.either('same timestamp', await write(ctx, { name: 'db', guid: DB_GUID, time: t, payload: sha256List(2), by: k.kek }),
        { edk2: S.SECURITY_VIOLATION, qemu: S.SUCCESS });
      ctx.expect('older timestamp', await write(ctx, { name: 'db', guid: DB_GUID, time: efiTime(2024, 1, 1), payload: sha256List(3), by: k.kek }), S.SECURITY_VIOLATION);
    },
  },
  {
    id: 'db-append-merge', item: '§8.49', title: 'db APPEND (0x67) with an older timestamp → SUCCESS; QEMU regenerates the lists (edk2 appends what is new)', marker: 'DIFF',
    async run(ctx) {
      const k = await ctx.keys();
      await enrolPkKek(ctx);
      const a = k.signer.cert, b = k.other.cert;
      const old = concatBytes([x509List(a), list(Guids.certSha256, [hash(1)])]);
      ctx.expect('setup: db = cert A, hash 1', await write(ctx, { name: 'db', guid: DB_GUID, time: efiTime(2025, 3, 1), payload: old, by: k.kek }), S.SUCCESS);
      // Cert A again, cert B, hashes 1 (again) and 2, and a SHA-384 list (a type QEMU's merge does not know).
      const fragment = concatBytes([x509List(a), x509List(b), list(Guids.certSha256, [hash(1), hash(2)]), list(Guids.certSha384, [new Uint8Array(48).fill(3)])]);
      ctx.expect('APPEND with an older timestamp', await write(ctx, { name: 'db', guid: DB_GUID, attributes: AUTH | AP, time: efiTime(2024, 1, 1), payload: fragment, by: k.kek }), S.SUCCESS);
      // §4.7. QEMU: every certificate in its own list (first seen first, duplicates gone), then one
      // list of all hashes; other types lost. edk2: the old value, then the new lists without the
      // entries already present (same type, size and bytes including the owner), empty lists dropped.
      const qemu = concatBytes([x509List(a), x509List(b), list(Guids.certSha256, [hash(1), hash(2)])]);
      const edk2 = concatBytes([old, x509List(b), list(Guids.certSha256, [hash(2)]), list(Guids.certSha384, [new Uint8Array(48).fill(3)])]);
      const got = (await ctx.client.getVariable('db', DB_GUID)).data;
      ctx.either('db after the append', got, { edk2, qemu });
      if (got.length === qemu.length) ctx.expect('certificate lists are 44 + certificate bytes', got.length, 44 + a.length + 44 + b.length + 28 + 2 * 48);
    },
  },
  {
    id: 'pk-delete-mode', item: '§8.57', title: 'After a signed PK delete: SetupMode stays 00 until reset (edk2: 01 at once); after reset setup mode, SecureBoot 00, re-enrolment succeeds', marker: 'DIFF', needs: ['reset'],
    async run(ctx) {
      const k = await ctx.keys();
      const sbe = Guids.secureBootEnableDisable;
      ctx.expect('setup: enrol PK', await write(ctx, { name: 'PK', guid: GLOBAL, time: efiTime(2025, 1, 1), payload: x509List(k.pk.cert), by: k.pk }), S.SUCCESS);
      ctx.expect('setup: SecureBootEnable after enrolment', (await ctx.client.getVariable('SecureBootEnable', sbe)).data, u8(1));
      ctx.expect('PK delete signed by PK', await write(ctx, { name: 'PK', guid: GLOBAL, time: efiTime(2025, 1, 2), payload: new Uint8Array(0), by: k.pk }), S.SUCCESS);
      ctx.expect('PK is gone', (await ctx.client.getVariable('PK', GLOBAL)).status, S.NOT_FOUND);
      const mode = ctx.either('SetupMode right after the delete', (await ctx.client.getVariable('SetupMode', GLOBAL)).data, { edk2: u8(1), qemu: u8(0) });
      const reenrol = (): Promise<bigint> => write(ctx, { name: 'PK', guid: GLOBAL, time: efiTime(2025, 1, 3), payload: x509List(k.other.cert), by: k.other });
      if (mode === 'qemu') {
        ctx.expect('PK re-enrolment before reset', await reenrol(), S.SECURITY_VIOLATION);
        await hardReset(ctx);
        ctx.expect('SetupMode after reset', (await ctx.client.getVariable('SetupMode', GLOBAL)).data, u8(1));
        ctx.expect('SecureBoot after reset', (await ctx.client.getVariable('SecureBoot', GLOBAL)).data, u8(0));
        ctx.expect('SecureBootEnable kept', (await ctx.client.getVariable('SecureBootEnable', sbe)).data, u8(1));
      }
      ctx.expect('PK re-enrolment in setup mode', await reenrol(), S.SUCCESS);
      ctx.expect('SetupMode after re-enrolment', (await ctx.client.getVariable('SetupMode', GLOBAL)).data, u8(0));
    },
  },
  {
    id: 'signed-attributes', item: '§8.50', title: 'The signature covers the attributes as sent: APPEND (0x67) signed over 0x27 fails',
    async run(ctx) {
      const k = await ctx.keys();
      await enrolPkKek(ctx);
      ctx.expect('db signed by KEK', await write(ctx, { name: 'db', guid: DB_GUID, time: efiTime(2025, 3, 1), payload: sha256List(1), by: k.kek }), S.SUCCESS);
      ctx.expect('APPEND sent as 0x67, signed over 0x27', await write(ctx, { name: 'db', guid: DB_GUID, attributes: AUTH | AP, signedAttributes: AUTH, time: efiTime(2025, 4, 1), payload: sha256List(2), by: k.kek }), S.SECURITY_VIOLATION);
      ctx.expect('APPEND signed over 0x67', await write(ctx, { name: 'db', guid: DB_GUID, attributes: AUTH | AP, time: efiTime(2025, 4, 1), payload: sha256List(2), by: k.kek }), S.SUCCESS);
    },
  },
  {
    id: 'private-variable', item: '§8.51', title: 'Private authenticated variable: bound to its signer; a signed empty payload deletes',
    async run(ctx) {
      const k = await ctx.keys();
      ctx.expect('create, signed by A', await write(ctx, { name: 'Priv', guid: VENDOR, time: efiTime(2025, 1, 1), payload: DATA4, by: k.signer }), S.SUCCESS);
      ctx.expect('update signed by B', await write(ctx, { name: 'Priv', guid: VENDOR, time: efiTime(2025, 1, 2), payload: u8(1), by: k.other }), S.SECURITY_VIOLATION);
      ctx.expect('update signed by A', await write(ctx, { name: 'Priv', guid: VENDOR, time: efiTime(2025, 1, 3), payload: u8(2), by: k.signer }), S.SUCCESS);
      ctx.expect('signed empty payload by A', await write(ctx, { name: 'Priv', guid: VENDOR, time: efiTime(2025, 1, 4), payload: new Uint8Array(0), by: k.signer }), S.SUCCESS);
      ctx.expect('gone', (await ctx.client.getVariable('Priv', VENDOR)).status, S.NOT_FOUND);
    },
  },
  {
    id: 'custom-mode', item: '§8.52', title: 'CustomMode 1: key databases need no signature (descriptor still required); 0 again after reset', needs: ['reset'],
    async run(ctx) {
      const k = await ctx.keys();
      await enrolPkKek(ctx);
      await mustSet(ctx, 'CustomMode', Guids.customModeEnable, NV | BS, u8(1));
      ctx.expect('db with empty CertData', await ctx.client.setVariable('db', DB_GUID, AUTH, descriptor({ time: efiTime(2025, 5, 1), payload: sha256List(7) })), S.SUCCESS);
      ctx.expect('KEK with empty CertData', await ctx.client.setVariable('KEK', GLOBAL, AUTH, descriptor({ time: efiTime(2025, 5, 2), payload: x509List(k.other.cert) })), S.SUCCESS);
      await hardReset(ctx);
      ctx.expect('CustomMode after reset', (await ctx.client.getVariable('CustomMode', Guids.customModeEnable)).data, u8(0));
      ctx.expect('db with empty CertData after reset', await ctx.client.setVariable('db', DB_GUID, AUTH, descriptor({ time: efiTime(2025, 6, 1), payload: sha256List(8) })), S.SECURITY_VIOLATION);
    },
  },
  {
    id: 'disable-custom-mode', item: '§8.53', title: 'disable-custom-mode=on: any CustomMode write → WRITE_PROTECTED', config: { disableCustomMode: true },
    async run(ctx) {
      ctx.expect('CustomMode = 01', await ctx.client.setVariable('CustomMode', Guids.customModeEnable, NV | BS, u8(1)), S.WRITE_PROTECTED);
      ctx.expect('CustomMode = 00', await ctx.client.setVariable('CustomMode', Guids.customModeEnable, NV | BS, u8(0)), S.WRITE_PROTECTED);
      ctx.expect('CustomMode unchanged', (await ctx.client.getVariable('CustomMode', Guids.customModeEnable)).data, u8(0));
    },
  },
  {
    id: 'force-secure-boot', item: '§8.54', title: 'force-secure-boot=on: SecureBootEnable 01 in setup mode, SecureBoot 00; writing 00 → WRITE_PROTECTED', config: { forceSecureBoot: true },
    async run(ctx) {
      const sbe = Guids.secureBootEnableDisable;
      ctx.expect('SecureBootEnable', (await ctx.client.getVariable('SecureBootEnable', sbe)).data, u8(1));
      ctx.expect('SecureBoot', (await ctx.client.getVariable('SecureBoot', GLOBAL)).data, u8(0));
      ctx.expect('SecureBootEnable = 00', await ctx.client.setVariable('SecureBootEnable', sbe, NV | BS, u8(0)), S.WRITE_PROTECTED);
      ctx.expect('SecureBootEnable = 01', await ctx.client.setVariable('SecureBootEnable', sbe, NV | BS, u8(1)), S.SUCCESS);
    },
  },
  {
    id: 'unauthenticated-delete', item: '§8.55', title: 'DataSize 0 on db (attr 0x27) without a descriptor (QEMU deletes it)', marker: 'BUG',
    async run(ctx) {
      // Setup mode: db is written without a signature (§4.4 step 2), the descriptor is still needed.
      ctx.expect('setup: db in setup mode', await ctx.client.setVariable('db', DB_GUID, AUTH, descriptor({ payload: sha256List(1) })), S.SUCCESS);
      const got = ctx.either('DataSize 0 on db', await ctx.client.setVariable('db', DB_GUID, AUTH, new Uint8Array(0)), { edk2: S.SECURITY_VIOLATION, qemu: S.SUCCESS });
      ctx.expect('db afterwards', (await ctx.client.getVariable('db', DB_GUID)).status, got === 'edk2' ? S.SUCCESS : S.NOT_FOUND);
    },
  },
  {
    id: 'setup-mode-read-only', item: '§8.56', title: 'SetVariable(SetupMode, 0x06, 01) after EndOfDxe (edk2: WRITE_PROTECTED)', marker: 'BUG',
    async run(ctx) {
      ctx.expect('EndOfDxe', await ctx.client.event('endOfDxe'), 0);
      ctx.either('write SetupMode', await ctx.client.setVariable('SetupMode', GLOBAL, BS | 0x04, u8(1)), { edk2: S.WRITE_PROTECTED, qemu: S.SUCCESS });
      ctx.either('write SecureBoot', await ctx.client.setVariable('SecureBoot', GLOBAL, BS | 0x04, u8(1)), { edk2: S.WRITE_PROTECTED, qemu: S.SUCCESS });
    },
  },
  {
    id: 'crash-dwlength-24', item: '§10.1', title: 'Private AT write with dwLength 24 (no PKCS#7): SECURITY_VIOLATION (crashes QEMU 10.2)',
    async run(ctx) {
      ctx.expect('SetVariable', await ctx.client.setVariable('CrashA', VENDOR, AUTH, descriptor({ payload: DATA4 })), S.SECURITY_VIOLATION);
      ctx.expect('the service is still up', (await ctx.client.getPayloadSize()).status, S.SUCCESS);
    },
  },
  {
    id: 'crash-dwlength-20', item: '§10.1', title: 'Private AT write with dwLength 20: SECURITY_VIOLATION (crashes QEMU 10.2)',
    async run(ctx) {
      ctx.expect('SetVariable', await ctx.client.setVariable('CrashB', VENDOR, AUTH, descriptor({ dwLength: 20, payload: DATA4 })), S.SECURITY_VIOLATION);
      ctx.expect('the service is still up', (await ctx.client.getPayloadSize()).status, S.SUCCESS);
    },
  },
];
