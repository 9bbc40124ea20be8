import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as asn1js from 'asn1js';
import {
  certificateCommonName, certificateSubject, describeCertificate, fingerprintSha256, formatName, isIssuedBy,
  namesMatch, parseCertificate, rsaPublicKey,
} from '../../src/auth/x509.js';
import { x509Certificates } from '../../src/wire/siglist.js';
import { makeIdentity, testPki } from '../helpers/keys.js';
import { VECTORS, efivarfsData, signedFiles, vector } from './vectors.js';

/** The certificates inside a bare SignedData, read with asn1js directly. */
function embeddedCertificates(certData: Uint8Array): Uint8Array[] {
  const sd = asn1js.fromBER(certData).result as asn1js.Sequence;
  const set = sd.valueBlock.value.find((n) => n.idBlock.tagClass === 3 && n.idBlock.tagNumber === 0) as asn1js.Constructed;
  return set.valueBlock.value.map((c) => c.valueBeforeDecodeView);
}

function pemToDer(file: string): Uint8Array {
  const pem = readFileSync(path.join(VECTORS, file), 'utf8');
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}

test('every certificate in the signed payloads is described as the reference parse describes it', async () => {
  let n = 0;
  for (const f of signedFiles()) {
    const ders = [...embeddedCertificates(f.certData), ...x509Certificates(f.payload)];
    const expected = [
      ...f.json.pkcs7.certificates,
      ...f.json.payload.signature_lists.flatMap((l) => l.entries.flatMap((e) => (e.x509 ? [e.x509] : []))),
    ];
    assert.equal(ders.length, expected.length, f.file);
    for (const [i, der] of ders.entries()) {
      const info = await describeCertificate(der);
      const want = expected[i]! as { subject: string; sha256: string; issuer?: string; serial_hex?: string; key?: string; self_signed?: boolean };
      assert.ok(info, `${f.file} #${i} parses`);
      assert.equal(info.subject, want.subject, `${f.file} #${i} subject`);
      assert.equal(info.sha256, want.sha256, `${f.file} #${i} fingerprint`);
      assert.equal(await fingerprintSha256(der), want.sha256);
      if (want.issuer !== undefined) {
        assert.equal(info.issuer, want.issuer, `${f.file} #${i} issuer`);
        assert.equal(info.serialHex, want.serial_hex, `${f.file} #${i} serial`);
        assert.equal(info.key, want.key, `${f.file} #${i} key`);
        assert.equal(info.selfIssued, want.self_signed, `${f.file} #${i} self-issued`);
      }
      n++;
    }
  }
  assert.ok(n >= 35, `${n} certificates checked`);
});

test('commonName is the first CN of the subject, UTF-8 included; a CN-less subject has none', () => {
  assert.equal(certificateCommonName(vector('certs/distro/RedHatSecureBootPKKEKkey1.der')), 'Red Hat Secure Boot (PK/KEK key 1)');
  const [pk] = x509Certificates(efivarfsData('PK-8be4df61-93ca-11d2-aa0d-00e098032b8c'));
  assert.equal(certificateCommonName(pk!), 'Uncoöperative Secure Boot PK');
  const snakeoil = pemToDer('certs/snakeoil/PkKek-1-snakeoil.pem');
  assert.equal(certificateCommonName(snakeoil), undefined);
  assert.equal(certificateSubject(snakeoil), 'O=SnakeOil,L=Fort Collins,ST=Colorado,C=US');
});

function nameDer(rdns: [string, asn1js.BaseBlock][][]): Uint8Array {
  return new Uint8Array(new asn1js.Sequence({
    value: rdns.map((rdn) => new asn1js.Set({
      value: rdn.map(([oid, v]) => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), v] })),
    })),
  }).toBER());
}

test('names match across string types, case and whitespace (OpenSSL canonical form) but not across values or attributes', () => {
  const a = nameDer([[['2.5.4.6', new asn1js.PrintableString({ value: 'US' })]], [['2.5.4.3', new asn1js.PrintableString({ value: 'Test  CA' })]]]);
  const b = nameDer([[['2.5.4.6', new asn1js.Utf8String({ value: 'us' })]], [['2.5.4.3', new asn1js.Utf8String({ value: ' test CA ' })]]]);
  const c = nameDer([[['2.5.4.6', new asn1js.Utf8String({ value: 'US' })]], [['2.5.4.3', new asn1js.Utf8String({ value: 'Test CB' })]]]);
  const d = nameDer([[['2.5.4.6', new asn1js.Utf8String({ value: 'US' })]], [['2.5.4.10', new asn1js.Utf8String({ value: 'Test CA' })]]]);
  assert.equal(namesMatch(a, b), true);
  assert.equal(namesMatch(a, c), false);
  assert.equal(namesMatch(a, d), false);
  assert.equal(namesMatch(a, new Uint8Array([0x30, 0x01])), false);
});

test('RFC 4514 rendering escapes specials, keeps multi-valued RDNs and prints unknown attributes by OID', () => {
  const der = nameDer([
    [['2.5.4.6', new asn1js.PrintableString({ value: 'US' })]],
    [['2.5.4.10', new asn1js.Utf8String({ value: 'Acme, Inc.' })], ['2.5.4.11', new asn1js.Utf8String({ value: '#1 team ' })]],
    [['1.2.840.113549.1.9.1', new asn1js.IA5String({ value: 'a+b@example.com' })]],
  ]);
  assert.equal(formatName(der), '1.2.840.113549.1.9.1=a\\+b@example.com,O=Acme\\, Inc.+OU=\\#1 team\\ ,C=US');
});

test('certificate parsing rejects trailing bytes unless asked to ignore them (d2i_X509 style)', () => {
  const der = vector('certs/microsoft/MicCorKEKCA2011_2011-06-24.der');
  const padded = new Uint8Array([...der, 0, 0, 0]);
  assert.equal(parseCertificate(padded), undefined);
  assert.deepEqual(parseCertificate(padded, true)?.der, der);
  assert.equal(parseCertificate(new Uint8Array([0x30, 0x03, 1, 2, 3])), undefined);
});

test('RSA key sizes are read from the modulus; an EC key is not RSA', async () => {
  const sizes = signedFiles().flatMap((f) => embeddedCertificates(f.certData)).map((d) => rsaPublicKey(parseCertificate(d)!.cert)?.bits);
  assert.ok(sizes.includes(2048) && sizes.includes(3072) && sizes.includes(4096), sizes.join(','));
  const ec = await makeIdentity({ cn: 'EC Signer', ec: true });
  assert.equal(rsaPublicKey(parseCertificate(ec.cert)!.cert), undefined);
});

test('isIssuedBy checks the issuer key against the certificate signature and refuses SHA-1 certificate signatures', async () => {
  const f = signedFiles().find((x) => x.file === 'DBXUpdate_amd64.bin')!;
  const [signer, ca] = embeddedCertificates(f.certData).map((d) => parseCertificate(d)!.cert);
  assert.equal(await isIssuedBy(signer!, ca!), true);
  assert.equal(await isIssuedBy(ca!, signer!), false);
  const { kek } = await testPki();
  const sha1 = await makeIdentity({ cn: 'SHA-1 Child', issuer: kek, hash: 'SHA-1' });
  const sha384 = await makeIdentity({ cn: 'SHA-384 Child', issuer: kek, hash: 'SHA-384' });
  const kekCert = parseCertificate(kek.cert)!.cert;
  assert.equal(await isIssuedBy(parseCertificate(sha1.cert)!.cert, kekCert), false);
  assert.equal(await isIssuedBy(parseCertificate(sha384.cert)!.cert, kekCert), true);
});
