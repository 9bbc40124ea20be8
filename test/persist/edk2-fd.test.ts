import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  decodeEdk2Fd, encodeEdk2Fd, defaultEdk2Geometry, isEdk2Fd, type Edk2Geometry,
} from '../../src/persist/edk2-fd.js';
import { StoreFormatError } from '../../src/persist/format-error.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { toHex } from '../../src/wire/hex.js';
import { formatTime, isZeroTime } from '../../src/wire/time.js';
import { guidAt } from '../../src/wire/guid.js';

const VECTORS = path.resolve(process.cwd(), '../shared/vectors');
const read = (rel: string): Uint8Array => new Uint8Array(readFileSync(path.join(VECTORS, rel)));
const json = <T>(rel: string): T => JSON.parse(readFileSync(path.join(VECTORS, rel), 'utf8')) as T;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface ParseLive { Name: string; VendorGuid: string; Attributes: string; DataSize: number; data_sha256: string; TimeStamp: string }
interface ParseFile { live_variables: ParseLive[]; live_count: number; record_count: number; records: { State: string }[] }
interface FwVar { name: string; guid: string; attr: number; data: string; time?: string }

/** Every .fd with a record-by-record reference: the Debian stores and the two virt-fw-vars stores. */
const STORES = [
  { fd: 'varstores/ovmf/OVMF_VARS_4M.fd', parse: 'OVMF_VARS_4M.fd.json', fw: 'OVMF_VARS_4M.json' },
  { fd: 'varstores/ovmf/OVMF_VARS_4M.ms.fd', parse: 'OVMF_VARS_4M.ms.fd.json', fw: 'OVMF_VARS_4M.ms.json' },
  { fd: 'varstores/ovmf/OVMF_VARS_4M.snakeoil.fd', parse: 'OVMF_VARS_4M.snakeoil.fd.json', fw: 'OVMF_VARS_4M.snakeoil.json' },
  { fd: 'varstores/ovmf/OVMF_VARS.fd', parse: 'OVMF_VARS.fd.json', fw: 'OVMF_VARS.json' },
  { fd: 'varstores/ovmf/OVMF_VARS.ms.fd', parse: 'OVMF_VARS.ms.fd.json', fw: 'OVMF_VARS.ms.json' },
  { fd: 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-mskek2011.fd', parse: 'OVMF_VARS_4M.sb-redhat-mskek2011.fd.json', fw: 'OVMF_VARS_4M.sb-redhat-mskek2011.json' },
  { fd: 'reference/virt-fw-vars/OVMF_VARS_4M.sb-redhat-msall-dbx.fd', parse: 'OVMF_VARS_4M.sb-redhat-msall-dbx.fd.json', fw: 'OVMF_VARS_4M.sb-redhat-msall-dbx.json' },
];

const label = (v: Variable): string => `${nameKey(v.name)}/${v.guid}`;

/** Independent image checks (node's zlib.crc32, a plain word sum), not the codec's own code. */
function assertValidImage(img: Uint8Array, g: Edk2Geometry): void {
  const view = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const hl = view.getUint16(0x30, true);
  let sum = 0;
  for (let i = 0; i < hl; i += 2) sum = (sum + view.getUint16(i, true)) & 0xffff;
  assert.equal(sum, 0, 'FV header words sum to 0');
  assert.equal(String.fromCharCode(...img.subarray(0x28, 0x2c)), '_FVH');
  assert.equal(guidAt(img, 0x10), 'fff12b8d-7696-4c8b-a985-2747075b4f50');
  assert.equal(img[g.storeOffset + 20], 0x5a, 'store Format');
  assert.equal(img[g.storeOffset + 21], 0xfe, 'store State');
  if (g.ftw) {
    const w = g.ftw.workingOffset;
    const header = img.slice(w, w + 32);
    header.fill(0xff, 16, 21);
    assert.equal(view.getUint32(w + 16, true), zlib.crc32(header), 'FTW header CRC-32');
    assert.equal(img[w + 20], 0xfe, 'FTW flags valid');
    assert.ok(img.subarray(w + 32, w + g.ftw.workingSize).every((x) => x === 0xff), 'empty write queue');
    assert.ok(img.subarray(g.ftw.spareOffset, g.ftw.spareOffset + g.ftw.spareSize).every((x) => x === 0xff), 'erased spare block');
  }
}

describe('decodeEdk2Fd matches the record-by-record reference parse', () => {
  for (const s of STORES) {
    test(`${s.fd}: exactly the live variables of varstore-parse/${s.parse}, in flash order`, () => {
      const ref = json<ParseFile>(`reference/varstore-parse/${s.parse}`);
      const { variables } = decodeEdk2Fd(read(s.fd));
      assert.equal(variables.length, ref.live_count);
      ref.live_variables.forEach((r, i) => {
        const v = variables[i]!;
        assert.equal(nameKey(v.name), r.Name);
        assert.equal(v.guid, r.VendorGuid);
        assert.equal(v.attributes, Number(r.Attributes), `${r.Name} attributes`);
        assert.equal(v.data.length, r.DataSize, `${r.Name} data size`);
        assert.equal(sha256(v.data), r.data_sha256, `${r.Name} data`);
        if (r.TimeStamp === 'zero') assert.ok(isZeroTime(v.time), `${r.Name} time is zero`);
        else assert.equal(`${formatTime(v.time)} (ns=0 tz=0 dl=0 pad1=0 pad2=0)`, r.TimeStamp);
      });
    });

    test(`${s.fd}: the same (name, guid, attr, data, time) set as virt-fw-vars/${s.fw}`, () => {
      const ref = json<{ variables: FwVar[] }>(`reference/virt-fw-vars/${s.fw}`).variables;
      const got = new Map(decodeEdk2Fd(read(s.fd)).variables.map((v) => [label(v), v]));
      assert.equal(got.size, ref.length);
      for (const r of ref) {
        const v = got.get(`${r.name}/${r.guid}`);
        assert.ok(v, `${r.name} present`);
        assert.equal(v.attributes, r.attr);
        assert.equal(toHex(v.data), r.data);
        assert.equal(toHex(v.time), r.time ?? '00000000000000000000000000000000');
      }
    });
  }

  test('the .ms stores keep 31 of their 57 records; deleted copies (0x3c/0x3d) are gone, so BootOrder does not exist', () => {
    const ref = json<ParseFile>('reference/varstore-parse/OVMF_VARS_4M.ms.fd.json');
    assert.equal(ref.record_count, 57);
    const names = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS_4M.ms.fd')).variables.map((v) => nameKey(v.name));
    assert.equal(names.length, 31);
    assert.ok(!names.includes('BootOrder'));
    for (const n of ['ConIn', 'ConOut', 'ErrOut', 'CustomMode', 'VendorKeysNv', 'InitialAttemptOrder']) {
      assert.equal(names.filter((x) => x === n).length, 1, `${n} once`);
    }
  });

  test('geometry of the 4 MiB layout comes from the headers: FV 0x84000, 132 x 4 KiB, store 0x3ffb8, FTW at 0x41000', () => {
    const { geometry } = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS_4M.ms.fd'));
    assert.deepEqual(geometry, defaultEdk2Geometry('ovmf-4m'));
    assert.deepEqual(geometry.ftw, { workingOffset: 0x41000, workingSize: 0x1000, spareOffset: 0x42000, spareSize: 0x42000 });
  });

  test('geometry of the 2 MiB layout: FV 0x20000, 32 x 4 KiB, store 0xdfb8, FTW at 0xf000, spare 0x10000', () => {
    const { geometry } = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS.ms.fd'));
    assert.deepEqual(geometry, defaultEdk2Geometry('ovmf-2m'));
  });
});

describe('encodeEdk2Fd', () => {
  for (const s of STORES) {
    test(`${s.fd}: decode -> encode -> decode keeps every variable, attribute and time stamp; same size and geometry`, () => {
      const orig = read(s.fd);
      const a = decodeEdk2Fd(orig);
      const img = encodeEdk2Fd(a.variables, a.geometry);
      assert.equal(img.length, orig.length);
      assertValidImage(img, a.geometry);
      const b = decodeEdk2Fd(img);
      assert.deepEqual(b.geometry, a.geometry);
      assert.deepEqual(b.variables, a.variables);
    });
  }

  test('a compacted store holds one VAR_ADDED (0x3f) record per variable, MonotonicCount and PubKeyIndex 0', () => {
    const a = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS_4M.ms.fd'));
    const img = encodeEdk2Fd(a.variables, a.geometry);
    const view = new DataView(img.buffer);
    let pos = 0x64;
    let n = 0;
    while (view.getUint16(pos, true) === 0x55aa) {
      assert.equal(img[pos + 2], 0x3f);
      assert.equal(view.getBigUint64(pos + 8, true), 0n);
      assert.equal(view.getUint32(pos + 32, true), 0);
      pos = Math.ceil((pos + 60 + view.getUint32(pos + 36, true) + view.getUint32(pos + 40, true)) / 4) * 4;
      n++;
    }
    assert.equal(n, 31);
    assert.ok(img.subarray(pos, 0x40000).every((x) => x === 0xff), 'free space erased');
  });

  test('an empty store encoded with the ovmf-4m / ovmf-2m geometry is byte-identical to the Debian templates', () => {
    assert.deepEqual(encodeEdk2Fd([], defaultEdk2Geometry('ovmf-4m')), read('varstores/ovmf/OVMF_VARS_4M.fd'));
    assert.deepEqual(encodeEdk2Fd([], defaultEdk2Geometry('ovmf-2m')), read('varstores/ovmf/OVMF_VARS.fd'));
  });

  test('the virt-fw-vars generated stores re-encode byte for byte (same record layout, 0xff padding)', () => {
    for (const fd of STORES.filter((s) => s.fd.includes('sb-redhat')).map((s) => s.fd)) {
      const orig = read(fd);
      const a = decodeEdk2Fd(orig);
      assert.deepEqual(encodeEdk2Fd(a.variables, a.geometry), orig, fd);
    }
  });

  test('the aavmf geometry reproduces ArmVirtPkg VarStore.fdf.inc: FV checksum 0x0928, FTW CRC 0x86c6e75b, zero padding to 64 MiB', () => {
    const g = defaultEdk2Geometry('aavmf');
    const vars = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS_4M.ms.fd')).variables;
    const img = encodeEdk2Fd(vars, g);
    const view = new DataView(img.buffer);
    assert.equal(img.length, 64 * 1024 * 1024);
    assert.equal(view.getUint16(0x32, true), 0x0928);
    assert.equal(view.getUint32(0x40010, true), 0x86c6e75b);
    assert.equal(view.getBigUint64(0x40018, true), 0x3ffe0n);
    assert.equal(img[0xc0000], 0);
    assert.equal(img[img.length - 1], 0);
    assertValidImage(img, g);
    const back = decodeEdk2Fd(img);
    assert.deepEqual(back.geometry, g);
    assert.deepEqual(back.variables, vars);
  });

  test('variables that do not fit: StoreFormatError("store", "variables need N bytes, the store holds M")', () => {
    const big = makeVariable({ guid: '8be4df61-93ca-11d2-aa0d-00e098032b8c', name: encodeName('Big'), attributes: 7, data: new Uint8Array(0xe000) });
    assert.throws(() => encodeEdk2Fd([big], defaultEdk2Geometry('ovmf-2m')), (e: unknown) => {
      assert.ok(e instanceof StoreFormatError);
      assert.equal(e.where, 'store');
      assert.equal(e.problem, `variables need ${Math.ceil((60 + 8 + 0xe000) / 4) * 4} bytes, the store holds ${0xe000 - 0x64}`);
      return true;
    });
  });

  test('a private-variable digest has no place in flash and is dropped; everything else survives', () => {
    const v = makeVariable({
      guid: '11111111-2222-3333-4444-555555555555', name: encodeName('Priv'), attributes: 0x27,
      data: Uint8Array.of(1, 2, 3), time: Uint8Array.of(0xe9, 7, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), digest: new Uint8Array(32).fill(9),
    });
    const [back] = decodeEdk2Fd(encodeEdk2Fd([v], defaultEdk2Geometry('ovmf-2m'))).variables;
    assert.equal(back!.digest, undefined);
    assert.deepEqual(back!.time, v.time);
    assert.deepEqual(back!.data, v.data);
  });

  test('volatile variables, duplicates and bad names are refused rather than written', () => {
    const g = defaultEdk2Geometry('ovmf-2m');
    const ok = makeVariable({ guid: '8be4df61-93ca-11d2-aa0d-00e098032b8c', name: encodeName('A'), attributes: 7, data: Uint8Array.of(1) });
    const is = (where: string, re: RegExp) => (e: unknown): boolean => e instanceof StoreFormatError && e.where === where && re.test(e.problem);
    assert.throws(() => encodeEdk2Fd([{ ...ok, attributes: 6 }], g), is('variables[0]', /volatile/));
    assert.throws(() => encodeEdk2Fd([ok, { ...ok }], g), is('variables[1]', /duplicate/));
    assert.throws(() => encodeEdk2Fd([{ ...ok, name: Uint8Array.of(0x41, 0) }], g), is('variables[0].name', /ending in one NUL/));
    assert.throws(() => encodeEdk2Fd([{ ...ok, name: Uint8Array.of(0x41, 0, 0, 0, 0x42, 0, 0, 0) }], g), is('variables[0].name', /NUL before its end/));
  });

  test('the plain (gEfiVariableGuid, 32-byte VARIABLE_HEADER) format round-trips and refuses time stamps', () => {
    const g: Edk2Geometry = { ...defaultEdk2Geometry('ovmf-2m'), storeFormat: 'plain' };
    const vars = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS.ms.fd')).variables.filter((v) => isZeroTime(v.time));
    const img = encodeEdk2Fd(vars, g);
    assert.equal(guidAt(img, 0x48), 'ddcf3616-3275-4164-98b6-fe85707ffe7d');
    const view = new DataView(img.buffer);
    assert.equal(view.getUint32(0x64 + 8, true), vars[0]!.name.length, 'NameSize at offset 8 of a plain header');
    const back = decodeEdk2Fd(img);
    assert.equal(back.geometry.storeFormat, 'plain');
    assert.deepEqual(back.variables, vars);
    const timed = decodeEdk2Fd(read('varstores/ovmf/OVMF_VARS.ms.fd')).variables;
    assert.throws(() => encodeEdk2Fd(timed, g), (e: unknown) => e instanceof StoreFormatError && /time stamp/.test(e.problem));
  });

  test('an inconsistent geometry is refused (block map must cover FvLength)', () => {
    const g = { ...defaultEdk2Geometry('ovmf-2m'), fvLength: 0x21000 };
    assert.throws(() => encodeEdk2Fd([], g), (e: unknown) => e instanceof StoreFormatError && e.where.startsWith('geometry.'));
  });
});

describe('record states are resolved as edk2 FindVariableEx does', () => {
  const GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
  const v = (name: string, byte: number): Variable => makeVariable({ guid: GUID, name: encodeName(name), attributes: 7, data: Uint8Array.of(byte) });
  /** Two records of the same name ("Foo", data 1 then 2) with the given states; a third, "Bar", stays live. */
  function store(s1: number, s2: number): Uint8Array {
    const img = encodeEdk2Fd([v('Foo', 1), v('Fop', 2), v('Bar', 3)], defaultEdk2Geometry('ovmf-2m'));
    const rec = 60 + 8 + 1; // header + "Foo\0" + 1 data byte, aligned to 72
    const second = 0x64 + Math.ceil(rec / 4) * 4;
    img[second + 60 + 4] = 0x6f; // "Fop" -> "Foo"
    img[0x64 + 2] = s1;
    img[second + 2] = s2;
    return img;
  }
  const live = (img: Uint8Array): string[] => decodeEdk2Fd(img).variables.map((x) => `${nameKey(x.name)}=${x.data[0]}`);

  test('VAR_ADDED 0x3f is live; VAR_ADDED&IN_DELETED_TRANSITION 0x3e loses to a 0x3f copy of the same name', () => {
    assert.deepEqual(live(store(0x3e, 0x3f)), ['Foo=2', 'Bar=3']);
    assert.deepEqual(live(store(0x3f, 0x3e)), ['Foo=1', 'Bar=3']);
  });
  test('a 0x3e record with no 0x3f copy is live; of two, the last one wins', () => {
    assert.deepEqual(live(store(0x3e, 0x3c)), ['Foo=1', 'Bar=3']);
    assert.deepEqual(live(store(0x3e, 0x3e)), ['Foo=2', 'Bar=3']);
  });
  test('deleted (0x3c, 0x3d), header-only (0x7f) and any other bit pattern are not live, and the walk goes on past them', () => {
    assert.deepEqual(live(store(0x3d, 0x3c)), ['Bar=3']);
    assert.deepEqual(live(store(0x7f, 0x3f)), ['Foo=2', 'Bar=3']);
    assert.deepEqual(live(store(0x3b, 0x00)), ['Bar=3']);
  });
  test('of two 0x3f copies the first is kept (what GetVariable returns)', () => {
    assert.deepEqual(live(store(0x3f, 0x3f)), ['Foo=1', 'Bar=3']);
  });
  test('a half-written header (State 0xff, sizes erased) counts as a bare header, as NameSizeOfVariable says', () => {
    const img = encodeEdk2Fd([v('Bar', 3)], defaultEdk2Geometry('ovmf-2m'));
    const free = 0x64 + Math.ceil((60 + 8 + 1) / 4) * 4;
    img[free] = 0xaa;
    img[free + 1] = 0x55;
    assert.deepEqual(live(img), ['Bar=3']);
  });
});

describe('decoding a Node Buffer (what fs.readFileSync returns)', () => {
  test('leaves the image untouched and returns copies, not views into it', () => {
    const buf = readFileSync(path.join(VECTORS, 'varstores/ovmf/OVMF_VARS_4M.ms.fd'));
    const before = sha256(buf);
    const { variables } = decodeEdk2Fd(buf);
    assert.equal(sha256(buf), before, 'image unchanged (the FTW CRC check works on a copy)');
    const pk = variables.find((v) => nameKey(v.name) === 'PK')!;
    const saved = Uint8Array.from(pk.data);
    buf.fill(0);
    assert.deepEqual(pk.data, saved);
    assert.equal(pk.data.buffer.byteLength, pk.data.length, 'owns its own small buffer');
  });
});

describe('format detection and the aarch64 template', () => {
  test('isEdk2Fd recognises every store and rejects JSON, AWS text and short input', () => {
    for (const s of STORES) assert.ok(isEdk2Fd(read(s.fd)), s.fd);
    assert.equal(isEdk2Fd(new TextEncoder().encode('{"version": 2, "variables": []}')), false);
    assert.equal(isEdk2Fd(new TextEncoder().encode('QU1aTlVFRkmz9HKtAAAAAHj5')), false);
    assert.equal(isEdk2Fd(new Uint8Array(0x20)), false);
  });

  test('the Debian AAVMF_VARS.fd (64 MiB of zeros) is not a store: StoreFormatError at offset 0x28', () => {
    const img = new Uint8Array(zlib.gunzipSync(readFileSync(path.join(VECTORS, 'varstores/aavmf/AAVMF_VARS.fd.gz'))));
    assert.equal(img.length, 64 * 1024 * 1024);
    assert.equal(isEdk2Fd(img), false);
    assert.throws(() => decodeEdk2Fd(img), (e: unknown) => {
      assert.ok(e instanceof StoreFormatError);
      assert.equal(e.where, 'offset 0x28');
      assert.match(e.problem, /no firmware volume signature/);
      return true;
    });
  });
});
