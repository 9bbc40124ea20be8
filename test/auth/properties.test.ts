import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyDetached, verifyPrivate, type Pkcs7Failure } from '../../src/auth/pkcs7.js';
import { checkSignatureListFormat, filterAppend } from '../../src/auth/siglist-rules.js';
import { parseSignatureLists } from '../../src/wire/siglist.js';
import { MS_KEK_CA_2011, anchorFor, loadSigned, signedData, vector } from './vectors.js';

const REASONS: readonly Pkcs7Failure[] = ['malformed', 'signer-count', 'unsupported-digest', 'unsupported-key', 'no-signer-cert', 'bad-signature', 'untrusted'];

/** Byte edits, truncation and insertion applied to a real input. */
function mutationsOf(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edits = fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
  return fc.oneof(
    edits.map((es) => { const b = seed.slice(); for (const [at, v] of es) b[at] = v; return b; }),
    fc.nat(seed.length - 1).map((n) => seed.slice(0, n)),
    fc.tuple(fc.nat(seed.length), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([at, ins]) => new Uint8Array([...seed.subarray(0, at), ...ins, ...seed.subarray(at)])),
  );
}

const kekUpdate = loadSigned('kek/KEKUpdate_MiTAC_PK2.bin');
const dbxUpdate = loadSigned('dbx/DBXUpdate_amd64.bin');

test('property: the format check and the append filter never throw on random or mutated signature lists', () => {
  const seeds = [kekUpdate.payload, vector('reference/expected/P07a.dbx.bin')];
  const data = fc.oneof(fc.uint8Array({ maxLength: 400 }), ...seeds.map(mutationsOf));
  const variable = fc.constantFrom('PK', 'KEK', 'db', 'dbx', 'dbt', 'dbr' as const);
  fc.assert(fc.property(variable, data, data, (v, a, b) => {
    const problem = checkSignatureListFormat(v, a);
    if (problem === undefined && a.length > 0) assert.ok(parseSignatureLists(a), 'a passing payload parses');
    const out = filterAppend(b, a);
    assert.ok(out.length <= a.length, 'filtering never adds bytes');
  }), { numRuns: 400 });
});

test('property: verification never throws on random or mutated CertData and always names a reason', async () => {
  const content = signedData(kekUpdate);
  const anchors = [anchorFor(kekUpdate), vector(MS_KEK_CA_2011)];
  const certData = fc.oneof(fc.uint8Array({ maxLength: 200 }), mutationsOf(kekUpdate.certData), mutationsOf(dbxUpdate.certData));
  await fc.assert(fc.asyncProperty(certData, async (bytes) => {
    const r = await verifyDetached(bytes, content, anchors);
    if (!r.ok) assert.ok(REASONS.includes(r.reason), r.reason);
    const p = await verifyPrivate(bytes, content);
    if (!p.ok) assert.ok(REASONS.includes(p.reason), p.reason);
  }), { numRuns: 150 });
});

test('property: no change to the signed content or to the RSA signature value ever verifies', async () => {
  const f = dbxUpdate;
  const content = signedData(f);
  const anchors = [vector(MS_KEK_CA_2011)];
  const sigStart = f.json.mutation_offsets.signature_value_first_byte - 40;
  const sigLen = f.json.mutation_offsets.signature_value_length;
  await fc.assert(fc.asyncProperty(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (inSignature, pos, mask) => {
    let r;
    if (inSignature) {
      const cd = f.certData.slice();
      const at = sigStart + (pos % sigLen);
      cd[at] = cd[at]! ^ mask;
      r = await verifyDetached(cd, content, anchors);
    } else {
      const c = content.slice();
      const at = pos % c.length;
      c[at] = c[at]! ^ mask;
      r = await verifyDetached(f.certData, c, anchors);
    }
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'bad-signature');
  }), { numRuns: 60 });
});
