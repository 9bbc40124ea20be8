import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { WireError } from '../../src/wire/errors.js';
import {
  SignatureTypes, encodeSignatureLists, parseSignatureLists, scanSignatureLists, signatureTypeName, x509Certificates,
  type SignatureList,
} from '../../src/wire/siglist.js';
import { VECTORS, efivarfsData, guidLe, jsonVariable, signedFiles, vector } from '../auth/vectors.js';

/** One list written out by hand: type, ListSize, HeaderSize, SignatureSize, header, entries. */
function rawList(type: string, listSize: number, headerSize: number, signatureSize: number, rest: Uint8Array): Uint8Array {
  const h = Buffer.alloc(12);
  h.writeUInt32LE(listSize, 0); h.writeUInt32LE(headerSize, 4); h.writeUInt32LE(signatureSize, 8);
  return new Uint8Array(Buffer.concat([guidLe(type), h, rest]));
}

function sha256Entries(n: number, fill = 0xab): Uint8Array {
  const out = Buffer.alloc(48 * n, fill);
  for (let i = 0; i < n; i++) guidLe('77fa9abd-0359-4d32-bd60-28f4e78f784b').forEach((b, j) => { out[48 * i + j] = b; });
  return new Uint8Array(out);
}

const STORES = ['OVMF_VARS_4M.ms.json', 'OVMF_VARS_4M.snakeoil.json', 'OVMF_VARS_4M.sb-redhat-mskek2011.json', 'OVMF_VARS_4M.sb-redhat-msall-dbx.json'];

test('every real payload parses into the lists the reference parse lists and re-encodes to the same bytes', () => {
  for (const f of signedFiles()) {
    const lists = parseSignatureLists(f.payload);
    assert.ok(lists, f.file);
    assert.deepEqual(lists.map((l) => [l.type, l.signatureSize, l.headerSize, l.entries.length]),
      f.json.payload.signature_lists.map((l) => [l.type, l.SignatureSize, l.SignatureHeaderSize, l.count]), f.file);
    const first = f.json.payload.signature_lists[0]!.entries[0]!;
    assert.equal(lists[0]!.entries[0]!.owner, first.owner);
    if (first.data) assert.equal(Buffer.from(lists[0]!.entries[0]!.data).toString('hex'), first.data);
    assert.deepEqual(encodeSignatureLists(lists), f.payload, `${f.file} round trip`);
  }
});

test('every stored PK/KEK/db/dbx and every expected result round-trips byte for byte', () => {
  const values: [string, Uint8Array][] = [];
  for (const store of STORES) {
    for (const name of ['PK', 'KEK', 'db', 'dbx']) {
      const data = jsonVariable(`reference/virt-fw-vars/${store}`, name);
      if (data) values.push([`${store} ${name}`, data]);
    }
  }
  for (const file of ['PK-8be4df61-93ca-11d2-aa0d-00e098032b8c', 'KEK-8be4df61-93ca-11d2-aa0d-00e098032b8c',
    'db-d719b2cb-3d3a-4596-a3bc-dad00e67656f', 'dbx-d719b2cb-3d3a-4596-a3bc-dad00e67656f']) {
    values.push([file, efivarfsData(file)]);
  }
  for (const f of readdirSync(path.join(VECTORS, 'reference/expected')).filter((x) => x.endsWith('.bin'))) {
    values.push([f, vector(`reference/expected/${f}`)]);
  }
  assert.ok(values.length >= 25);
  for (const [what, data] of values) {
    const lists = parseSignatureLists(data);
    assert.ok(lists && lists.length > 0, what);
    assert.deepEqual(encodeSignatureLists(lists), data, what);
  }
});

test('the KEK of the Debian Secure Boot store yields the Debian PK/KEK and Microsoft KEK CA 2011 certificates', () => {
  const certs = x509Certificates(jsonVariable('reference/virt-fw-vars/OVMF_VARS_4M.ms.json', 'KEK')!);
  assert.deepEqual(certs, [vector('certs/distro/DebianUEFISecureBootPKKEK.der'), vector('certs/microsoft/MicCorKEKCA2011_2011-06-24.der')]);
  assert.deepEqual(x509Certificates(vector('reference/expected/P01.dbx.bin')), [], 'hash lists hold no certificates');
});

test('inconsistent sizes make the strict parse fail', () => {
  const ok = rawList(SignatureTypes.sha256, 28 + 96, 0, 48, sha256Entries(2));
  assert.equal(parseSignatureLists(ok)?.[0]?.entries.length, 2);
  const cases: [string, Uint8Array][] = [
    ['ListSize below the 28-byte header', rawList(SignatureTypes.sha256, 27, 0, 48, sha256Entries(2))],
    ['ListSize beyond the data', rawList(SignatureTypes.sha256, 28 + 144, 0, 48, sha256Entries(2))],
    ['entries not a whole number of SignatureSize', rawList(SignatureTypes.sha256, 28 + 96, 0, 47, sha256Entries(2))],
    ['SignatureSize of only the owner', rawList(SignatureTypes.sha256, 28 + 96, 0, 16, sha256Entries(2))],
    ['SignatureSize zero', rawList(SignatureTypes.sha256, 28 + 96, 0, 0, sha256Entries(2))],
    ['HeaderSize larger than the list', rawList(SignatureTypes.sha256, 28 + 96, 100, 48, sha256Entries(2))],
    ['bytes after the last list', new Uint8Array([...ok, 0, 0, 0, 0])],
    ['a list header cut short', ok.subarray(0, 20)],
    ['ListSize zero', rawList(SignatureTypes.sha256, 0, 0, 48, sha256Entries(2))],
  ];
  for (const [what, data] of cases) assert.equal(parseSignatureLists(data), undefined, what);
});

test('an empty buffer is zero lists, and an empty list (header only) is allowed structurally', () => {
  assert.deepEqual(parseSignatureLists(new Uint8Array(0)), []);
  assert.deepEqual(parseSignatureLists(rawList(SignatureTypes.sha256, 28, 0, 48, new Uint8Array(0)))?.[0]?.entries, []);
});

test('a signature header is kept and round-trips', () => {
  const data = rawList(SignatureTypes.sha256, 28 + 4 + 48, 4, 48, new Uint8Array([1, 2, 3, 4, ...sha256Entries(1)]));
  const lists = parseSignatureLists(data)!;
  assert.deepEqual(lists[0]!.header, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(encodeSignatureLists(lists), data);
});

test('the lenient scan keeps the lists before a damaged one (as edk2 walks stored databases)', () => {
  const kek = jsonVariable('reference/virt-fw-vars/OVMF_VARS_4M.ms.json', 'KEK')!;
  const damaged = new Uint8Array([...kek, ...rawList(SignatureTypes.x509, 9999, 0, 100, new Uint8Array(10))]);
  assert.equal(parseSignatureLists(damaged), undefined);
  assert.equal(scanSignatureLists(damaged).length, parseSignatureLists(kek)!.length);
  assert.equal(x509Certificates(damaged).length, 2);
});

test('encoding refuses entries that do not fill SignatureSize − 16 and a header that disagrees with headerSize', () => {
  const list: SignatureList = { type: SignatureTypes.sha256, headerSize: 0, signatureSize: 48, header: new Uint8Array(0),
    entries: [{ owner: '77fa9abd-0359-4d32-bd60-28f4e78f784b', data: new Uint8Array(31) }] };
  assert.throws(() => encodeSignatureLists([list]), WireError);
  assert.throws(() => encodeSignatureLists([{ ...list, headerSize: 2, entries: [] }]), WireError);
  assert.throws(() => encodeSignatureLists([{ ...list, signatureSize: 16, entries: [] }]), WireError);
});

test('signature types print by their UEFI names', () => {
  assert.equal(signatureTypeName(SignatureTypes.x509), 'EFI_CERT_X509');
  assert.equal(signatureTypeName(SignatureTypes.x509Sha512), 'EFI_CERT_X509_SHA512');
  assert.equal(signatureTypeName('00000000-0000-0000-0000-000000000000'), '00000000-0000-0000-0000-000000000000');
});

const listArb: fc.Arbitrary<SignatureList> = fc.integer({ min: 1, max: 40 }).chain((n) => fc.record({
  type: fc.uuid(),
  header: fc.uint8Array({ maxLength: 6 }),
  entries: fc.array(fc.record({ owner: fc.uuid(), data: fc.uint8Array({ minLength: n, maxLength: n }) }), { maxLength: 4 }),
}).map((r) => ({
  type: r.type, header: r.header, headerSize: r.header.length, signatureSize: 16 + n,
  entries: r.entries.map((e) => ({ owner: e.owner, data: e.data })),
})));

test('property: any lists encode and parse back to themselves', () => {
  fc.assert(fc.property(fc.array(listArb, { maxLength: 4 }), (lists) => {
    assert.deepEqual(parseSignatureLists(encodeSignatureLists(lists)), lists);
  }), { numRuns: 300 });
});

test('property: parsing random and mutated bytes never throws and never reads past the end', () => {
  const seed = vector('reference/expected/P07a.dbx.bin');
  const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(seed.length))
    .map(([edits, cut]) => {
      const b = seed.slice(0, Math.max(cut, 1));
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      return b;
    });
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
    const lists = parseSignatureLists(bytes);
    scanSignatureLists(bytes);
    x509Certificates(bytes);
    if (lists) assert.deepEqual(encodeSignatureLists(lists), bytes);
  }), { numRuns: 1000 });
});
