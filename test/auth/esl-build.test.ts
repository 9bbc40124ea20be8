import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { appendCertificate, appendSha256, efiTimeOf, INITIAL_TIME, newestNotBefore, SignatureDbError } from '../../src/auth/esl-build.js';
import { readEsl, SHA256, X509 } from '../helpers/enroll.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const owner = fc.constantFrom('a0baa8a3-041d-48a8-bc87-c36d121b5e3d', '77fa9abd-0359-4d32-bd60-28f4e78f784b', '00000000-0000-0000-0000-000000000001');

test('property: hashes and certificates added in any order give first-seen, duplicate-free lists (virt-fw-vars EfiSigDB)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('hash' as const), owner, v: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('cert' as const), owner, v: fc.integer({ min: 0, max: 3 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
    let data: Uint8Array = new Uint8Array(0);
    const hashes: Array<[string, string]> = [];
    const certs: Array<[string, string]> = [];
    for (const o of ops) {
      if (o.kind === 'hash') {
        const h = new Uint8Array(32).fill(o.v + 1);
        data = appendSha256(data, o.owner, h).data;
        if (!hashes.some(([, x]) => x === hex(h))) hashes.push([o.owner, hex(h)]);
      } else {
        const c = new Uint8Array(10 + o.v).fill(0x30 + o.v); // not a certificate: the builder does not care
        data = appendCertificate(data, o.owner, c).data;
        if (!certs.some(([, x]) => x === hex(c))) certs.push([o.owner, hex(c)]);
      }
    }
    const lists = readEsl(hex(data));
    const sha = lists.filter((l) => l.type === SHA256);
    assert.ok(sha.length <= 1, 'one SHA-256 list');
    assert.deepEqual(sha.flatMap((l) => l.entries.map((e) => [e.owner, e.data.toString('hex')])), hashes);
    const x = lists.filter((l) => l.type === X509);
    assert.ok(x.every((l) => l.entries.length === 1 && l.sigSize === 16 + l.entries[0]!.data.length));
    assert.deepEqual(x.map((l) => [l.entries[0]!.owner, l.entries[0]!.data.toString('hex')]), certs);
  }), { numRuns: 200 });
});

test('a malformed database and a wrong-size hash are refused', () => {
  assert.throws(() => appendSha256(Uint8Array.of(1, 2, 3), 'a0baa8a3-041d-48a8-bc87-c36d121b5e3d', new Uint8Array(32)), SignatureDbError);
  assert.throws(() => appendSha256(new Uint8Array(0), 'a0baa8a3-041d-48a8-bc87-c36d121b5e3d', new Uint8Array(31)), SignatureDbError);
  assert.equal(newestNotBefore(new Uint8Array(0)), undefined);
});

test('EFI_TIME of a date: UTC fields, zero zone/daylight; 2010-01-01 constant', () => {
  fc.assert(fc.property(fc.date({ min: new Date(Date.UTC(1999, 0, 1)), max: new Date(Date.UTC(2099, 0, 1)), noInvalidDate: true }), (d) => {
    const b = Buffer.from(efiTimeOf(d));
    assert.deepEqual([b.readUInt16LE(0), b[2], b[3], b[4], b[5], b[6]], [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]);
    assert.equal(b.subarray(7).toString('hex'), '00'.repeat(9));
  }));
  assert.equal(hex(INITIAL_TIME), 'da070101000000000000000000000000');
});
