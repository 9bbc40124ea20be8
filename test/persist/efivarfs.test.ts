import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { decodeEfivarfsEntry, parseEfivarfsFileName } from '../../src/persist/efivarfs.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { isZeroTime } from '../../src/wire/time.js';

const VECTORS = path.resolve(process.cwd(), '../shared/vectors');
const DIR = path.join(VECTORS, 'varstores/efivarfs/shim-test-data-efivars-1');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface IndexEntry { file: string; name: string; guid: string; attributes: string; data_size: number; data_sha256: string }
const index = JSON.parse(readFileSync(path.join(VECTORS, 'reference/efivarfs-shim-test-data-efivars-1.index.json'), 'utf8')) as IndexEntry[];
const load = (file: string) => decodeEfivarfsEntry(file, new Uint8Array(readFileSync(path.join(DIR, file))));

describe('decodeEfivarfsEntry', () => {
  test('PK, KEK, db and dbx load with the index\'s name, GUID, attributes (0x27), size and sha256', () => {
    for (const name of ['PK', 'KEK', 'db', 'dbx']) {
      const e = index.find((x) => x.name === name)!;
      const v = load(e.file);
      assert.equal(nameKey(v.name), name);
      assert.deepEqual(v.name, encodeName(name), 'UCS-2 name with its NUL');
      assert.equal(v.guid, e.guid);
      assert.equal(v.attributes, 0x27);
      assert.equal(v.data.length, e.data_size);
      assert.equal(sha256(v.data), e.data_sha256);
      assert.ok(isZeroTime(v.time), 'efivarfs has no time stamp');
    }
  });

  test('every one of the 106 files matches its index entry (names containing "-" and "_" split at the GUID)', () => {
    const files = readdirSync(DIR).sort();
    assert.equal(files.length, 106);
    assert.deepEqual(files, index.map((e) => e.file).sort());
    for (const e of index) {
      const v = load(e.file);
      assert.equal(nameKey(v.name), e.name, e.file);
      assert.equal(v.guid, e.guid, e.file);
      assert.equal(v.attributes, Number(e.attributes), e.file);
      assert.equal(sha256(v.data), e.data_sha256, e.file);
    }
  });

  test('the GUID is the last 36 characters, upper case is normalised, the name may contain dashes', () => {
    assert.deepEqual(parseEfivarfsFileName('My-Var-8BE4DF61-93CA-11D2-AA0D-00E098032B8C'), { name: 'My-Var', guid: '8be4df61-93ca-11d2-aa0d-00e098032b8c' });
  });

  test('bad file names and short files are StoreFormatErrors naming the file', () => {
    const bad = (file: string, bytes: Uint8Array, re: RegExp): void => {
      assert.throws(() => decodeEfivarfsEntry(file, bytes), (e: unknown) => e instanceof StoreFormatError && e.where === file && re.test(e.problem));
    };
    const four = Uint8Array.of(7, 0, 0, 0);
    bad('Boot0000', four, /not <VariableName>-<VendorGuid>/);
    bad('Boot0000-8be4df61-93ca-11d2-aa0d-00e098032b8', four, /not <VariableName>-<VendorGuid>/);
    bad('Boot0000_8be4df61-93ca-11d2-aa0d-00e098032b8c', four, /not <VariableName>-<VendorGuid>/);
    bad('-8be4df61-93ca-11d2-aa0d-00e098032b8c', four, /empty variable name/);
    bad('A\u0000B-8be4df61-93ca-11d2-aa0d-00e098032b8c', four, /NUL/);
    bad('\u{1F600}-8be4df61-93ca-11d2-aa0d-00e098032b8c', four, /outside UCS-2/);
    bad('Boot0000-8be4df61-93ca-11d2-aa0d-00e098032b8c', Uint8Array.of(7, 0, 0), /needs at least 4/);
  });

  test('data is copied out of a Node Buffer, not a view into it', () => {
    const buf = Buffer.from([0x27, 0, 0, 0, 1, 2, 3]);
    const v = decodeEfivarfsEntry('X-8be4df61-93ca-11d2-aa0d-00e098032b8c', buf);
    buf.fill(0);
    assert.deepEqual(v.data, Uint8Array.of(1, 2, 3));
  });

  test('a file of just the attributes is a variable with empty data', () => {
    const v = decodeEfivarfsEntry('X-8be4df61-93ca-11d2-aa0d-00e098032b8c', Uint8Array.of(0x07, 0, 0, 0x80));
    assert.equal(v.attributes, 0x80000007);
    assert.equal(v.data.length, 0);
  });
});
