/**
 * Attack suite, part 1: tampering with REAL signed payloads (issue 3). Every case
 * starts from an unmodified file under ../shared/vectors/signed, changes one thing,
 * and must be refused with the exact EFI status while the store stays byte-identical
 * (fixtures.expectRejected). Each family has a positive control: the unmodified
 * payload is accepted, so the suite cannot pass vacuously.
 *
 * Starting state (fixtures.realState): PK = Red Hat, KEK = [Microsoft KEK CA 2011,
 * Red Hat], db = [Windows PCA 2011], dbx = one SHA-256, all 0x27 @ 2010-01-01.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CERT_DATA, DB, DBX, FILES, GLOBAL_GUID, KEK, PK, S, SECURITY_GUID, UPDATE_ATTR, auth2, cat, children, der,
  efiTime, expectAccepted, expectRejected, flip, getReply, pkcs7Layout, realState, setRequest, tlvAt,
  withU16At, withU32At, x509List, CERT,
} from './fixtures.js';
import { guidLe } from '../auth/vectors.js';

const dbx = FILES.dbx;
const L = pkcs7Layout(dbx.certData);
/** Absolute offset in the SetVariable Data of a CertData-relative offset. */
const at = (cdOffset: number): number => CERT_DATA + cdOffset;
const content = (t: { start: number; header: number }): number => at(t.start + t.header);
const signer = L.certs[L.signerIndex]!;

test('layout sanity: the DER walker agrees with the reference offsets of DBXUpdate_amd64.bin', () => {
  assert.equal(content(L.signature), dbx.json.mutation_offsets.signature_value_first_byte);
  assert.equal(L.signature.length, dbx.json.mutation_offsets.signature_value_length);
  assert.equal(CERT_DATA + dbx.certData.length + dbx.payload.length, dbx.bytes.length);
  assert.equal(16 + dbx.dwLength, dbx.json.payload.offset);
  assert.equal(L.certs.length, 2);
  assert.equal(L.signerIndex, 0, 'the Windows UEFI KEK signer is the first certificate');
});

// --- positive controls -------------------------------------------------------------

test('control: the unmodified DBXUpdate_amd64.bin (0x67) → EFI_SUCCESS, appended after the old entry', async () => {
  const svc = await realState();
  const old = svc.variables().find((v) => v.guid === SECURITY_GUID && v.name.length === 8)!.data;
  await expectAccepted(svc, DBX, setRequest(DBX, UPDATE_ATTR, dbx.bytes));
  const now = svc.variables().find((v) => v.guid === SECURITY_GUID && v.name.length === 8)!;
  assert.deepEqual(now.data, cat(old, dbx.payload));
  assert.equal(now.attributes, 0x27);
});

test('control: the unmodified DBUpdate2024.bin and KEKUpdate_RedHat_PK1.bin (0x67) → EFI_SUCCESS', async () => {
  const svc = await realState();
  await expectAccepted(svc, DB, setRequest(DB, UPDATE_ATTR, FILES.db.bytes));
  await expectAccepted(svc, KEK, setRequest(KEK, UPDATE_ATTR, FILES.kekRedHat.bytes));
});

// --- signature, certificates, signed attributes ----------------------------------

test('flipped first byte of the signature value → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const off = dbx.json.mutation_offsets.signature_value_first_byte;
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, off)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('flipped last byte of the signature value → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, at(L.signature.end) - 1, 0x80)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('flipped byte in the signer certificate\'s RSA modulus → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  // spki: SEQ { alg SEQ, BIT STRING { 00, SEQ { INTEGER n, INTEGER e } } }
  const bits = children(dbx.certData, signer.spki)[1]!;
  const rsa = tlvAt(dbx.certData, bits.start + bits.header + 1);
  const n = children(dbx.certData, rsa)[0]!;
  const off = at(n.start + n.header + 100);
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, off)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('flipped byte in the signer certificate\'s subject (TBS no longer signed by KEK CA 2011) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const off = at(signer.subject.end - 3);
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, off)), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('flipped byte in the signer certificate\'s own signature value → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const off = at(signer.signatureValue.start + signer.signatureValue.header + 50);
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, off)), S.SECURITY_VIOLATION, 'auth-untrusted');
});

test('SignerInfo serial number changed (names no embedded certificate) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, at(L.sidSerial.end - 1))), S.SECURITY_VIOLATION, 'auth-signature');
});

test('PKCS#7 without its certificates (signer not embedded) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const cd = dbx.certData;
  const sd = L.signedData;
  const body = cat(cd.subarray(sd.start + sd.header, L.certificates!.start), cd.subarray(L.certificates!.end, sd.end));
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, auth2(dbx.time, der(0x30, body), dbx.payload)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('PKCS#7 with two (identical, each valid) SignerInfos → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const cd = dbx.certData;
  const si = cd.subarray(L.signerInfo.start, L.signerInfo.end);
  const body = cat(cd.subarray(L.signedData.start + L.signedData.header, L.signerInfos.start), der(0x31, cat(si, si)));
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, auth2(dbx.time, der(0x30, body), dbx.payload)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('PKCS#7 with no SignerInfo at all → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const cd = dbx.certData;
  const body = cat(cd.subarray(L.signedData.start + L.signedData.header, L.signerInfos.start), der(0x31, new Uint8Array(0)));
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, auth2(dbx.time, der(0x30, body), dbx.payload)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('SignerInfo digestAlgorithm switched from SHA-256 to SHA-384 → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const alg = children(dbx.certData, L.signerInfo)[2]!;
  const oid = children(dbx.certData, alg)[0]!;
  assert.equal(dbx.certData[oid.end - 1], 0x01, 'id-sha256 ends in 01');
  const data = dbx.bytes.slice();
  data[at(oid.end - 1)] = 0x02; // id-sha384
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-signature');
});

test('trailing byte after the SignedData inside dwLength → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, auth2(dbx.time, cat(dbx.certData, Uint8Array.of(0)), dbx.payload)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('KEKUpdate_RedHat_PK1: flipped byte in the signed messageDigest attribute → EFI_SECURITY_VIOLATION', async () => {
  const f = FILES.kekRedHat;
  const l = pkcs7Layout(f.certData);
  assert.ok(l.signedAttrs, 'RedHat_PK1 carries authenticated attributes');
  const oid = Buffer.from('06092a864886f70d010904', 'hex'); // id-messageDigest
  const i = Buffer.from(f.certData.subarray(l.signedAttrs.start, l.signedAttrs.end)).indexOf(oid);
  assert.ok(i > 0);
  const digestAt = at(l.signedAttrs.start + i + oid.length + 4); // SET { OCTET STRING(32) }
  const svc = await realState();
  await expectRejected(svc, KEK, setRequest(KEK, UPDATE_ATTR, flip(f.bytes, digestAt)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('KEKUpdate_RedHat_PK1: flipped byte in the signature over the signed attributes → EFI_SECURITY_VIOLATION', async () => {
  const f = FILES.kekRedHat;
  const svc = await realState();
  const off = f.json.mutation_offsets.signature_value_first_byte + 17;
  await expectRejected(svc, KEK, setRequest(KEK, UPDATE_ATTR, flip(f.bytes, off)), S.SECURITY_VIOLATION, 'auth-signature');
});

// --- payload, timestamp, name, GUID ------------------------------------------------

test('flipped byte in the first dbx entry → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const off = dbx.json.mutation_offsets.payload_first_entry_data;
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, off)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('flipped last byte of the payload → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, dbx.bytes.length - 1)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('payload truncated by one entry (list size kept) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, dbx.bytes.subarray(0, dbx.bytes.length - 48)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('DBUpdate2024 signature spliced onto the DBUpdate3P2023 payload (same signer, same time) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const a = FILES.db, b = FILES.db3p;
  assert.deepEqual(a.time, b.time);
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, auth2(a.time, a.certData, b.payload)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('flipped timestamp year (2010 → 2011) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const year = (dbx.json.mutation_offsets as unknown as { timestamp_year_lo: number }).timestamp_year_lo;
  assert.equal(dbx.bytes[year], 0xda, '2010 = 0x07DA');
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, year, 0x01)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('timestamp second + 1 → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const data = dbx.bytes.slice();
  data[6] = data[6]! + 1;
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-signature');
});

test('variable name dbx → dbX (a private variable; signature is over "dbx") → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const t = { name: 'dbX', guid: SECURITY_GUID };
  await expectRejected(svc, t, setRequest(t, UPDATE_ATTR, dbx.bytes), S.SECURITY_VIOLATION, 'auth-signature');
});

test('variable name db → dbx (DBUpdate2024 written to dbx) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, FILES.db.bytes), S.SECURITY_VIOLATION, 'auth-signature');
});

test('variable name dbx → db (DBXUpdate written to db) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DB, setRequest(DB, UPDATE_ATTR, dbx.bytes), S.SECURITY_VIOLATION, 'auth-signature');
});

test('dbx payload written under the EFI global GUID → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const t = { name: 'dbx', guid: GLOBAL_GUID };
  await expectRejected(svc, t, setRequest(t, UPDATE_ATTR, dbx.bytes), S.SECURITY_VIOLATION, 'auth-signature');
});

test('KEK update written as PK (signature is over "KEK") → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, PK, setRequest(PK, UPDATE_ATTR, FILES.kekRedHat.bytes), S.SECURITY_VIOLATION, 'auth-signature');
});

// --- attributes ----------------------------------------------------------------------

for (const [attr, why] of [[0x27, 'APPEND dropped'], [0x65, 'BS dropped'], [0x6f, 'HR added'], [0xe7, 'unknown bit 0x80 added']] as const) {
  test(`DBXUpdate signed over 0x67 sent with 0x${attr.toString(16)} (${why}): signature checked first → EFI_SECURITY_VIOLATION`, async () => {
    const svc = await realState();
    await expectRejected(svc, DBX, setRequest(DBX, attr, dbx.bytes), S.SECURITY_VIOLATION, 'auth-signature');
  });
}

test('DBXUpdate sent with 0x77 (counter-based AUTHENTICATED_WRITE_ACCESS) → EFI_UNSUPPORTED', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, 0x77, dbx.bytes), S.UNSUPPORTED, 'auth-counter-based');
});

test('DBXUpdate sent without the time-based bit (0x47: a plain write over the 0x27 dbx) → EFI_INVALID_PARAMETER', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, 0x47, dbx.bytes), S.INVALID_PARAMETER, 'attributes-mismatch');
});

// --- EFI_VARIABLE_AUTHENTICATION_2 descriptor ---------------------------------------

test('dwLength pointing one byte past the data → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, withU32At(dbx.bytes, 16, dbx.bytes.length - 16 + 1)), S.SECURITY_VIOLATION, 'auth-cert-length');
});

test('dwLength 0xFFFFFFFF → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, withU32At(dbx.bytes, 16, 0xffffffff)), S.SECURITY_VIOLATION, 'auth-cert-length');
});

test('dwLength 20 (below the WIN_CERTIFICATE_UEFI_GUID header) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, withU32At(dbx.bytes, 16, 20)), S.SECURITY_VIOLATION, 'auth-cert-length');
});

test('dwLength one short (last PKCS#7 byte becomes payload) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, withU32At(dbx.bytes, 16, dbx.dwLength - 1)), S.SECURITY_VIOLATION, 'auth-signature');
});

test('DataSize 39 (descriptor cut short) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, dbx.bytes.subarray(0, 39)), S.SECURITY_VIOLATION, 'auth-descriptor-short');
});

test('dwLength 24 (no PKCS#7) with the real dbx payload in user mode → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, auth2(dbx.time, new Uint8Array(0), dbx.payload)), S.SECURITY_VIOLATION, 'auth-no-signature');
});

test('dwLength 24 (no PKCS#7) on PK in user mode → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const data = auth2(efiTime(2012), new Uint8Array(0), x509List(CERT.amiTestPk));
  await expectRejected(svc, PK, setRequest(PK, 0x27, data), S.SECURITY_VIOLATION, 'auth-no-signature');
});

test('wRevision 0x0100 → EFI_UNSUPPORTED', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, withU16At(dbx.bytes, 20, 0x0100)), S.UNSUPPORTED, 'auth-revision');
});

test('wCertificateType 0x0002 (WIN_CERT_TYPE_PKCS_SIGNED_DATA) → EFI_SECURITY_VIOLATION (deviations #10)', async () => {
  const svc = await realState();
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, withU16At(dbx.bytes, 22, 0x0002)), S.SECURITY_VIOLATION, 'auth-cert-type');
});

test('CertType EFI_CERT_TYPE_RSA2048_SHA256 instead of PKCS7 → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const data = dbx.bytes.slice();
  data.set(guidLe('a7717414-c616-4977-9420-844712a735bf'), 24);
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-cert-type');
});

for (const [field, off, value] of [['Pad1', 7, 1], ['Nanosecond', 8, 1], ['TimeZone', 12, 0x3c], ['Daylight', 14, 1], ['Pad2', 15, 1]] as const) {
  test(`non-zero ${field} in the EFI_TIME → EFI_SECURITY_VIOLATION (deviations #9)`, async () => {
    const svc = await realState();
    const data = dbx.bytes.slice();
    data[off] = value;
    await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.SECURITY_VIOLATION, 'auth-time-fields');
  });
}

// --- strictness of the PKCS#7 decoding (found by this suite; edk2/OpenSSL refuse these) ---

test('SignedData.digestAlgorithms says SHA-384 while the SignerInfo uses SHA-256 → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const oid = children(dbx.certData, children(dbx.certData, L.digestAlgorithms)[0]!)[0]!;
  assert.equal(dbx.certData[oid.end - 1], 0x01);
  const data = dbx.bytes.slice();
  data[at(oid.end - 1)] = 0x02;
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.SECURITY_VIOLATION);
});

test('SignedData length octet one too small (children overrun their parent: not DER) → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const data = dbx.bytes.slice();
  const lenLow = at(L.signedData.start + L.signedData.header - 1);
  data[lenLow] = data[lenLow]! - 1;
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, data), S.SECURITY_VIOLATION);
});

test('signer certificate signature BIT STRING with 1 unused bit → EFI_SECURITY_VIOLATION', async () => {
  const svc = await realState();
  const off = at(signer.signatureValue.start + signer.signatureValue.header);
  assert.equal(dbx.bytes[off], 0x00, 'unused-bits octet');
  await expectRejected(svc, DBX, setRequest(DBX, UPDATE_ATTR, flip(dbx.bytes, off)), S.SECURITY_VIOLATION);
});

test('GetVariable of dbx answers the stored value before any attack (the comparison is not vacuous)', async () => {
  const svc = await realState();
  const r = await getReply(svc, DBX);
  assert.equal(new DataView(r.buffer).getBigUint64(32, true), 0n);
});
