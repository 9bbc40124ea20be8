import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { decodeAws, encodeAws, isAws, crc32c } from '../../src/persist/aws.js';
import { zlibInflate, zlibStored, adler32 } from '../../src/persist/aws/zlib.js';
import { awsDictV0, AWS_DICT_V0_ADLER32 } from '../../src/persist/aws/dict-v0.js';
import { decodeEdk2Fd } from '../../src/persist/edk2-fd.js';
import { decodeEfivarfsEntry } from '../../src/persist/efivarfs.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';

const VECTORS = path.resolve(process.cwd(), '../shared/vectors');
const read = (rel: string): Uint8Array => new Uint8Array(readFileSync(path.join(VECTORS, rel)));

const FD_STORES = [
  'varstores/ovmf/OVMF_VARS_4M.fd', 'varstores/ovmf/OVMF_VARS_4M.ms.fd', 'varstores/ovmf/OVMF_VARS_4M.snakeoil.fd',
  'varstores/ovmf/OVMF_VARS.fd', 'varstores/ovmf/OVMF_VARS.ms.fd',
  'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-mskek2011.fd', 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-msall-dbx.fd',
];
const EFIVARFS = path.join(VECTORS, 'varstores/efivarfs/shim-test-data-efivars-1');
const efivarfsVars = (): Variable[] =>
  readdirSync(EFIVARFS).sort().map((f) => decodeEfivarfsEntry(f, new Uint8Array(readFileSync(path.join(EFIVARFS, f)))));

const b64 = (bytes: Uint8Array): Uint8Array => new TextEncoder().encode(Buffer.from(bytes).toString('base64'));
const unb64 = (text: Uint8Array): Uint8Array => new Uint8Array(Buffer.from(new TextDecoder().decode(text), 'base64'));

/** Wraps a zlib stream the way python-uefivars does: magic, CRC-32C over version + stream, version 0. */
function wrap(z: Uint8Array, version = 0): Uint8Array {
  const blob = new Uint8Array(16 + z.length);
  blob.set(new TextEncoder().encode('AMZNUEFI'));
  const view = new DataView(blob.buffer);
  view.setUint32(12, version, true);
  blob.set(z, 16);
  view.setUint32(8, crc32c(blob.subarray(12)), true);
  return blob;
}

const fails = (where: string | RegExp, problem: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof StoreFormatError, `a StoreFormatError, got ${String(e)}`);
  if (typeof where === 'string') assert.equal(e.where, where);
  else assert.match(e.where, where);
  assert.match(e.problem, problem);
  return true;
};

describe('AWS uefi-data round trip', () => {
  for (const fd of FD_STORES) {
    test(`${fd}: decodeAws(encodeAws(vars)) equals vars`, async () => {
      const vars = decodeEdk2Fd(read(fd)).variables;
      assert.deepEqual(decodeAws(await encodeAws(vars)), vars);
    });
  }

  test('the 106 efivarfs variables (volatile ones and long data included) round-trip', async () => {
    const vars = efivarfsVars();
    assert.deepEqual(decodeAws(await encodeAws(vars)), vars);
  });

  test('a time-based variable keeps its time stamp and digest; without a digest it gets the empty (zero) one and reads back as none', async () => {
    const time = Uint8Array.of(0xe9, 7, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const withDigest = makeVariable({ guid: '11111111-2222-3333-4444-555555555555', name: encodeName('Priv'), attributes: 0x27, data: Uint8Array.of(1), time, digest: new Uint8Array(32).fill(7) });
    const without = makeVariable({ guid: '11111111-2222-3333-4444-555555555555', name: encodeName('Other'), attributes: 0x27, data: Uint8Array.of(2), time });
    const back = decodeAws(await encodeAws([withDigest, without]));
    assert.deepEqual(back, [withDigest, without]);
    assert.equal(back[1]!.digest, undefined);
  });

  test('the file is base64 of "AMZNUEFI" + CRC-32C(version..end) + version 0 + a zlib stream of the payload', async () => {
    const vars = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS_4M.ms.fd')).variables;
    const text = await encodeAws(vars);
    assert.ok(isAws(text));
    const blob = unb64(text);
    const view = new DataView(blob.buffer, blob.byteOffset);
    assert.equal(new TextDecoder().decode(blob.subarray(0, 8)), 'AMZNUEFI');
    assert.equal(view.getUint32(8, true), crc32c(blob.subarray(12)));
    assert.equal(view.getUint32(12, true), 0);
    const payload = zlib.inflateSync(blob.subarray(16));
    assert.equal(payload.readBigUInt64LE(0), 31n);
    const nameLen = Number(payload.readBigUInt64LE(8));
    assert.equal(payload.subarray(16, 16 + nameLen).toString('utf8'), 'certdb', 'UTF-8 name without NUL');
  });

  test('CRC-32C is the Castagnoli CRC (check value of "123456789" is 0xe3069283)', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  });
});

describe('the v0 preset dictionary', () => {
  test('is the 11381-byte python-uefivars dictionary whose Adler-32 (0x6bb7d9f7) AWS files carry as DICTID', () => {
    const d = awsDictV0();
    assert.equal(d.length, 11381);
    assert.equal(adler32(d), AWS_DICT_V0_ADLER32);
    assert.equal(createHash('sha256').update(d).digest('hex'), 'b6c4f52acbb0ab9aa415290e6c223af871eaa3d430c96b8116899d994681535b');
  });

  test('a store compressed with the dictionary (as python-uefivars writes it, here by node\'s zlib) decodes', async () => {
    const vars = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS_4M.snakeoil.fd')).variables;
    const payload = zlib.inflateSync(unb64(await encodeAws(vars)).subarray(16));
    const z = new Uint8Array(zlib.deflateSync(payload, { level: 9, dictionary: awsDictV0() }));
    assert.equal(z[1]! & 0x20, 0x20, 'FDICT set');
    assert.deepEqual(decodeAws(b64(wrap(z))), vars);
  });

  test('a stream that names another dictionary is refused at its DICTID (offset 0x12)', () => {
    const z = new Uint8Array(zlib.deflateSync(Buffer.alloc(8), { dictionary: Buffer.from('something else') }));
    assert.throws(() => decodeAws(b64(wrap(z))), fails('offset 0x12', /unknown zlib preset dictionary/));
  });
});

describe('the inflater agrees with zlib', () => {
  test('stored, fixed-Huffman and dynamic blocks of random and repetitive data inflate to the original', () => {
    fc.assert(fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.constantFrom(0, 1, 0x55, 0xaa), { maxLength: 20000 }).map((a) => Uint8Array.from(a))),
      fc.constantFrom(0, 1, 6, 9),
      fc.boolean(),
      (data, level, fixed) => {
        const z = new Uint8Array(zlib.deflateSync(data, { level, strategy: fixed ? zlib.constants.Z_FIXED : zlib.constants.Z_DEFAULT_STRATEGY }));
        assert.deepEqual(zlibInflate(z, 0), data);
      },
    ), { numRuns: 200 });
  });

  test('the stored-block fallback (no CompressionStream) spans several 64 KiB blocks and inflates back', () => {
    const data = new Uint8Array(150_000).map((_, i) => (i * 7) & 0xff);
    const z = zlibStored(data);
    assert.deepEqual(new Uint8Array(zlib.inflateSync(z)), data);
    assert.deepEqual(zlibInflate(z, 0), data);
  });
});

describe('AWS decode errors', () => {
  const good = async (): Promise<Uint8Array> => encodeAws(decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS.ms.fd')).variables);

  test('header: magic, CRC-32C, version', async () => {
    const blob = unb64(await good());
    const badMagic = blob.slice(); badMagic[3] = 0x58;
    assert.throws(() => decodeAws(b64(badMagic)), fails('offset 0x0', /AMZNUEFI/));
    const badCrc = blob.slice(); badCrc[100]! ^= 1;
    assert.throws(() => decodeAws(b64(badCrc)), fails('offset 0x8', /bad CRC-32C/));
    assert.throws(() => decodeAws(b64(wrap(blob.subarray(16), 1))), fails('offset 0xc', /unsupported version 1/));
    assert.throws(() => decodeAws(b64(blob.subarray(0, 10))), fails('offset 0x0', /too short/));
  });

  test('base64 layer: a foreign character or a cut-off text names the text offset', async () => {
    const text = await good();
    const bad = text.slice(); bad[40] = 0x2a; // '*'
    assert.throws(() => decodeAws(bad), fails('text offset 40', /not a base64 character/));
    assert.throws(() => decodeAws(text.subarray(0, text.length - 1)), fails(/^text offset/, /truncated|padding/));
  });

  test('zlib layer: bad check bits, bad Adler-32, bytes after the stream, a truncated stream', async () => {
    const blob = unb64(await good());
    const z = blob.subarray(16);
    const badFlg = z.slice(); badFlg[1]! ^= 1;
    assert.throws(() => decodeAws(b64(wrap(badFlg))), fails('offset 0x11', /check bits/));
    const badAdler = z.slice(); badAdler[badAdler.length - 1]! ^= 1;
    assert.throws(() => decodeAws(b64(wrap(badAdler))), fails(`offset 0x${(16 + z.length - 4).toString(16)}`, /Adler-32/));
    const extra = new Uint8Array(z.length + 3); extra.set(z);
    assert.throws(() => decodeAws(b64(wrap(extra))), fails(`offset 0x${(16 + z.length).toString(16)}`, /3 bytes after the compressed data/));
    assert.throws(() => decodeAws(b64(wrap(z.subarray(0, z.length >> 1)))), fails(/^offset 0x/, /bad compressed data: stream ends early/));
  });

  test('payload layer: a count larger than the payload, a length past its end, a bad UTF-8 name, trailing bytes', () => {
    const payload = (parts: number[][]): Uint8Array => b64(wrap(new Uint8Array(zlib.deflateSync(Uint8Array.from(parts.flat())))));
    const u64 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, 0, 0, 0, 0];
    const record = (name: number[]): number[][] => [u64(name.length), name, u64(1), [9], new Array<number>(16).fill(0x11), [7, 0, 0, 0]];
    assert.deepEqual(decodeAws(payload([u64(1), ...record([0x41])])).map((v) => v.data), [Uint8Array.of(9)]);
    assert.throws(() => decodeAws(payload([u64(1000)])), fails('payload offset 0x0', /count does not fit/));
    assert.throws(() => decodeAws(payload([u64(1), u64(500), new Array<number>(40).fill(0x41)])), fails('payload offset 0x8', /variables\[0\]\.name length 500 runs past/));
    assert.throws(() => decodeAws(payload([u64(1), ...record([0xff])])), fails('variables[0].name', /not valid UTF-8/));
    assert.throws(() => decodeAws(payload([u64(1), ...record([])])), fails('variables[0].name', /empty name/));
    assert.throws(() => decodeAws(payload([u64(1), ...record([0x41]), [0]])), fails(/^payload offset 0x/, /1 bytes after the last variable/));
    assert.throws(() => decodeAws(payload([u64(2), ...record([0x41]), ...record([0x41])])), fails('variables[1]', /duplicate/));
  });

  test('names the UTF-8 text cannot carry are refused by the encoder', async () => {
    const v = makeVariable({ guid: '11111111-2222-3333-4444-555555555555', name: Uint8Array.of(0x00, 0xd8, 0, 0), attributes: 7, data: Uint8Array.of(1) });
    await assert.rejects(encodeAws([v]), fails('variables[0].name', /surrogate/));
  });

  test('isAws: only base64 text starting with the encoded magic', () => {
    assert.ok(isAws(new TextEncoder().encode('\n  QU1aTlVFRkmz9HKt')));
    assert.equal(isAws(read('varstores/ovmf/OVMF_VARS.fd')), false);
    assert.equal(isAws(new TextEncoder().encode('{"version": 2}')), false);
  });

  test('property: random corruption of a real store\'s blob (CRC fixed up, so inflate sees it) decodes or is a StoreFormatError', async () => {
    const blob = unb64(await good());
    const z = blob.subarray(16);
    fc.assert(fc.property(
      fc.array(fc.record({ at: fc.nat({ max: z.length - 1 }), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 4 }),
      fc.option(fc.nat({ max: z.length }), { nil: undefined }),
      (edits, cut) => {
        const m = z.slice(0, cut ?? z.length);
        for (const e of edits) if (e.at < m.length) m[e.at] = e.value;
        try {
          decodeAws(b64(wrap(m)));
        } catch (e) {
          if (!(e instanceof StoreFormatError)) throw e;
        }
      },
    ), { numRuns: 300 });
  });
});
