/**
 * The one list of store formats (src/persist/formats.ts): importing it alone is
 * enough to read and write every format (no registration side effects), each
 * codec's content test recognises what it writes and no other codec's output,
 * and names, aliases and extensions map to one format each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STORE_CODECS, FORMAT_NAMES, codecFor, decodeStore, detectFormat, formatFromExtension, formatNamed, isStoreFormat,
} from '../../src/persist/formats.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';

const GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
const sample = [
  makeVariable({ guid: GUID, name: encodeName('Timeout'), attributes: 7, data: Uint8Array.of(5, 0), time: new Uint8Array(16) }),
  makeVariable({ guid: '605dab50-e046-4300-abb6-3dd810dd8b23', name: encodeName('SbatLevel'), attributes: 3, data: new TextEncoder().encode('sbat,1\n'), time: new Uint8Array(16) }),
];

test('every codec in the list writes what its own content test, and only it, recognises, and reads it back', async () => {
  assert.deepEqual([...FORMAT_NAMES].sort(), ['aws', 'edk2', 'json']);
  for (const c of STORE_CODECS) {
    const bytes = await c.encode(sample, c.emptyLayout?.());
    assert.equal(detectFormat(bytes), c.name);
    for (const other of STORE_CODECS) if (other !== c && !other.looseDetect) assert.equal(other.detect(bytes), false, `${other.name} claims ${c.name}`);
    const d = await decodeStore(bytes);
    assert.equal(d.format, c.name);
    assert.deepEqual(d.variables.map((v) => [v.guid, [...v.name], v.attributes, [...v.data]]), sample.map((v) => [v.guid, [...v.name], v.attributes, [...v.data]]));
    assert.equal(codecFor(c.name), c);
    assert.ok(isStoreFormat(c.name));
  }
  assert.equal(isStoreFormat('efivarfs'), false);
  assert.equal(isStoreFormat('postgres'), false);
});

test('names, aliases and extensions each name one format; the name says nothing about content', () => {
  const seen = new Map<string, string>();
  for (const c of STORE_CODECS) {
    for (const n of [c.name, ...c.aliases]) {
      assert.ok(!seen.has(n), `${n} twice`);
      seen.set(n, c.name);
      assert.equal(formatNamed(n), c.name);
    }
    assert.ok(c.extensions.length > 0);
    for (const e of c.extensions) {
      assert.ok(!seen.has(e), `${e} twice`);
      seen.set(e, c.name);
      assert.equal(formatFromExtension(`/some/dir.x/vars${e}`), c.name);
      assert.equal(formatFromExtension(`VARS${e.toUpperCase()}`), c.name, 'extensions are case-blind');
      assert.equal(formatFromExtension(`vars${e}.gz`), undefined, 'the last extension decides');
    }
  }
  assert.equal(formatNamed('fd'), 'edk2');
  assert.equal(formatNamed('JSON'), undefined);
  assert.equal(formatNamed('postgres'), undefined);
  assert.equal(formatFromExtension('vars'), undefined);
});

test('bytes no codec recognises are refused at offset 0, naming every format', async () => {
  for (const bytes of [Uint8Array.of(0, 1, 2, 3), new TextEncoder().encode('hello'), new Uint8Array(4096).fill(0x5a)]) {
    await assert.rejects(decodeStore(bytes), (e: Error) => {
      assert.ok(e instanceof StoreFormatError);
      assert.equal(e.where, 'offset 0');
      for (const c of STORE_CODECS) assert.ok(e.problem.includes(c.title), `${c.title} in ${e.problem}`);
      return true;
    });
  }
});
