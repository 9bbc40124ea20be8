import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { SignedData } from 'pkijs';
import { verifyDetached } from '../../src/auth/pkcs7.js';
import { importSigningKey, signDetached, signVariable, signedContent } from '../../src/auth/sign.js';
import { testPki } from '../helpers/keys.js';
import { GLOBAL_GUID, SECURITY_GUID, guidLe, loadSigned, signedData, splitAuth2, vector } from './vectors.js';

const TIME = new Uint8Array([0xe9, 0x07, 3, 10, 2, 53, 39, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const PKCS7_GUID = '4aafd29d-68df-49ee-8aa9-347d375665a7';

function bareSignedData(der: Uint8Array): SignedData {
  return new SignedData({ schema: asn1js.fromBER(der).result });
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay).indexOf(Buffer.from(needle));
}

test('a signed KEK update has the EFI_VARIABLE_AUTHENTICATION_2 layout and verifies under the signing PK only', async () => {
  const { pk, rogue, kek } = await testPki();
  const payload = vector('reference/expected/P18.KEK.bin');
  const data = await signVariable({ name: 'KEK', guid: GLOBAL_GUID, attributes: 0x67, time: TIME, payload, signerCert: pk.cert, signerKey: pk.key });
  const { time, dwLength, certData, payload: tail } = splitAuth2(data);
  const hdr = Buffer.from(data);
  assert.deepEqual(time, TIME);
  assert.equal(dwLength, 24 + certData.length);
  assert.equal(hdr.readUInt16LE(20), 0x0200, 'wRevision');
  assert.equal(hdr.readUInt16LE(22), 0x0ef1, 'wCertificateType');
  assert.deepEqual(data.subarray(24, 40), guidLe(PKCS7_GUID));
  assert.deepEqual(tail, payload);
  const top = asn1js.fromBER(certData).result as asn1js.Sequence;
  assert.ok(top.valueBlock.value[0] instanceof asn1js.Integer, 'bare SignedData (version first), not a ContentInfo');
  const sd = bareSignedData(certData);
  assert.equal(sd.signerInfos.length, 1);
  assert.equal(sd.signerInfos[0]!.signedAttrs, undefined, 'no signed attributes by default');
  assert.equal(sd.signerInfos[0]!.signatureAlgorithm.algorithmId, '1.2.840.113549.1.1.1', 'rsaEncryption like the real payloads');
  assert.equal(sd.encapContentInfo.eContent, undefined, 'detached');

  const content = signedData({ variable: 'KEK', guid: GLOBAL_GUID, time, payload });
  assert.equal((await verifyDetached(certData, content, [pk.cert])).ok, true);
  for (const other of [rogue, kek]) {
    const r = await verifyDetached(certData, content, [other.cert]);
    assert.equal(!r.ok && r.reason, 'untrusted');
  }
  const replay = await verifyDetached(certData, signedData({ variable: 'KEK', guid: GLOBAL_GUID, time, payload }, 0x27), [pk.cert]);
  assert.equal(!replay.ok && replay.reason, 'bad-signature');
});

test('signedContent is Name(UCS-2, no NUL) ‖ GUID ‖ attributes u32 LE ‖ time ‖ payload', () => {
  const payload = new Uint8Array([1, 2, 3]);
  assert.deepEqual(signedContent('dbx', SECURITY_GUID, 0x67, TIME, payload),
    signedData({ variable: 'dbx', guid: SECURITY_GUID, time: TIME, payload }, 0x67));
  assert.throws(() => signedContent('dbx', SECURITY_GUID, 0x67, TIME.subarray(0, 15), payload), RangeError);
});

test('a real Microsoft dbx payload re-signed by a test KEK verifies under that KEK', async () => {
  const { kek } = await testPki();
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const data = await signVariable({ name: 'dbx', guid: SECURITY_GUID, attributes: 0x67, time: f.time, payload: f.payload, signerCert: kek.cert, signerKey: kek.key });
  const s = splitAuth2(data);
  assert.equal((await verifyDetached(s.certData, signedData(f), [kek.cert])).ok, true);
});

test('signing is deterministic and the key may be PKCS#8 DER, PKCS#8 PEM or PKCS#1 PEM', async () => {
  const { pk } = await testPki();
  const content = new Uint8Array([9, 8, 7]);
  const pkcs1Pem = createPrivateKey({ key: Buffer.from(pk.key), format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs1' }).toString();
  const outputs = await Promise.all([pk.key, pk.keyPem, pkcs1Pem].map((k) => signDetached(content, pk.cert, k)));
  assert.deepEqual(outputs[1], outputs[0]);
  assert.deepEqual(outputs[2], outputs[0]);
});

test('an encrypted PEM key (the vectors\' snakeoil key) is refused with a clear error', async () => {
  const pem = readFileSync(path.resolve(process.cwd(), '../shared/vectors/certs/snakeoil/PkKek-1-snakeoil.key'), 'utf8');
  await assert.rejects(importSigningKey(pem), /encrypted/);
  await assert.rejects(importSigningKey('not a key'), /PEM block/);
});

test('signed attributes carry contentType and messageDigest in DER order and verify', async () => {
  const { pk } = await testPki();
  const content = new Uint8Array([1, 2, 3, 4]);
  const der = await signDetached(content, pk.cert, pk.key, { signedAttributes: true, signingTime: new Date(Date.UTC(2024, 0, 2)) });
  const attrs = bareSignedData(der).signerInfos[0]!.signedAttrs!.attributes;
  assert.deepEqual(attrs.map((a) => a.type).sort(), ['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.5']);
  const encodings = attrs.map((a) => Buffer.from(a.toSchema().toBER()));
  assert.deepEqual(encodings, [...encodings].sort(Buffer.compare), 'SET OF in DER order');
  assert.equal((await verifyDetached(der, content, [pk.cert])).ok, true);
  const r = await verifyDetached(der, new Uint8Array([1, 2, 3, 5]), [pk.cert]);
  assert.equal(!r.ok && r.reason, 'bad-signature');
});

test('ContentInfo wrapping and extra certificates are byte-exact and still verify', async () => {
  const { root, intermediate, leaf } = await testPki();
  const content = new Uint8Array([5, 5, 5]);
  const der = await signDetached(content, leaf.cert, leaf.key, { contentInfo: true, extraCertificates: [intermediate.cert] });
  const top = asn1js.fromBER(der).result as asn1js.Sequence;
  assert.equal((top.valueBlock.value[0] as asn1js.ObjectIdentifier).getValue(), '1.2.840.113549.1.7.2');
  assert.ok(indexOf(der, leaf.cert) > 0 && indexOf(der, intermediate.cert) > indexOf(der, leaf.cert), 'signer first, then the intermediate');
  assert.equal((await verifyDetached(der, content, [root.cert])).ok, true);
});

test('OpenSSL (the library edk2 uses) accepts what we sign, with and without signed attributes', async (t) => {
  if (spawnSync('openssl', ['version']).status !== 0) { t.skip('openssl not installed'); return; }
  const { root, intermediate, leaf } = await testPki();
  const dir = mkdtempSync(path.join(tmpdir(), 'uefi-vars-sign-'));
  try {
    const content = new Uint8Array(Buffer.from('db\0d719b2cb signed content'));
    writeFileSync(path.join(dir, 'content.bin'), content);
    writeFileSync(path.join(dir, 'root.der'), root.cert);
    spawnSync('openssl', ['x509', '-inform', 'DER', '-in', path.join(dir, 'root.der'), '-out', path.join(dir, 'root.pem')]);
    for (const signedAttributes of [false, true]) {
      const der = await signDetached(content, leaf.cert, leaf.key, { contentInfo: true, signedAttributes, extraCertificates: [intermediate.cert] });
      writeFileSync(path.join(dir, 'p7.der'), der);
      const run = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'p7.der'),
        '-content', path.join(dir, 'content.bin'), '-CAfile', path.join(dir, 'root.pem'),
        '-partial_chain', '-no_check_time', '-purpose', 'any', '-out', '/dev/null']);
      assert.equal(run.status, 0, `signedAttributes=${signedAttributes}: ${run.stderr.toString()}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
