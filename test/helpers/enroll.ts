/** Independent readers for the enroll tests: ESL, certificates, EFI_TIME; none uses the code under test. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir, SHARED } from './cli.js';

export const V = join(SHARED, 'vectors');
export const EMPTY_FD = join(V, 'varstores/ovmf/OVMF_VARS_4M.fd');
export const MS_FD = join(V, 'varstores/ovmf/OVMF_VARS_4M.ms.fd');
export const REF = join(V, 'reference/virt-fw-vars');
export const DBX = join(V, 'signed/dbx/DBXUpdate_amd64.bin');
export const BUNDLED = join(V, 'certs/bundled');
export const MSDIR = join(V, 'certs/microsoft');

export const GLOBAL = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
export const SECDB = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';
export const OVMF_OWNER = 'a0baa8a3-041d-48a8-bc87-c36d121b5e3d';
export const MS_OWNER = '77fa9abd-0359-4d32-bd60-28f4e78f784b';
export const X509 = 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072';
export const SHA256 = 'c1c41626-504c-4092-aca9-41f936934328';

// ---- independent readers -------------------------------------------------------------

export interface JVar { name: string; guid: string; attr: number; data: string; time?: string }
export const readJson = (f: string): JVar[] => (JSON.parse(readFileSync(f, 'utf8')) as { variables: JVar[] }).variables;
export const byName = (vs: JVar[], n: string): JVar | undefined => vs.find((v) => v.name === n);

export function guidText(b: Buffer, o: number): string {
  const h = (s: number, e: number, rev: boolean): string => {
    const x = [...b.subarray(o + s, o + e)];
    return Buffer.from(rev ? x.reverse() : x).toString('hex');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
}

export interface Esl { type: string; headerSize: number; sigSize: number; entries: { owner: string; data: Buffer }[] }
export function readEsl(hex: string): Esl[] {
  const b = Buffer.from(hex, 'hex');
  const out: Esl[] = [];
  let o = 0;
  while (o < b.length) {
    const size = b.readUInt32LE(o + 16), hdr = b.readUInt32LE(o + 20), sig = b.readUInt32LE(o + 24);
    assert.ok(size >= 28 && o + size <= b.length && (size - 28 - hdr) % sig === 0, 'well-formed list');
    const entries: Esl['entries'] = [];
    for (let e = o + 28 + hdr; e < o + size; e += sig) entries.push({ owner: guidText(b, e), data: b.subarray(e + 16, e + sig) });
    out.push({ type: guidText(b, o), headerSize: hdr, sigSize: sig, entries });
    o += size;
  }
  return out;
}

export function pemDer(file: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(readFileSync(file, 'latin1'));
  assert.ok(m, file);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}
export const bundled = (f: string): Buffer => pemDer(join(BUNDLED, f));
export const msDer = (f: string): Buffer => readFileSync(join(MSDIR, f));

/** EFI_TIME hex (16 bytes) of a Date, UTC wall clock, as virt-fw-vars writes certificate times. */
export function efiTimeHex(d: Date): string {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(d.getUTCFullYear(), 0);
  b.set([d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()], 2);
  return b.toString('hex');
}
export const notBefore = (der: Buffer): Date => new Date(new X509Certificate(der).validFrom);
export const newest = (ders: Buffer[]): string => efiTimeHex(new Date(Math.max(...ders.map((d) => notBefore(d).getTime()))));
export const TIME_2010 = efiTimeHex(new Date(Date.UTC(2010, 0, 1)));

/** One X509 list per certificate, in order, with these owners. */
export function assertCertLists(hex: string, want: ReadonlyArray<readonly [string, Uint8Array]>, what: string): void {
  const lists = readEsl(hex);
  assert.equal(lists.length, want.length, `${what}: list count`);
  lists.forEach((l, i) => {
    assert.equal(l.type, X509, `${what}[${i}] type`);
    assert.equal(l.headerSize, 0);
    assert.equal(l.entries.length, 1, `${what}[${i}]: one certificate per list`);
    assert.equal(l.sigSize, 16 + want[i]![1].length);
    assert.equal(l.entries[0]!.owner, want[i]![0], `${what}[${i}] owner`);
    assert.ok(l.entries[0]!.data.equals(want[i]![1]), `${what}[${i}] certificate bytes`);
  });
}

export function run(t: { after(fn: () => void): void }, args: string[], store = EMPTY_FD): { dir: string; vars: JVar[]; r: ReturnType<typeof cli> } {
  const dir = tempDir(t);
  const out = join(dir, 'out.json');
  const r = cli('enroll', store, ...args, '--output', out);
  assert.equal(r.code, 0, r.stderr);
  return { dir, vars: readJson(out), r };
}

export const MS_DB_2024: Array<[string, Buffer]> = [
  [MS_OWNER, bundled('MicrosoftWindowsProductionPCA2011.pem')], [MS_OWNER, bundled('WindowsUEFICA2023.pem')],
  [MS_OWNER, bundled('MicrosoftCorporationUEFICA2011.pem')], [MS_OWNER, bundled('MicrosoftUEFICA2023.pem')],
];
export const REDHAT = bundled('RedHatSecureBootPKKEKkey1.pem');

