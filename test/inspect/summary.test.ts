import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeStore } from '../../src/persist/formats.js';
import { summarizeStore, formatDevicePath, decodeValue, decodeLoadOption } from '../../src/inspect/index.js';
import type { Variable } from '../../src/store/variable.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';
import { Guids } from '../../src/wire/guid.js';
import { fromHex } from '../../src/wire/hex.js';
import { freshService, queryInfo, SHARED } from '../helpers/service.js';

const REF = join(SHARED, 'vectors/reference/virt-fw-vars');
const MS = join(SHARED, 'vectors/certs/microsoft');
const X509 = 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072';
const SHA256_TYPE = 'c1c41626-504c-4092-aca9-41f936934328';
const OWNER = '77fa9abd-0359-4d32-bd60-28f4e78f784b';

async function load(path: string): Promise<Variable[]> {
  return (await decodeStore(new Uint8Array(readFileSync(path)))).variables;
}

/** EFI_SIGNATURE_LIST bytes built here from the UEFI layout (not with the code under test). */
function esl(type: string, entries: Uint8Array[]): Uint8Array {
  const size = 16 + (entries[0]?.length ?? 0);
  const b = Buffer.alloc(28 + entries.length * size);
  Buffer.from(guidLe(type)).copy(b, 0);
  b.writeUInt32LE(b.length, 16); b.writeUInt32LE(0, 20); b.writeUInt32LE(size, 24);
  entries.forEach((e, i) => { Buffer.from(guidLe(OWNER)).copy(b, 28 + i * size); Buffer.from(e).copy(b, 28 + i * size + 16); });
  return new Uint8Array(b);
}

function guidLe(text: string): Uint8Array {
  const h = text.replace(/-/g, '');
  const b = Buffer.from(h, 'hex');
  return Uint8Array.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

function variable(guid: string, name: string, data: Uint8Array, attributes = 0x27): Variable {
  return { guid, name: encodeName(name), attributes, data, time: new Uint8Array(16) } as Variable;
}

const certFile = (f: string): Uint8Array => new Uint8Array(readFileSync(join(MS, f)));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** virt-fw-vars reference cases that have a store file beside them. */
function referenceStores(): Array<{ name: string; store: string; text: string }> {
  const out = [];
  for (const f of readdirSync(REF).filter((x) => x.endsWith('.print-verbose.txt'))) {
    const base = f.slice(0, -'.print-verbose.txt'.length);
    const text = readFileSync(join(REF, f), 'utf8');
    if (!text.trim()) continue;
    const store = [join(REF, `${base}.fd`), join(SHARED, 'vectors/varstores/ovmf', `${base}.fd`), join(REF, `${base}.json`)].find(existsSync);
    if (store) out.push({ name: base, store, text });
  }
  return out;
}

test('boot entries and device paths read as virt-fw-vars prints them, for every reference store', async () => {
  const cases = referenceStores();
  assert.ok(cases.length >= 3, 'reference stores found');
  for (const c of cases) {
    const vars = await load(c.store);
    const s = await summarizeStore(vars);
    const expectBoot = [...c.text.matchAll(/^name=(Boot[0-9A-F]{4}) .*\n\s+boot entry: (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
    const got = s.boot.entries.map((e) => ('malformed' in e ? `${e.name}: malformed` : `${e.name}: title="${e.title}" devpath=${e.devicePath}${e.optionalData ? ` optdata=${e.optionalData}` : ''}`));
    assert.deepEqual(got, expectBoot, c.name);
    for (const m of c.text.matchAll(/^name=(\S+) .*\n\s+devpath: (.*)$/gm)) {
      const v = vars.find((x) => nameKey(x.name) === m[1])!;
      assert.equal(decodeValue(v), `devpath ${m[2]}`, `${c.name} ${m[1]}`);
    }
  }
});

test('PK, KEK and db certificates carry the subject and issuer common names virt-fw-vars shows', async () => {
  for (const c of referenceStores()) {
    const s = await summarizeStore(await load(c.store));
    for (const [label, certs] of [['PK', s.chain.pk], ['KEK', s.chain.kek], ['db', s.chain.db]] as const) {
      const block = new RegExp(`^name=${label} .*\\n((?:[ \\t]+.*\\n)*)`, 'm').exec(c.text)?.[1] ?? '';
      const subjects = [...block.matchAll(/(?:subject CN=(.*)|no subject CN)/g)].map((m) => m[1]);
      const issuers = [...block.matchAll(/(?:issuer CN=(.*)|no issuer CN)/g)].map((m) => m[1]);
      assert.deepEqual(certs.map((x) => x.commonName), subjects, `${c.name} ${label} subjects`);
      assert.deepEqual(certs.map((x) => /CN=([^,]*)/.exec(x.issuer)?.[1]), issuers, `${c.name} ${label} issuers`);
    }
  }
});

test('certificate expiry is judged as of the given date, and SHA-256 is of the DER', async () => {
  const der = certFile('MicCorKEKCA2011_2011-06-24.der');
  const kek = variable(Guids.globalVariable, 'KEK', esl(X509, [der]));
  const before = await summarizeStore([kek], { asOf: new Date('2026-06-24T00:00:00Z') });
  const after = await summarizeStore([kek], { asOf: new Date('2026-06-25T00:00:00Z') });
  assert.equal(before.chain.kek[0]!.expired, false);
  assert.equal(after.chain.kek[0]!.expired, true);
  assert.equal(after.chain.kek[0]!.sha256, sha256(der));
  assert.equal(after.chain.kek[0]!.notAfter.slice(0, 10), '2026-06-24');
});

test('2023 readiness needs KEK 2K CA 2023 in KEK and both 2023 UEFI CAs in db, and names what is missing', async () => {
  const kek2023 = certFile('MicCorKEK2KCA2023.der'), win = certFile('WindowsUEFICA2023.der'), msca = certFile('MicrosoftUEFICA2023.der');
  const old = certFile('MicCorKEKCA2011_2011-06-24.der');
  const required = [['KEK', kek2023, 'Microsoft Corporation KEK 2K CA 2023'], ['db', win, 'Windows UEFI CA 2023'], ['db', msca, 'Microsoft UEFI CA 2023']] as const;
  for (let mask = 0; mask < 8; mask++) {
    const kek = [old, ...required.filter((r, i) => r[0] === 'KEK' && mask & (1 << i)).map((r) => r[1])];
    const db = required.filter((r, i) => r[0] === 'db' && mask & (1 << i)).map((r) => r[1]);
    const vars = [variable(Guids.globalVariable, 'KEK', esl(X509, [kek[0]!]))];
    if (kek[1]) vars.push(variable(Guids.globalVariable, 'KEK', new Uint8Array([...esl(X509, [kek[0]!]), ...esl(X509, [kek[1]])])));
    const kekVar = vars[vars.length - 1]!;
    const dbVar = variable(Guids.imageSecurityDatabase, 'db', new Uint8Array(db.flatMap((d) => [...esl(X509, [d])])));
    const r = (await summarizeStore([kekVar, ...(db.length ? [dbVar] : [])])).readiness;
    const missing = required.filter((_, i) => !(mask & (1 << i))).map((x) => `${x[2]} (${x[0]})`);
    assert.deepEqual(r.missing, missing, `mask ${mask}`);
    assert.equal(r.verdict, mask === 7 ? '2023-ready' : 'not 2023-ready');
    for (const [, der, name] of required) assert.equal(r.items.find((i) => i.name === name)!.sha256, sha256(der));
  }
  // A 2023 CA in the wrong database does not count.
  const wrong = await summarizeStore([variable(Guids.globalVariable, 'KEK', esl(X509, [win])), variable(Guids.imageSecurityDatabase, 'db', esl(X509, [kek2023]))]);
  assert.equal(wrong.readiness.missing.length, 3);
});

interface DbxInfo { images: Record<string, Array<{ authenticodeHash: string; dateOfAddition: string }>> }
const dbxInfo = JSON.parse(readFileSync(join(SHARED, 'vectors/reference/microsoft/dbx_info_msft_latest.json'), 'utf8')) as DbxInfo;

test('dbx revision: the newest date up to which every published hash of the architecture is present', async () => {
  for (const arch of ['x64', 'aarch64']) {
    const images = dbxInfo.images[arch]!.filter((i) => /^[0-9a-fA-F]{64}$/.test(i.authenticodeHash));
    const dates = [...new Set(images.map((i) => i.dateOfAddition))].sort();
    for (const [k, d] of dates.entries()) {
      const upTo = images.filter((i) => i.dateOfAddition <= d);
      const hashes = upTo.map((i) => fromHex(i.authenticodeHash.toLowerCase()));
      const unknown = [randomBytes(32), randomBytes(32)].map((b) => new Uint8Array(b));
      const full = await summarizeStore([variable(Guids.imageSecurityDatabase, 'dbx', esl(SHA256_TYPE, [...hashes, ...unknown]))]);
      assert.equal(full.dbx.facts.arch, arch);
      assert.equal(full.dbx.facts.revision, d, `${arch} all up to ${d}`);
      assert.equal(full.dbx.facts.unknown, 2);
      assert.equal(full.dbx.facts.entries.EFI_CERT_SHA256, hashes.length + 2);
      // One hash of date d missing: the revision falls back to the date before (none for the first).
      const dropped = hashes.filter((_, i) => upTo[i]!.dateOfAddition !== d || i !== upTo.findIndex((x) => x.dateOfAddition === d));
      const short = await summarizeStore([variable(Guids.imageSecurityDatabase, 'dbx', esl(SHA256_TYPE, dropped))]);
      assert.equal(short.dbx.facts.revision, k > 0 ? dates[k - 1] : undefined, `${arch} one of ${d} missing`);
      if (k === dates.length - 1) assert.equal(full.dbx.facts.missing, 0);
    }
  }
});

test('storage gauge equals what QueryVariableInfo answers for the same variables', async () => {
  for (const size of [65536, 262144, 540672]) {
    const svc = await freshService({ variables: await load(join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd')), options: { size } });
    const q = await queryInfo(svc);
    const s = (await summarizeStore(svc.variables(), { size })).storage;
    assert.equal(BigInt(s.maxStorage), q.maximumStorageSize);
    assert.equal(BigInt(s.remaining), q.remainingStorageSize);
    assert.equal(BigInt(s.maxVariableSize), q.maximumVariableSize);
    assert.equal(s.used, size - Number(q.remainingStorageSize));
  }
});

test('device paths and load options of random bytes never throw and never read past the data', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
    assert.equal(typeof formatDevicePath(b), 'string');
    const o = decodeLoadOption(b);
    if (o) assert.ok(o.title.length * 2 + 6 <= b.length);
    decodeValue(variable(Guids.globalVariable, 'Boot0001', b));
  }), { numRuns: 2000 });
});

test('a malformed key database is marked and keeps the lists before the damage', async () => {
  const good = esl(X509, [certFile('WindowsUEFICA2023.der')]);
  const damaged = new Uint8Array([...good, 1, 2, 3]);
  const s = await summarizeStore([variable(Guids.imageSecurityDatabase, 'db', damaged)]);
  assert.equal(s.db.malformed, true);
  assert.equal(s.chain.db.length, 1);
});
