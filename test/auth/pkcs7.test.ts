import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, SignedData } from 'pkijs';
import { PKCS7_LIMITS, verifyDetached, verifyPrivate } from '../../src/auth/pkcs7.js';
import { signDetached } from '../../src/auth/sign.js';
import { makeIdentity, testPki, type TestIdentity } from '../helpers/keys.js';
import { MS_KEK_CA_2011, anchorFor, loadSigned, signedData, signedFiles, vector } from './vectors.js';

const files = signedFiles();
const kekFiles = files.filter((f) => f.variable === 'KEK');
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

/** ContentInfo { signedData, [0] EXPLICIT SignedData } with 2-byte lengths, as openssl smime writes it. */
function wrapContentInfo(sd: Uint8Array): Uint8Array {
  const oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
  const inner = Buffer.concat([Buffer.from([0xa0, 0x82, sd.length >> 8, sd.length & 0xff]), sd]);
  const body = Buffer.concat([Buffer.from(oid), inner]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]));
}

/** Re-encode a bare SignedData after changing it (for shapes the signer never produces). */
function editSignedData(der: Uint8Array, edit: (sd: SignedData) => void): Uint8Array {
  const sd = new SignedData({ schema: asn1js.fromBER(der).result });
  edit(sd);
  return new Uint8Array(sd.toSchema().toBER());
}

// ---------------------------------------------------------------------------------------
// Real payloads

for (const f of files) {
  test(`${f.rel} verifies with its documented anchor when signed with attributes 0x67`, async () => {
    const r = await verifyDetached(f.certData, signedData(f), [anchorFor(f)]);
    assert.equal(r.ok, true, r.ok ? '' : `${r.reason}: ${r.detail}`);
    if (!r.ok) return;
    assert.equal(sha256(r.signerCert).toString('hex'), f.json.pkcs7.signer.sha256, 'signer = the certificate the SignerInfo names');
    assert.deepEqual(Buffer.from(r.chain[r.chain.length - 1]!), Buffer.from(anchorFor(f)), 'chain ends at the anchor');
  });

  test(`${f.rel} does not verify when SetVariable is called with 0x27 instead of 0x67`, async () => {
    const r = await verifyDetached(f.certData, signedData(f, 0x27), [anchorFor(f)]);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'bad-signature');
  });
}

test('a Microsoft dbx update verifies through the partial chain signer → KEK CA 2011 even without the CA embedded', async () => {
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const onlySigner = editSignedData(f.certData, (sd) => { sd.certificates = sd.certificates!.slice(0, 1); });
  const r = await verifyDetached(onlySigner, signedData(f), [vector(MS_KEK_CA_2011)]);
  assert.equal(r.ok, true, r.ok ? '' : r.detail);
  assert.equal(r.ok && r.chain.length, 2);
});

test('a dbx update written to the name "db" is a bad signature (the name is signed)', async () => {
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const r = await verifyDetached(f.certData, signedData(f, 0x67, 'db'), [vector(MS_KEK_CA_2011)]);
  assert.equal(!r.ok && r.reason, 'bad-signature');
});

for (const f of kekFiles) {
  const other = kekFiles[(kekFiles.indexOf(f) + 1) % kekFiles.length]!;
  test(`a KEK update signed by ${f.file.replace(/^KEKUpdate_|\.bin$/g, '')} is rejected as untrusted under ${other.file.replace(/^KEKUpdate_|\.bin$/g, '')}'s PK`, async () => {
    const r = await verifyDetached(f.certData, signedData(f), [anchorFor(other)]);
    assert.equal(!r.ok && r.reason, 'untrusted');
  });
}

test('Microsoft db/dbx updates are untrusted under the KEK 2K CA 2023 and under the Debian PK/KEK', async () => {
  for (const f of files.filter((x) => x.variable !== 'KEK')) {
    for (const anchor of ['certs/microsoft/MicCorKEK2KCA2023.der', 'certs/distro/DebianUEFISecureBootPKKEK.der']) {
      const r = await verifyDetached(f.certData, signedData(f), [vector(anchor)]);
      assert.equal(!r.ok && r.reason, 'untrusted', `${f.file} with ${anchor}`);
    }
  }
});

test('any one of several anchors is enough, and unparseable anchors are skipped', async () => {
  const f = loadSigned('dbx/DBXUpdateSVN.bin');
  const anchors = [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), vector('certs/distro/DebianUEFISecureBootPKKEK.der'), vector(MS_KEK_CA_2011)];
  const r = await verifyDetached(f.certData, signedData(f), anchors);
  assert.equal(r.ok, true);
  assert.equal((await verifyDetached(f.certData, signedData(f), [])).ok, false);
});

test('a flipped payload byte (first dbx hash) fails verification', async () => {
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const bytes = flip(f.bytes, f.json.mutation_offsets.payload_first_entry_data);
  const r = await verifyDetached(f.certData, signedData({ ...f, payload: bytes.subarray(16 + f.dwLength) }), [vector(MS_KEK_CA_2011)]);
  assert.equal(!r.ok && r.reason, 'bad-signature');
});

test('a flipped byte inside the RSA signature value fails verification', async () => {
  for (const rel of ['dbx/DBXUpdate_amd64.bin', 'kek/KEKUpdate_RedHat_PK1.bin']) {
    const f = loadSigned(rel);
    const at = f.json.mutation_offsets.signature_value_first_byte + 10 - 40;
    const r = await verifyDetached(flip(f.certData, at), signedData(f), [anchorFor(f)]);
    assert.equal(!r.ok && r.reason, 'bad-signature', rel);
  }
});

test('the payloads with signed attributes (RedHat_PK1, MiTAC_PK2) check messageDigest against the signed data', async () => {
  for (const rel of ['kek/KEKUpdate_RedHat_PK1.bin', 'kek/KEKUpdate_MiTAC_PK2.bin']) {
    const f = loadSigned(rel);
    assert.ok(f.json.pkcs7.signerInfos[0]!.authenticatedAttributes, `${rel} carries authenticated attributes`);
    assert.equal((await verifyDetached(f.certData, signedData(f), [anchorFor(f)])).ok, true);
    const r = await verifyDetached(f.certData, signedData(f, 0x27), [anchorFor(f)]);
    assert.equal(!r.ok && r.reason, 'bad-signature');
    assert.match(!r.ok ? r.detail : '', /messageDigest/);
  }
});

test('a ContentInfo-wrapped SignedData verifies like the bare one (edk2 WrapPkcs7Data)', async () => {
  for (const rel of ['dbx/DBXUpdate_amd64.bin', 'kek/KEKUpdate_MiTAC_PK2.bin']) {
    const f = loadSigned(rel);
    const r = await verifyDetached(wrapContentInfo(f.certData), signedData(f), [anchorFor(f)]);
    assert.equal(r.ok, true, rel);
  }
});

test('QEMU\'s double ContentInfo wrapper is malformed, not a different signature', async () => {
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const r = await verifyDetached(wrapContentInfo(wrapContentInfo(f.certData)), signedData(f), [vector(MS_KEK_CA_2011)]);
  assert.equal(!r.ok && r.reason, 'malformed');
});

test('the AMI test PK with a negative serial number is found as the signer', async () => {
  const f = loadSigned('kek/KEKUpdate_AMI_PK1.bin');
  assert.ok(f.json.pkcs7.signer.serial_hex.startsWith('-'), 'serial is negative in the vector');
  const r = await verifyDetached(f.certData, signedData(f), [anchorFor(f)]);
  assert.equal(r.ok, true);
});

test('hostile CertData is malformed, never an exception', async () => {
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const content = signedData(f);
  const anchors = [vector(MS_KEK_CA_2011)];
  for (const bad of [new Uint8Array(0), new Uint8Array([0x30]), new Uint8Array([0x30, 0x80, 0x00, 0x00]),
    f.certData.subarray(0, f.certData.length - 1), Buffer.concat([f.certData, Buffer.from([0])]),
    new Uint8Array(64).fill(0xff), wrapContentInfo(new Uint8Array([0x30, 0x00]))]) {
    const r = await verifyDetached(bad, content, anchors);
    assert.equal(!r.ok && r.reason, 'malformed', `input of ${bad.length} bytes`);
  }
});

// ---------------------------------------------------------------------------------------
// Generated signers

async function sign(signer: TestIdentity, content: Uint8Array, extra: TestIdentity[] = [], opts: Parameters<typeof signDetached>[3] = {}): Promise<Uint8Array> {
  return signDetached(content, signer.cert, signer.key, { extraCertificates: extra.map((x) => x.cert), ...opts });
}

const CONTENT = new TextEncoder().encode('dbx\0d719b2cb-3d3a-4596 payload');

test('a leaf signed under root → intermediate verifies with the root, the intermediate or the leaf itself as anchor', async () => {
  const { root, intermediate, leaf } = await testPki();
  const p7 = await sign(leaf, CONTENT, [intermediate]);
  const viaRoot = await verifyDetached(p7, CONTENT, [root.cert]);
  assert.equal(viaRoot.ok, true);
  assert.deepEqual(viaRoot.ok && viaRoot.chain.map((c) => Buffer.from(c)), [leaf.cert, intermediate.cert, root.cert].map((c) => Buffer.from(c)));
  assert.equal((await verifyDetached(p7, CONTENT, [intermediate.cert])).ok, true);
  assert.equal((await verifyDetached(p7, CONTENT, [leaf.cert])).ok, true);
});

test('without the intermediate in the PKCS#7 a leaf is untrusted under the root', async () => {
  const { root, leaf } = await testPki();
  const r = await verifyDetached(await sign(leaf, CONTENT), CONTENT, [root.cert]);
  assert.equal(!r.ok && r.reason, 'untrusted');
});

test('the signer is the certificate the SignerInfo names, whatever the certificate order', async () => {
  const { root, intermediate, leaf } = await testPki();
  const p7 = await sign(leaf, CONTENT, [], { includeSigner: false, extraCertificates: [root.cert, intermediate.cert, leaf.cert] });
  const r = await verifyDetached(p7, CONTENT, [root.cert]);
  assert.equal(r.ok, true);
  assert.deepEqual(r.ok && Buffer.from(r.signerCert), Buffer.from(leaf.cert));
});

test('a certificate long past notAfter still verifies (edk2 NO_CHECK_TIME)', async () => {
  const { pk } = await testPki();
  const p7 = await sign(pk, CONTENT);
  assert.equal((await verifyDetached(p7, CONTENT, [pk.cert])).ok, true);
});

test('a signer issued by a KEK anchor is trusted; a self-signed rogue with the same name is not', async () => {
  const { kek, db } = await testPki();
  assert.equal((await verifyDetached(await sign(db, CONTENT), CONTENT, [kek.cert])).ok, true);
  const impostor = await makeIdentity({ cn: 'Test KEK' });
  const fake = await makeIdentity({ cn: 'Test db Signer', issuer: impostor });
  const r = await verifyDetached(await sign(fake, CONTENT, [impostor]), CONTENT, [kek.cert]);
  assert.equal(!r.ok && r.reason, 'untrusted');
});

test('SHA-384 and SHA-512 signatures verify, with and without signed attributes', async () => {
  const { pk } = await testPki();
  for (const hash of ['SHA-384', 'SHA-512'] as const) {
    for (const signedAttributes of [false, true]) {
      const r = await verifyDetached(await sign(pk, CONTENT, [], { hash, signedAttributes }), CONTENT, [pk.cert]);
      assert.equal(r.ok, true, `${hash} signedAttributes=${signedAttributes}`);
    }
  }
});

test('a SHA-1 or MD5 digest is an unsupported digest', async () => {
  const { pk } = await testPki();
  const p7 = await sign(pk, CONTENT);
  for (const oid of ['1.3.14.3.2.26', '1.2.840.113549.2.5']) {
    const edited = editSignedData(p7, (sd) => {
      sd.signerInfos[0]!.digestAlgorithm = new AlgorithmIdentifier({ algorithmId: oid, algorithmParams: new asn1js.Null() });
    });
    const r = await verifyDetached(edited, CONTENT, [pk.cert]);
    assert.equal(!r.ok && r.reason, 'unsupported-digest', oid);
  }
});

test('zero or two SignerInfos are a signer-count failure', async () => {
  const { pk } = await testPki();
  const p7 = await sign(pk, CONTENT);
  const none = editSignedData(p7, (sd) => { sd.signerInfos = []; });
  const two = editSignedData(p7, (sd) => { sd.signerInfos = [sd.signerInfos[0]!, sd.signerInfos[0]!]; });
  for (const der of [none, two]) {
    const r = await verifyDetached(der, CONTENT, [pk.cert]);
    assert.equal(!r.ok && r.reason, 'signer-count');
  }
});

test('a signer certificate missing from the PKCS#7 is no-signer-cert, even when the anchor is that certificate', async () => {
  const { pk } = await testPki();
  const r = await verifyDetached(await sign(pk, CONTENT, [], { includeSigner: false }), CONTENT, [pk.cert]);
  assert.equal(!r.ok && r.reason, 'no-signer-cert');
});

test('a signer named by subjectKeyIdentifier is found; an unknown key id is no-signer-cert', async () => {
  const { intermediate, leaf } = await testPki();
  const p7 = await sign(leaf, CONTENT, [intermediate]);
  const byKeyId = (id: number[]): Uint8Array => editSignedData(p7, (sd) => {
    const si = sd.signerInfos[0]!;
    si.version = 3;
    si.sid = new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: new Uint8Array(id) });
  });
  const ok = await verifyDetached(byKeyId([1, 2, 3, 4, 5, 6, 7, 8]), CONTENT, [intermediate.cert]);
  assert.equal(ok.ok, true, ok.ok ? '' : ok.detail);
  const r = await verifyDetached(byKeyId([9, 9, 9]), CONTENT, [intermediate.cert]);
  assert.equal(!r.ok && r.reason, 'no-signer-cert');
});

test('an RSA-1024 signer or a non-RSA signature algorithm is an unsupported key', async () => {
  const small = await makeIdentity({ cn: 'Small Key', bits: 1024 });
  const r = await verifyDetached(await sign(small, CONTENT), CONTENT, [small.cert]);
  assert.equal(!r.ok && r.reason, 'unsupported-key');
  const { pk } = await testPki();
  const ecdsa = editSignedData(await sign(pk, CONTENT), (sd) => {
    sd.signerInfos[0]!.signatureAlgorithm = new AlgorithmIdentifier({ algorithmId: '1.2.840.10045.4.3.2' });
  });
  const r2 = await verifyDetached(ecdsa, CONTENT, [pk.cert]);
  assert.equal(!r2.ok && r2.reason, 'unsupported-key');
});

test('an RSA-4096 signer verifies', async () => {
  const f = loadSigned('kek/KEKUpdate_ASUS_PKB3840DFC.bin');
  assert.equal(f.json.pkcs7.certificates[0]!.key, 'RSA-4096');
  assert.equal((await verifyDetached(f.certData, signedData(f), [anchorFor(f)])).ok, true);
});

test('mutually issuing CA certificates do not loop: the walk ends untrusted', async () => {
  const x = await makeIdentity({ cn: 'Loop X', ca: true });
  const y = await makeIdentity({ cn: 'Loop Y', issuer: x, ca: true });
  const xByY = await makeIdentity({ cn: 'Loop X', issuer: y, sameKeyAs: x, ca: true });
  const signer = await makeIdentity({ cn: 'Loop Signer', issuer: x });
  const { root } = await testPki();
  const r = await verifyDetached(await sign(signer, CONTENT, [xByY, y]), CONTENT, [root.cert]);
  assert.equal(!r.ok && r.reason, 'untrusted');
});

test('a clique of cross-issued certificates is cut off by the work bound instead of exploding', async () => {
  // 16 certificates named A and 16 named B, all signed by one key, each A issued by B
  // and each B by A: every link verifies, so an unbounded depth-first walk would try
  // ~16^8 paths. The bound makes it a handful of RSA checks.
  const key = await makeIdentity({ cn: 'A', ca: true });
  const as: TestIdentity[] = [], bs: TestIdentity[] = [];
  const nameB = await makeIdentity({ cn: 'B', sameKeyAs: key, issuer: key, ca: true });
  for (let i = 0; i < 15; i++) {
    as.push(await makeIdentity({ cn: 'A', issuer: nameB, sameKeyAs: key, ca: true }));
    bs.push(await makeIdentity({ cn: 'B', issuer: key, sameKeyAs: key, ca: true }));
  }
  const signer = await makeIdentity({ cn: 'Clique Signer', issuer: key });
  const { root } = await testPki();
  const p7 = await sign(signer, CONTENT, [...as, ...bs, nameB].slice(0, PKCS7_LIMITS.maxCertificates - 1));
  const started = performance.now();
  const r = await verifyDetached(p7, CONTENT, [root.cert]);
  assert.equal(!r.ok && r.reason, 'untrusted');
  assert.ok(performance.now() - started < 2000, 'bounded work');
});

test('more embedded certificates than the limit is malformed', async () => {
  const { pk, rogue } = await testPki();
  const p7 = await sign(pk, CONTENT, Array.from({ length: PKCS7_LIMITS.maxCertificates }, () => rogue));
  const r = await verifyDetached(p7, CONTENT, [pk.cert]);
  assert.equal(!r.ok && r.reason, 'malformed');
});

// ---------------------------------------------------------------------------------------
// Private authenticated variables (spec §4.8)

test('private digest of a self-signed "Auth Var Signer" = SHA256("Auth Var Signer" ‖ SHA256(cert DER))', async () => {
  const signer = await makeIdentity({ cn: 'Auth Var Signer' });
  const r = await verifyPrivate(await sign(signer, CONTENT), CONTENT);
  assert.equal(r.ok, true);
  const expected = sha256(Buffer.concat([Buffer.from('Auth Var Signer'), sha256(signer.cert)]));
  assert.deepEqual(r.ok && Buffer.from(r.digest), expected);
  assert.deepEqual(r.ok && Buffer.from(r.signerCert), Buffer.from(signer.cert));
});

test('private digest binds the leaf CN to the top of the embedded chain, not to certificate order', async () => {
  const { root, intermediate, leaf } = await testPki();
  const full = sha256(Buffer.concat([Buffer.from(leaf.cn), sha256(root.cert)]));
  for (const order of [[leaf, intermediate, root], [root, intermediate, leaf], [intermediate, root, leaf]]) {
    const p7 = await sign(leaf, CONTENT, [], { includeSigner: false, extraCertificates: order.map((x) => x.cert) });
    const r = await verifyPrivate(p7, CONTENT);
    assert.deepEqual(r.ok && Buffer.from(r.digest), full, order.map((x) => x.cn).join(','));
  }
  const partial = await verifyPrivate(await sign(leaf, CONTENT, [intermediate]), CONTENT);
  assert.deepEqual(partial.ok && Buffer.from(partial.digest), sha256(Buffer.concat([Buffer.from(leaf.cn), sha256(intermediate.cert)])));
});

test('private digest of a real Microsoft payload uses KEK CA 2011 as the root', async () => {
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const r = await verifyPrivate(f.certData, signedData(f));
  const expected = sha256(Buffer.concat([Buffer.from('Microsoft Windows UEFI Key Exchange Key'), sha256(vector(MS_KEK_CA_2011))]));
  assert.deepEqual(r.ok && Buffer.from(r.digest), expected);
});

test('a private write with tampered content or a CN-less signer is refused', async () => {
  const signer = await makeIdentity({ cn: 'Auth Var Signer' });
  const bad = await verifyPrivate(await sign(signer, CONTENT), flip(CONTENT, 3));
  assert.equal(!bad.ok && bad.reason, 'bad-signature');
  const anonymous = await makeIdentity({ cn: '', noCommonName: true });
  const r = await verifyPrivate(await sign(anonymous, CONTENT), CONTENT);
  assert.equal(!r.ok && r.reason, 'untrusted');
});

test('one verify of DBXUpdate_amd64.bin stays in the milliseconds (no per-call key generation or unbounded walk)', async (t) => {
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const content = signedData(f);
  const anchors = [vector(MS_KEK_CA_2011)];
  await verifyDetached(f.certData, content, anchors);
  const n = 20;
  const started = performance.now();
  for (let i = 0; i < n; i++) await verifyDetached(f.certData, content, anchors);
  const ms = (performance.now() - started) / n;
  t.diagnostic(`verifyDetached(DBXUpdate_amd64.bin): ${ms.toFixed(2)} ms`);
  assert.ok(ms < 100, `${ms} ms`);
});
