/**
 * The 22 scenarios of ../shared/vectors/reference/expected/scenarios.json, each
 * run as a guest call through the real CLI (`uefi-vars set` on a copy of its
 * start store): the status line, then the final variable bytes and sha256.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { createHash } from 'node:crypto';
import { cli, tempDir, SHARED } from '../helpers/cli.js';
import { encodeQemuJson } from '../../src/persist/json-qemu.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { guidBytes, Guids } from '../../src/wire/guid.js';
import { concatBytes } from '../../src/wire/hex.js';

const V = join(SHARED, 'vectors');

interface Step { SetVariable?: [string, string, string, string]; expect?: string; step?: string }
interface Scenario { id: string; title: string; start_store: string; steps: Step[]; expected_final?: Record<string, { sha256?: string; size?: number; unchanged?: boolean }> }

const scenarios = JSON.parse(readFileSync(join(V, 'reference/expected/scenarios.json'), 'utf8')) as Scenario[];

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** An EFI_SIGNATURE_LIST holding one X.509 certificate (UEFI 2.10 §32.4.1). */
function x509List(der: Uint8Array, owner = '77fa9abd-0359-4d32-bd60-28f4e78f784b'): Uint8Array {
  const head = new Uint8Array(28);
  head.set(guidBytes(Guids.certX509), 0);
  const v = new DataView(head.buffer);
  v.setUint32(16, 28 + 16 + der.length, true);
  v.setUint32(20, 0, true);
  v.setUint32(24, 16 + der.length, true);
  return concatBytes([head, guidBytes(owner), der]);
}

const NV_BS_RT_AT = 0x27;

function jsonStore(dir: string, vars: Variable[]): string {
  const p = join(dir, 'start.json');
  writeFileSync(p, encodeQemuJson(vars));
  return p;
}

function userModeStore(dir: string, pkDer: Uint8Array): string {
  return jsonStore(dir, [makeVariable({ guid: Guids.globalVariable, name: encodeName('PK'), attributes: NV_BS_RT_AT, data: x509List(pkDer) })]);
}

/** efivarfs files: u32 LE attributes ‖ data. */
function efivarfsVariable(file: string): Variable {
  const b = new Uint8Array(readFileSync(file));
  const name = basename(file).slice(0, -37);
  const guid = basename(file).slice(-36);
  return makeVariable({ guid, name: encodeName(name), attributes: new DataView(b.buffer, b.byteOffset).getUint32(0, true), data: b.slice(4) });
}

function efivarfsStore(dir: string, names: string[]): string {
  const root = join(V, 'varstores/efivarfs/shim-test-data-efivars-1');
  const files = readdirSync(root);
  const vars = names.map((n) => efivarfsVariable(join(root, files.find((f) => f.startsWith(n + '-') && f.length === n.length + 37)!)));
  return jsonStore(dir, vars);
}

/** The payload file of a step, with the mutation its description names. */
function payloadFor(dir: string, desc: string, file: string): string {
  const rel = desc.split(' ')[0]!;
  const bytes = new Uint8Array(readFileSync(join(V, rel)));
  const info = JSON.parse(readFileSync(join(V, 'reference/payloads', basename(rel) + '.json'), 'utf8')) as { mutation_offsets: Record<string, number> };
  const m = info.mutation_offsets;
  if (desc.includes('flip one payload byte')) bytes[m.payload_first_entry_data!]! ^= 0xff;
  else if (desc.includes('flip one signature byte')) bytes[m.signature_value_first_byte! + 10]! ^= 0xff;
  else if (desc.includes('non-zero Nanosecond')) bytes[8] = 1;
  const out = join(dir, file);
  writeFileSync(out, bytes);
  return out;
}

function getVar(store: string, name: string, guid: string, dir: string): Uint8Array | undefined {
  const out = join(dir, `got-${name}.bin`);
  const r = cli('get', store, name, guid, '--out', out);
  return r.code === 0 ? new Uint8Array(readFileSync(out)) : undefined;
}

function setStep(store: string, s: [string, string, string, string], dir: string, payloadDesc = s[3]): { status: string; code: number } {
  const [name, guid, attrs] = s;
  const f = payloadFor(dir, payloadDesc, 'payload.bin');
  const r = cli('set', store, name, guid, attrs, '--data-file', f);
  return { status: r.lines[0] ?? '', code: r.code };
}

const startStores: Record<string, (dir: string) => string> = {};
function startStore(s: Scenario, dir: string): string {
  const src = s.start_store;
  if (src.startsWith('varstores/ovmf/') || src.startsWith('reference/virt-fw-vars/')) {
    const p = join(dir, basename(src.split(' ')[0]!));
    copyFileSync(join(V, src.split(' ')[0]!), p);
    return p;
  }
  if (src.startsWith('varstores/efivarfs/')) return efivarfsStore(dir, ['PK', 'KEK', 'db', 'dbx', 'PKDefault']);
  if (s.id === 'P22') return userModeStore(dir, new Uint8Array(readFileSync(join(V, 'certs/distro/RedHatSecureBootPKKEKkey1.der'))));
  return startStores[s.id]!(dir);
}

const KEK_FILES = readdirSync(join(V, 'signed/kek')).filter((f) => f.endsWith('.bin')).sort();

for (const s of scenarios) {
  if (s.id === 'P11' || s.id === 'P19' || s.id === 'P21') continue; // expanded below
  test(`scenario ${s.id}: ${s.title}`, (t) => {
    const dir = tempDir(t);
    const store = startStore(s, dir);
    const before = new Map<string, Uint8Array | undefined>();
    for (const name of Object.keys(s.expected_final ?? {})) before.set(name, getVar(store, name, guidOf(name), dir));
    for (const step of s.steps) {
      if (!step.SetVariable) continue;
      const r = setStep(store, step.SetVariable, dir);
      const want = step.expect!.split(' ')[0]!;
      assert.equal(r.status, want, `${step.SetVariable[3]}: ${r.status}`);
      assert.equal(r.code, want === 'EFI_SUCCESS' ? 0 : 2);
    }
    checkFinal(s, store, dir, before);
  });
}

function guidOf(name: string): string {
  return name === 'PK' || name === 'KEK' ? Guids.globalVariable : Guids.imageSecurityDatabase;
}

function checkFinal(s: Scenario, store: string, dir: string, before: Map<string, Uint8Array | undefined>): void {
  for (const [name, want] of Object.entries(s.expected_final ?? {})) {
    const got = getVar(store, name, guidOf(name), dir);
    if (want.unchanged) assert.deepEqual(got, before.get(name), `${name} must be unchanged`);
    if (want.sha256) {
      assert.ok(got, `${name} exists`);
      assert.equal(got.length, want.size, `${name} size`);
      assert.equal(sha256(got), want.sha256, `${name} sha256`);
    }
  }
}

test('scenario P11: no OEM KEK update verifies against the Debian PK', (t) => {
  const dir = tempDir(t);
  const src = join(V, 'varstores/ovmf/OVMF_VARS_4M.ms.fd');
  for (const f of KEK_FILES) {
    const store = join(dir, `ms-${f}.fd`);
    copyFileSync(src, store);
    const before = readFileSync(store);
    const r = setStep(store, ['KEK', Guids.globalVariable, '0x67', `signed/kek/${f}`], dir);
    assert.equal(r.status, 'EFI_SECURITY_VIOLATION', f);
    assert.deepEqual(readFileSync(store), before, `${f}: store byte-identical`);
  }
});

test('scenario P19: each OEM KEK update verifies against its own PK, and against no other', (t) => {
  const dir = tempDir(t);
  for (const f of KEK_FILES) {
    const signer = new Uint8Array(readFileSync(join(V, 'certs/oem-pk', f.replace('.bin', '.signer.der'))));
    const store = userModeStore(join(dir), signer);
    const r = setStep(store, ['KEK', Guids.globalVariable, '0x67', `signed/kek/${f}`], dir);
    assert.equal(r.status, 'EFI_SUCCESS', f);
    // KEK did not exist: KEK = the payload list(s).
    const payload = new Uint8Array(readFileSync(join(V, 'signed/kek', f)));
    const dw = new DataView(payload.buffer, payload.byteOffset).getUint32(16, true);
    assert.deepEqual(getVar(store, 'KEK', Guids.globalVariable, dir), payload.slice(16 + dw), f);
    // Against another OEM's PK: refused.
    const other = KEK_FILES[(KEK_FILES.indexOf(f) + 1) % KEK_FILES.length]!;
    const wrong = userModeStore(dir, new Uint8Array(readFileSync(join(V, 'certs/oem-pk', other.replace('.bin', '.signer.der')))));
    assert.equal(setStep(wrong, ['KEK', Guids.globalVariable, '0x67', `signed/kek/${f}`], dir).status, 'EFI_SECURITY_VIOLATION', `${f} with ${other}'s PK`);
  }
});

test('scenario P21: a vendor PK from PKDefault, enrolled in custom mode, authorises its KEK update', (t) => {
  const s = scenarios.find((x) => x.id === 'P21')!;
  const dir = tempDir(t);
  const store = efivarfsStore(dir, ['PK', 'KEK', 'db', 'dbx', 'PKDefault']);
  // PKDefault is volatile (BS|RT): read it before the first write-back drops it.
  const pkDefault = getVar(store, 'PKDefault', Guids.globalVariable, dir)!;
  assert.ok(pkDefault && pkDefault.length > 0);
  const kek = ['KEK', Guids.globalVariable, '0x67', 'signed/kek/KEKUpdate_ASUS_PK8.bin'] as [string, string, string, string];
  assert.equal(setStep(store, kek, dir).status, 'EFI_SECURITY_VIOLATION');
  // Replace PK by PKDefault's data in custom mode (no signature; the descriptor is still required).
  const time = Uint8Array.of(0xea, 0x07, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0); // 2026-01-01
  const auth = new Uint8Array(40);
  auth.set(time, 0);
  const v = new DataView(auth.buffer);
  v.setUint32(16, 24, true); v.setUint16(20, 0x0200, true); v.setUint16(22, 0x0ef1, true);
  auth.set(guidBytes(Guids.certTypePkcs7), 24);
  const f = join(dir, 'pk.bin');
  writeFileSync(f, concatBytes([auth, pkDefault]));
  assert.equal(cli('set', store, 'PK', 'global', '0x27', '--data-file', f).lines[0], 'EFI_SECURITY_VIOLATION', 'not without custom mode');
  assert.equal(cli('set', store, 'PK', 'global', '0x27', '--data-file', f, '--custom-mode').lines[0], 'EFI_SUCCESS');
  assert.deepEqual(getVar(store, 'PK', Guids.globalVariable, dir), pkDefault);
  assert.equal(setStep(store, kek, dir).status, 'EFI_SUCCESS');
  checkFinal(s, store, dir, new Map());
});
