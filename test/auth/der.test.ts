/**
 * src/auth/der.ts against the asn1js/pkijs decoding it replaces on the hot paths
 * (issue 18): the canonical Name key must call two Names equal exactly when the old
 * RDN-by-RDN canonicalisation (kept here as the reference) did, and the DER-only RSA
 * key check of signature-list entries must agree with a full pkijs decode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { canonicalNameKey, certificateLayout, nodeCount, tlvAt } from '../../src/auth/der.js';
import { issuerDer, parseCertificate, rsaKeyOfCertificate, rsaPublicKey, subjectDer } from '../../src/auth/x509.js';
import { VECTORS } from './vectors.js';
import { makeIdentity } from '../helpers/keys.js';

/** The pre-issue-18 canonical form, over asn1js: OID=value per attribute, sorted within an RDN. */
function referenceKey(der: Uint8Array): string {
  try {
    const asn = asn1js.fromBER(der);
    if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) throw new Error('not a name');
    return asn.result.valueBlock.value.map((set) => {
      if (!(set instanceof asn1js.Set)) throw new Error('not a set');
      return set.valueBlock.value.map((atv) => {
        const [type, value] = (atv as asn1js.Sequence).valueBlock.value;
        if (!(type instanceof asn1js.ObjectIdentifier) || !value) throw new Error('not an atv');
        const s = value instanceof asn1js.BaseStringBlock ? value.getValue() : undefined;
        const v = s === undefined ? '#' + Buffer.from(value.valueBeforeDecodeView).toString('hex') : 's:' + s.trim().replace(/\s+/g, ' ').toLowerCase();
        return `${type.getValue()}=${v}`;
      }).sort().join('+');
    }).join(',');
  } catch {
    return 'der:' + Buffer.from(der).toString('hex');
  }
}

function realCerts(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dir of ['microsoft', 'oem-pk', 'distro']) {
    for (const f of readdirSync(path.join(VECTORS, 'certs', dir)).filter((n) => n.endsWith('.der'))) {
      out.push(new Uint8Array(readFileSync(path.join(VECTORS, 'certs', dir, f))));
    }
  }
  return out;
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Uint8Array.from([tag, ...len, ...content]);
}
const cat = (...p: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(p));
const oid = (...bytes: number[]): Uint8Array => tlv(0x06, Uint8Array.from(bytes));
const CN = oid(0x55, 0x04, 0x03), O = oid(0x55, 0x04, 0x0a);

/** A Name from RDNs of [type, tag, value bytes]. */
function name(...rdns: [Uint8Array, number, Uint8Array][][]): Uint8Array {
  return tlv(0x30, cat(...rdns.map((rdn) => tlv(0x31, cat(...rdn.map(([t, tag, v]) => tlv(0x30, cat(t, tlv(tag, v)))))))));
}
const str = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const bmp = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le').swap16());

test('canonical Name keys equal exactly when the asn1js reference keys are equal', () => {
  const names: Uint8Array[] = [];
  for (const c of realCerts()) {
    const p = parseCertificate(c)!;
    names.push(subjectDer(p.cert), issuerDer(p.cert));
  }
  const values: [number, Uint8Array][] = [
    [0x13, str('Microsoft Corporation')], [0x0c, utf8('microsoft  corporation ')], [0x0c, utf8(' MICROSOFT Corporation')],
    [0x1e, bmp('Microsoft Corporation')], [0x16, str('Microsoft\tCorporation')], [0x0c, utf8('Mícrosoft Corporation')],
    [0x04, str('Microsoft Corporation')], [0x13, str('Other')], [0x0c, Uint8Array.of(0xff, 0xfe)], [0x1e, Uint8Array.of(0x00)],
  ];
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 300; i++) {
    const rdns: [Uint8Array, number, Uint8Array][][] = [];
    for (let r = 0; r < 1 + rnd(3); r++) {
      const rdn: [Uint8Array, number, Uint8Array][] = [];
      for (let a = 0; a < 1 + rnd(2); a++) { const [tag, v] = values[rnd(values.length)]!; rdn.push([rnd(2) ? CN : O, tag, v]); }
      rdns.push(rdn);
    }
    names.push(name(...rdns));
  }
  names.push(Uint8Array.of(0x30, 0x03, 0x31, 0x01, 0x00), Uint8Array.of(0x31, 0x00), name());
  let equalPairs = 0;
  for (const a of names) {
    for (const b of names) {
      const ref = referenceKey(a) === referenceKey(b);
      assert.equal(canonicalNameKey(a) === canonicalNameKey(b), ref, `${Buffer.from(a).toString('hex')} vs ${Buffer.from(b).toString('hex')}`);
      if (ref && !Buffer.from(a).equals(Buffer.from(b))) equalPairs++;
    }
  }
  assert.ok(equalPairs > 100, `the corpus has names equal only after canonicalisation (${equalPairs})`);
});

test('the canonical key of a 3,500-RDN Name is linear: well under a millisecond per kilobyte', () => {
  const rdns: [Uint8Array, number, Uint8Array][][] = [];
  for (let i = 0; i < 3500; i++) rdns.push([[CN, 0x13, str(`v${i % 10}`)]]);
  const big = name(...rdns);
  const t0 = performance.now();
  canonicalNameKey(big);
  const ms = performance.now() - t0;
  console.log(`canonical key of ${big.length} bytes / 3500 RDNs: ${ms.toFixed(2)} ms`);
  assert.ok(ms < 100, `${ms} ms`);
});

test('the DER-only RSA key check agrees with a full pkijs decode on real and mutated certificates', async () => {
  const ec = await makeIdentity({ cn: 'EC', ec: true });
  const certs = [...realCerts(), ec.cert];
  const viaPkijs = (d: Uint8Array): string | undefined => {
    const p = parseCertificate(d, true);
    const k = p && rsaPublicKey(p.cert);
    return k && `${k.bits}:${Buffer.from(k.modulus).toString('hex')}`;
  };
  const viaDer = (d: Uint8Array): string | undefined => {
    const k = rsaKeyOfCertificate(d, true);
    return k && `${k.bits}:${Buffer.from(k.modulus).toString('hex')}`;
  };
  for (const c of certs) {
    assert.equal(viaDer(c), viaPkijs(c));
    assert.equal(viaDer(cat(c, Uint8Array.of(1, 2, 3))), viaPkijs(c), 'trailing bytes ignored, as d2i_X509 does');
    const t = tlvAt(c, 0, c.length)!;
    assert.ok(certificateLayout(c, t), 'real certificates have the layout');
    assert.ok(nodeCount(c, t, 1000) < 200, 'real certificates are small trees');
  }
  assert.equal(viaDer(ec.cert), undefined, 'an EC key is not RSA');
  let seed = 11;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  let refused = 0, laxer = 0, compared = 0;
  for (let i = 0; i < 3000; i++) {
    const c = certs[rnd(certs.length)]!.slice();
    // Structural damage: a tag or length byte in the first 400 bytes, or truncation.
    if (rnd(4) === 0) {
      const cut = c.subarray(0, c.length - 1 - rnd(c.length - 1));
      if (viaDer(cut) !== undefined) assert.equal(viaDer(cut), viaPkijs(cut));
      continue;
    }
    const off = rnd(Math.min(400, c.length));
    c[off] = c[off]! ^ (1 << rnd(8));
    const d = viaDer(c), p = viaPkijs(c);
    compared++;
    // Both accept: the same key. The DER check may be stricter than pkijs (it is DER,
    // pkijs reads BER); it is laxer only where pkijs checks a value's contents (rare).
    if (d !== undefined && p !== undefined) assert.equal(d, p, `mutation at ${off} accepted with another key`);
    if (d === undefined && p !== undefined) refused++;
    if (d !== undefined && p === undefined) laxer++;
  }
  console.log(`DER check stricter than pkijs on ${refused}, laxer on ${laxer} of ${compared} mutations`);
  assert.ok(laxer <= compared * 0.02, `laxer on ${laxer} of ${compared}`);
});
