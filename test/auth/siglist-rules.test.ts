import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkSignatureListFormat, filterAppend } from '../../src/auth/siglist-rules.js';
import { SignatureTypes, encodeSignatureLists, parseSignatureLists, type SignatureList } from '../../src/wire/siglist.js';
import { makeIdentity } from '../helpers/keys.js';
import { efivarfsData, jsonVariable, loadSigned, signedFiles, vector, vectorJson } from './vectors.js';

const OWNER = '77fa9abd-0359-4d32-bd60-28f4e78f784b';
const OTHER_OWNER = 'a0baa8a3-041d-48a8-bc87-c36d121b5e3d';
const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function list(type: string, dataSize: number, entries: { owner?: string; fill: number }[], header = new Uint8Array(0)): SignatureList {
  return {
    type, headerSize: header.length, signatureSize: 16 + dataSize, header,
    entries: entries.map((e) => ({ owner: e.owner ?? OWNER, data: new Uint8Array(dataSize).fill(e.fill) })),
  };
}

function x509List(ders: Uint8Array[]): Uint8Array {
  return encodeSignatureLists(ders.map((der) => ({ type: SignatureTypes.x509, headerSize: 0, signatureSize: 16 + der.length,
    header: new Uint8Array(0), entries: [{ owner: OWNER, data: der }] })));
}

// ---------------------------------------------------------------------------------------
// checkSignatureListFormat (edk2 CheckSignatureListFormat)

test('every real payload passes the format check for the variable it targets', () => {
  for (const f of signedFiles()) assert.equal(checkSignatureListFormat(f.variable, f.payload), undefined, f.file);
  assert.equal(checkSignatureListFormat('PK', jsonVariable('reference/virt-fw-vars/OVMF_VARS_4M.ms.json', 'PK')!), undefined);
  assert.equal(checkSignatureListFormat('PK', efivarfsData('PK-8be4df61-93ca-11d2-aa0d-00e098032b8c')), undefined);
  assert.equal(checkSignatureListFormat('dbx', vector('reference/expected/P20.dbx.bin')), undefined);
});

test('an empty payload (a delete) passes the format check', () => {
  for (const v of ['PK', 'KEK', 'db', 'dbx', 'dbt', 'dbr'] as const) assert.equal(checkSignatureListFormat(v, new Uint8Array(0)), undefined);
});

test('PK may hold one signature only; KEK may hold several', () => {
  const twoCerts = jsonVariable('reference/virt-fw-vars/OVMF_VARS_4M.ms.json', 'KEK')!;
  assert.equal(checkSignatureListFormat('KEK', twoCerts), undefined);
  assert.equal(checkSignatureListFormat('PK', twoCerts), 'pk-multiple');
  const twoHashes = encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 1 }, { fill: 2 }])]);
  assert.equal(checkSignatureListFormat('PK', twoHashes), 'pk-multiple');
});

test('each known signature type needs its fixed SignatureSize (edk2 mSupportSigItem)', () => {
  const sizes: [string, number][] = [
    [SignatureTypes.sha256, 32], [SignatureTypes.sha1, 20], [SignatureTypes.sha224, 28], [SignatureTypes.sha384, 48],
    [SignatureTypes.sha512, 64], [SignatureTypes.rsa2048, 256], [SignatureTypes.rsa2048Sha256, 256], [SignatureTypes.rsa2048Sha1, 256],
    [SignatureTypes.x509Sha256, 48], [SignatureTypes.x509Sha384, 64], [SignatureTypes.x509Sha512, 80],
  ];
  for (const [type, size] of sizes) {
    assert.equal(checkSignatureListFormat('db', encodeSignatureLists([list(type, size, [{ fill: 7 }])])), undefined, `${type} ${16 + size}`);
    assert.equal(checkSignatureListFormat('db', encodeSignatureLists([list(type, size + 1, [{ fill: 7 }])])), 'bad-size', `${type} ${17 + size}`);
  }
});

test('a non-zero SignatureHeaderSize, an unknown type or broken sizes are refused', () => {
  const withHeader = encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 1 }], new Uint8Array(4))]);
  assert.equal(checkSignatureListFormat('dbx', withHeader), 'bad-size');
  const unknown = encodeSignatureLists([list('11111111-2222-3333-4444-555555555555', 32, [{ fill: 1 }])]);
  assert.equal(checkSignatureListFormat('db', unknown), 'unknown-type');
  const good = vector('reference/expected/P10.dbx.bin');
  assert.equal(checkSignatureListFormat('dbx', good.subarray(0, good.length - 1)), 'malformed');
  assert.equal(checkSignatureListFormat('dbx', new Uint8Array([...good, 0])), 'malformed');
});

test('X.509 entries must hold a certificate with an RSA key', async () => {
  const rsa = vector('certs/microsoft/MicCorKEKCA2011_2011-06-24.der');
  assert.equal(checkSignatureListFormat('KEK', x509List([rsa])), undefined);
  assert.equal(checkSignatureListFormat('KEK', x509List([rsa.slice().fill(0x41, 0, 4)])), 'bad-x509');
  assert.equal(checkSignatureListFormat('KEK', x509List([new Uint8Array(300).fill(0x30)])), 'bad-x509');
  const ec = await makeIdentity({ cn: 'EC KEK', ec: true });
  assert.equal(checkSignatureListFormat('KEK', x509List([ec.cert])), 'bad-x509');
  const empty = encodeSignatureLists([{ type: SignatureTypes.x509, headerSize: 0, signatureSize: 16 + rsa.length, header: new Uint8Array(0), entries: [] }]);
  assert.equal(checkSignatureListFormat('KEK', empty), 'bad-x509');
  // edk2 reads the certificate with d2i_X509, which ignores bytes after it.
  assert.equal(checkSignatureListFormat('KEK', x509List([new Uint8Array([...rsa, 0, 0])])), undefined);
});

// ---------------------------------------------------------------------------------------
// filterAppend (edk2 FilterSignatureList) against the vectors' scenarios

interface Scenario { id: string; expected_final: Record<string, { file?: string; sha256?: string; unchanged?: boolean }> }
const scenarios = new Map(vectorJson<Scenario[]>('reference/expected/scenarios.json').map((s) => [s.id, s]));

const MS = 'reference/virt-fw-vars/OVMF_VARS_4M.ms.json';
const MSKEK2011 = 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-mskek2011.json';
const MSALL = 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-msall-dbx.json';
const EFIVARFS = { KEK: 'KEK-8be4df61-93ca-11d2-aa0d-00e098032b8c', dbx: 'dbx-d719b2cb-3d3a-4596-a3bc-dad00e67656f' };

interface AppendCase {
  id: string;
  variable: 'KEK' | 'db' | 'dbx';
  start: () => Uint8Array;
  appends: string[];
  /** Intermediate results after each step, where the vectors give them. */
  after?: (string | undefined)[];
}

const cases: AppendCase[] = [
  { id: 'P01', variable: 'dbx', start: () => jsonVariable(MS, 'dbx')!, appends: ['dbx/DBXUpdate_amd64.bin'] },
  { id: 'P07', variable: 'dbx', start: () => jsonVariable(MS, 'dbx')!, appends: ['dbx/DBXUpdate-20100307.x64.bin', 'dbx/DBXUpdate_amd64.bin'],
    after: ['reference/expected/P07a.dbx.bin'] },
  { id: 'P08', variable: 'db', start: () => jsonVariable(MS, 'db')!, appends: ['db/DBUpdate2024.bin', 'db/DBUpdate2024.bin'],
    after: ['reference/expected/P08.db.bin'] },
  { id: 'P09', variable: 'db', start: () => jsonVariable(MS, 'db')!, appends: ['db/DBUpdate3P2023.bin'] },
  { id: 'P10', variable: 'dbx', start: () => jsonVariable(MS, 'dbx')!, appends: ['dbx/DBXUpdateSVN.bin'] },
  { id: 'P12', variable: 'KEK', start: () => jsonVariable(MSKEK2011, 'KEK')!, appends: ['kek/KEKUpdate_RedHat_PK1.bin'] },
  { id: 'P13', variable: 'dbx', start: () => jsonVariable(MSKEK2011, 'dbx')!, appends: ['dbx/DBXUpdate_amd64.bin'] },
  { id: 'P14', variable: 'KEK', start: () => jsonVariable(MSALL, 'KEK')!, appends: ['kek/KEKUpdate_RedHat_PK1.bin'] },
  { id: 'P15', variable: 'dbx', start: () => jsonVariable(MSALL, 'dbx')!, appends: ['dbx/DBXUpdate_amd64.bin'] },
  { id: 'P16', variable: 'dbx', start: () => jsonVariable(MSALL, 'dbx')!, appends: ['dbx/DBXUpdate-20100307.x64.bin'] },
  { id: 'P18', variable: 'KEK', start: () => new Uint8Array(0), appends: ['kek/KEKUpdate_AMI_PK1.bin'] },
  { id: 'P20', variable: 'dbx', start: () => efivarfsData(EFIVARFS.dbx), appends: ['dbx/DBXUpdate_amd64.bin'] },
  { id: 'P21', variable: 'KEK', start: () => efivarfsData(EFIVARFS.KEK), appends: ['kek/KEKUpdate_ASUS_PK8.bin'] },
];

for (const c of cases) {
  test(`${c.id}: appending ${c.appends.map((a) => a.split('/')[1]).join(' then ')} to ${c.variable} gives the expected value byte for byte`, () => {
    const expected = scenarios.get(c.id)!.expected_final[c.variable]!;
    let value = c.start();
    const start = value;
    c.appends.forEach((rel, i) => {
      const payload = loadSigned(rel).payload;
      value = new Uint8Array([...value, ...filterAppend(value, payload)]);
      const after = c.after?.[i];
      if (after) assert.deepEqual(value, vector(after), `after step ${i + 1}`);
    });
    if (expected.unchanged) assert.deepEqual(value, start, 'a pure duplicate append changes nothing');
    if (expected.file) assert.deepEqual(value, vector(expected.file));
    assert.equal(sha256hex(value), expected.sha256);
  });
}

test('P07: the 7 amd64 hashes already present from the 2010 update are dropped, 436 are appended as one new list', () => {
  const step1 = vector('reference/expected/P07a.dbx.bin');
  const appended = parseSignatureLists(filterAppend(step1, loadSigned('dbx/DBXUpdate_amd64.bin').payload))!;
  assert.equal(appended.length, 1);
  assert.equal(appended[0]!.entries.length, 436);
});

// ---------------------------------------------------------------------------------------
// filterAppend rules

test('an entry is a duplicate only with the same owner, data, type and SignatureSize', () => {
  const existing = encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 1 }])]);
  const incoming = encodeSignatureLists([
    list(SignatureTypes.sha256, 32, [{ fill: 1 }, { fill: 1, owner: OTHER_OWNER }, { fill: 2 }]),
    list(SignatureTypes.sha384, 32, [{ fill: 1 }]),
  ]);
  const kept = parseSignatureLists(filterAppend(existing, incoming))!;
  assert.deepEqual(kept.map((l) => [l.type, l.entries.map((e) => [e.owner, e.data[0]])]), [
    [SignatureTypes.sha256, [[OTHER_OWNER, 1], [OWNER, 2]]],
    [SignatureTypes.sha384, [[OWNER, 1]]],
  ]);
});

test('duplicates inside the incoming data are kept (edk2 compares with the existing data only)', () => {
  const incoming = encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 3 }, { fill: 3 }])]);
  assert.deepEqual(filterAppend(new Uint8Array(0), incoming), incoming);
});

test('lists left empty are dropped and a kept list keeps its header bytes', () => {
  const existing = encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 1 }, { fill: 2 }])]);
  const header = new Uint8Array([9, 8, 7]);
  const incoming = encodeSignatureLists([
    list(SignatureTypes.sha256, 32, [{ fill: 1 }, { fill: 2 }]),
    list(SignatureTypes.sha256, 32, [{ fill: 2 }, { fill: 5 }], header),
  ]);
  const out = filterAppend(existing, incoming);
  assert.deepEqual(out, encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 5 }], header)]));
  assert.deepEqual(filterAppend(existing, encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 2 }])])), new Uint8Array(0));
});

test('duplicates are still found before a damaged tail of the existing data; unparseable incoming data passes through', () => {
  const existing = new Uint8Array([...encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 1 }])]), 1, 2, 3]);
  const incoming = encodeSignatureLists([list(SignatureTypes.sha256, 32, [{ fill: 1 }, { fill: 4 }])]);
  assert.equal(parseSignatureLists(filterAppend(existing, incoming))![0]!.entries.length, 1);
  const junk = new Uint8Array([1, 2, 3]);
  const out = filterAppend(existing, junk);
  assert.deepEqual(out, junk);
  assert.notEqual(out, junk, 'a copy, not the caller\'s buffer');
});
