/**
 * Start-up from a store that already holds Secure Boot keys (issue 17 item 1;
 * spec §1.7, §3.6, §4.5). QEMU loads the store at realize (file order) and runs
 * uefi_vars_auth_init once, at the machine-start reset: SetupMode and
 * SignatureSupport are rewritten at the end; SecureBootEnable is kept where it
 * is, or (user mode, absent) created right after SignatureSupport; SecureBoot,
 * CustomMode, VendorKeysNv, VendorKeys follow. A PK write runs the same init
 * behind the new PK; a PK delete runs nothing.
 *
 * Every starting state (no keys, PK, PK+KEK, PK+KEK+db+dbx; SecureBootEnable
 * absent/0/1; CustomMode absent/0/1; two file orders; QEMU JSON and edk2 .fd)
 * is checked against the independent model after start, after a PK-signed KEK
 * update, after a PK delete in custom mode, after a PK enrolment in custom mode
 * and after a reset. Two cases are also spelled out by hand from QEMU's code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { G, type Rec } from './qemu-list-model.js';
import { getVar, S } from '../helpers/service.js';
import { Pair, makePool, loadedRec, pkRec, toVariable, type Op, type Pool } from './list-driver.js';
import { sha256List } from './qemu-list-model.js';
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { decodeEdk2Fd, encodeEdk2Fd } from '../../src/persist/edk2-fd.js';
import { defaultEdk2Geometry } from '../../src/persist/edk2/layout.js';
import type { Variable } from '../../src/store/variable.js';
import { VariableService } from '../../src/service/variable-service.js';
import { deviceReplayTarget } from '../../src/device/replay-target.js';
import { getNextRequest } from '../../src/client/requests.js';
import { decodeMmMessage } from '../../src/wire/mm.js';
import { nameKey } from '../../src/wire/ucs2.js';

const KEK_UPDATE = { guid: G.global, name: 'KEK', append: false, time: 20, lists: [[7]], signer: 'PK' };
const KEK_SETUP = { guid: G.global, name: 'KEK', append: false, time: 20, lists: [[7]] };
const CUSTOM_ON: Op = { k: 'plain', guid: G.customMode, name: 'CustomMode', attrs: 3, data: Uint8Array.of(1) };
const PK_DELETE: Op = { k: 'auth', w: { guid: G.global, name: 'PK', append: false, time: 30, lists: [] } };
const PK_ENROL: Op = { k: 'auth', w: { guid: G.global, name: 'PK', append: false, time: 31, lists: [[0]] } };

let pool: Promise<Pool> | undefined;
const thePool = (): Promise<Pool> => (pool ??= makePool([KEK_UPDATE]));

function names(pair: Pair): string[] {
  return pair.model.list.map((r) => r.name);
}

async function ourNames(pair: Pair): Promise<string[]> {
  return (await pair.walks()).got.filter((x) => !x.startsWith('end ')).map((x) => x.slice(0, x.indexOf('@')));
}

function load(recs: readonly Rec[], format: 'json' | 'fd'): Variable[] {
  const vars = recs.map(toVariable);
  return format === 'json' ? decodeQemuJson(encodeQemuJson(vars)) : decodeEdk2Fd(encodeEdk2Fd(vars, defaultEdk2Geometry('ovmf-4m'))).variables;
}

async function expectSame(pair: Pair, when: string): Promise<void> {
  assert.equal(await pair.compare(), undefined, when);
}

const KEYSETS = [[], ['PK'], ['PK', 'KEK'], ['PK', 'KEK', 'db', 'dbx']] as const;

for (const format of ['json', 'fd'] as const) {
  for (const keys of KEYSETS) {
    test(`start-up from a ${format} store with ${keys.length ? keys.join('+') : 'no keys'}: every SecureBootEnable/CustomMode state and order, then KEK update, PK delete and PK enrolment in custom mode, reset`, async () => {
      const p = await thePool();
      for (const sbe of [undefined, 0, 1]) {
        for (const cm of [undefined, 0, 1]) {
          for (const reversed of [false, true]) {
            const recs: Rec[] = [loadedRec(G.global, 'Boot0000', 7, Uint8Array.of(1, 0))];
            for (const k of keys) {
              if (k === 'PK') recs.push(pkRec(p, 'PK'));
              else recs.push(loadedRec(k === 'KEK' ? G.global : G.security, k, 0x27, sha256List([k.length]), 1, [k.length]));
            }
            if (sbe !== undefined) recs.push(loadedRec(G.sbe, 'SecureBootEnable', 3, Uint8Array.of(sbe)));
            if (cm !== undefined) recs.push(loadedRec(G.customMode, 'CustomMode', 3, Uint8Array.of(cm)));
            recs.push(loadedRec(G.test, 'Timeout', 7, Uint8Array.of(5, 0)));
            if (reversed) recs.reverse();
            const label = `[${recs.map((r) => r.name).join(', ')}] SBE=${sbe ?? '-'} CM=${cm ?? '-'}`;
            const variables = load(recs, format);
            assert.deepEqual(variables.map((v) => v.name.length), recs.map((r) => r.name.length * 2 + 2), `${label}: the ${format} store keeps file order`);
            const pair = await Pair.start(p, recs, true, variables);
            await expectSame(pair, `${label}: after start-up`);

            const hasPk = keys.length > 0;
            // QEMU reset CustomMode to 0 at start-up, so the KEK update needs PK's signature (or setup mode).
            assert.equal(await pair.step({ k: 'auth', w: hasPk ? KEK_UPDATE : KEK_SETUP }), undefined, `${label}: KEK update`);
            assert.equal(pair.model.find(G.global, 'KEK')?.time, 20, `${label}: the KEK update was accepted`);
            await expectSame(pair, `${label}: after the KEK update`);

            assert.equal(await pair.step(CUSTOM_ON), undefined, `${label}: CustomMode on`);
            assert.equal(await pair.step(PK_DELETE), undefined, `${label}: PK delete`);
            assert.equal(pair.model.find(G.global, 'PK'), undefined);
            await expectSame(pair, `${label}: after the PK delete in custom mode`);

            assert.equal(await pair.step(PK_ENROL), undefined, `${label}: PK enrolment`);
            await expectSame(pair, `${label}: after the PK enrolment in custom mode`);
            await pair.step({ k: 'reset' });
            await expectSame(pair, `${label}: after a reset`);
          }
        }
      }
    });
  }
}

test('by hand from uefi_vars_auth_init: PK without SecureBootEnable, then a KEK update, a PK delete and a PK enrolment in custom mode', async () => {
  const p = await thePool();
  const pair = await Pair.start(p, [loadedRec(G.global, 'Boot0000', 7, Uint8Array.of(1)), pkRec(p, 'PK')], true);
  const INIT_TAIL = ['SetupMode', 'SignatureSupport', 'SecureBoot', 'CustomMode', 'VendorKeysNv', 'VendorKeys'];
  // User mode, SecureBootEnable absent: created between SignatureSupport and SecureBoot.
  assert.deepEqual(await ourNames(pair), ['Boot0000', 'PK', 'SetupMode', 'SignatureSupport', 'SecureBootEnable', ...INIT_TAIL.slice(2)]);
  assert.equal(await pair.step({ k: 'auth', w: KEK_UPDATE }), undefined);
  assert.deepEqual(await ourNames(pair), ['Boot0000', 'PK', 'SetupMode', 'SignatureSupport', 'SecureBootEnable', ...INIT_TAIL.slice(2), 'KEK']);
  await pair.step(CUSTOM_ON);
  await pair.step(PK_DELETE);
  // A PK delete rewrites nothing (spec §2.5.3 step 13): SetupMode still says user mode.
  assert.deepEqual(await ourNames(pair), ['Boot0000', 'SetupMode', 'SignatureSupport', 'SecureBootEnable', 'SecureBoot', 'VendorKeysNv', 'VendorKeys', 'KEK', 'CustomMode']);
  assert.deepEqual([...pair.model.find(G.global, 'SetupMode')!.data], [0]);
  await pair.step(PK_ENROL);
  // After the PK write the init runs behind it; SecureBootEnable exists, so it stays.
  assert.deepEqual(await ourNames(pair), ['Boot0000', 'SecureBootEnable', 'KEK', 'PK', ...INIT_TAIL]);
  assert.equal(await pair.compare(), undefined);
});

test('by hand: PK, SecureBootEnable=0, CustomMode=1, KEK loaded: SecureBootEnable kept in place, SecureBoot 0, CustomMode reset to 0 at the end', async () => {
  const p = await thePool();
  const recs = [pkRec(p, 'PK'), loadedRec(G.sbe, 'SecureBootEnable', 3, Uint8Array.of(0)), loadedRec(G.customMode, 'CustomMode', 3, Uint8Array.of(1)), loadedRec(G.global, 'KEK', 0x27, sha256List([1]), 1, [1])];
  const pair = await Pair.start(p, recs, true);
  assert.deepEqual(await ourNames(pair), ['PK', 'SecureBootEnable', 'KEK', 'SetupMode', 'SignatureSupport', 'SecureBoot', 'CustomMode', 'VendorKeysNv', 'VendorKeys']);
  assert.deepEqual(names(pair), await ourNames(pair));
  const sb = await getVar(pair.svc, 'SecureBoot', { guid: G.global, dataSize: 8 });
  assert.deepEqual([sb.status, [...sb.data]], [S.SUCCESS, [0]]);
  // CustomMode is 0 now: an unsigned KEK write is refused; the list stays.
  assert.equal(await pair.step({ k: 'auth', w: KEK_SETUP }), undefined);
  assert.equal(pair.model.find(G.global, 'KEK')!.time, 1);
  assert.equal(await pair.compare(), undefined);
});

test('a device reset is not coalesced once anything happened: QEMU runs the init again and SecureBootEnable stays where the first one put it', async () => {
  const p = await thePool();
  const pair = await Pair.start(p, [pkRec(p, 'PK')], true);
  await pair.step({ k: 'next', name: '', guid: G.test, capacity: 64 });
  await pair.step({ k: 'reset' });
  assert.deepEqual(await ourNames(pair), ['PK', 'SecureBootEnable', 'SetupMode', 'SignatureSupport', 'SecureBoot', 'CustomMode', 'VendorKeysNv', 'VendorKeys']);
  assert.equal(await pair.compare(), undefined);
});

test('through the device model: the machine-start hard reset and a capture\'s leading reset record are the one reset create() ran', async () => {
  const p = await thePool();
  const recs = [loadedRec(G.global, 'Boot0000', 7, Uint8Array.of(1)), pkRec(p, 'PK')];
  const svc = await VariableService.create({ variables: load(recs, 'json') });
  const target = await deviceReplayTarget(svc, 'dma'); // UefiVarsDevice.hardReset at machine start
  await target.reset(); // the pcap's first record
  const walked: string[] = [];
  let name = '', guid: string = G.test;
  for (;;) {
    const r = await target.process(getNextRequest({ name, guid, bufferSize: 64 }), 65536);
    const m = decodeMmMessage(r.reply!);
    if (m.kind !== 'variable' || m.payload.kind !== 'variable-name' || m.returnStatus !== S.SUCCESS) break;
    name = nameKey(m.payload.name); guid = m.payload.guid;
    walked.push(name);
  }
  assert.deepEqual(walked, ['Boot0000', 'PK', 'SetupMode', 'SignatureSupport', 'SecureBootEnable', 'SecureBoot', 'CustomMode', 'VendorKeysNv', 'VendorKeys']);
  // Once the guest has spoken, a reset is a reset: QEMU's second init leaves SecureBootEnable in place.
  await target.reset();
  assert.deepEqual(svc.variables().map((v) => nameKey(v.name)), ['Boot0000', 'PK', 'SecureBootEnable', 'SetupMode', 'SignatureSupport', 'SecureBoot', 'CustomMode', 'VendorKeysNv', 'VendorKeys']);
});
