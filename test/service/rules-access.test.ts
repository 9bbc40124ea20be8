/**
 * Access by boot phase and the boot-phase events (spec §3.4, §3.5, §10.3; §8 items 32,
 * 33, 38, 56). Expected values from traces/qemu-conformance runtime-visibility-functions,
 * unknown-functions, unknown-mm-guids and deviations/runtime-access-quirks.
 * Read-only variables are our rule (spec §3.4 [BUG/security]): QEMU lets the guest write them.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshService, getVar, setVar, deleteVar, nextVar, walkNames, fn, event, S, TEST_GUID, GLOBAL, image, bytes,
} from '../helpers/service.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';

async function withPhaseVariables(): Promise<Awaited<ReturnType<typeof freshService>>> {
  const svc = await freshService();
  for (const [name, attr] of [['Ph03', 3], ['Ph06', 6], ['Ph02', 2], ['Ph07', 7]] as const) {
    assert.equal(await setVar(svc, name, attr, [1, 2, 3]), S.SUCCESS);
  }
  return svc;
}

describe('before ExitBootServices: BOOTSERVICE_ACCESS decides (spec §3.4)', () => {
  test('every variable with BS can be read, runtime bit or not', async () => {
    const svc = await withPhaseVariables();
    for (const name of ['Ph03', 'Ph06', 'Ph02', 'Ph07']) assert.equal((await getVar(svc, name)).status, S.SUCCESS, name);
  });

  test('creating an RT-only variable returns EFI_ACCESS_DENIED (item 32)', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'RtOnlyEarly', 4, [1]), S.ACCESS_DENIED);
  });

  test('EndOfDxe and ReadyToBoot do not change access', async () => {
    const svc = await withPhaseVariables();
    assert.equal(await event(svc, 'endOfDxe'), 0);
    assert.equal(await event(svc, 'readyToBoot'), 0);
    assert.equal(await fn(svc, 5), S.SUCCESS);
    assert.equal((await getVar(svc, 'Ph02')).status, S.SUCCESS);
    assert.equal(await setVar(svc, 'Late', 2, [1]), S.SUCCESS);
    assert.equal(await setVar(svc, 'RtOnlyLate', 4, [1]), S.ACCESS_DENIED);
  });
});

describe('after ExitBootServices: RUNTIME_ACCESS decides (spec §3.4; items 33, 38)', () => {
  for (const how of ['function 6', 'the ExitBootServices event'] as const) {
    test(`after ${how}, GetVariable of a BS-only variable returns EFI_ACCESS_DENIED (QEMU; edk2 NOT_FOUND)`, async () => {
      const svc = await withPhaseVariables();
      if (how === 'function 6') assert.equal(await fn(svc, 6), S.SUCCESS);
      else assert.equal(await event(svc, 'exitBootServices'), 0);
      assert.equal((await getVar(svc, 'Ph02', { dataSize: 3 })).status, S.ACCESS_DENIED);
      assert.equal((await getVar(svc, 'Ph03', { dataSize: 3 })).status, S.ACCESS_DENIED);
      assert.equal((await getVar(svc, 'Ph06')).status, S.SUCCESS);
      assert.equal((await getVar(svc, 'Ph07')).status, S.SUCCESS);
    });
  }

  test('GetNextVariableName skips variables without RT (item 33)', async () => {
    const svc = await withPhaseVariables();
    await fn(svc, 6);
    assert.deepEqual(await walkNames(svc), ['SetupMode', 'SignatureSupport', 'SecureBoot', 'VendorKeys', 'Ph06', 'Ph07']);
  });

  test('GetNextVariableName from a BS-only current name returns the next visible variable (QEMU, spec §10.3)', async () => {
    const svc = await withPhaseVariables();
    await fn(svc, 6);
    const n = await nextVar(svc, 'Ph02');
    assert.deepEqual([n.status, n.name], [S.SUCCESS, 'Ph07']);
    const m = await nextVar(svc, 'Ph03');
    assert.deepEqual([m.status, m.name], [S.SUCCESS, 'Ph06']);
  });

  test('the start of the walk skips a BS-only first variable too', async () => {
    const loaded = makeVariable({ guid: TEST_GUID, name: encodeName('NvBsOnly'), attributes: 3, data: new Uint8Array(40).fill(0x11) });
    const svc = await freshService({ variables: [loaded] });
    assert.equal((await nextVar(svc, '')).name, 'NvBsOnly');
    await fn(svc, 6);
    assert.equal((await nextVar(svc, '')).name, 'SetupMode');
  });

  test('creating an RT-only variable is accepted (QEMU; edk2 INVALID_PARAMETER) and it reads back with attributes 4', async () => {
    const svc = await freshService();
    await fn(svc, 6);
    assert.equal(await setVar(svc, 'RtOnly', 4, [1, 2, 3, 4, 5, 6, 7]), S.SUCCESS);
    const g = await getVar(svc, 'RtOnly', { dataSize: 8 });
    assert.deepEqual([g.status, g.attributes, g.size], [S.SUCCESS, 4, 7n]);
    assert.equal(await setVar(svc, 'NvRtOnly', 5, [1, 2, 3, 4, 5]), S.SUCCESS);
  });

  test('writing or deleting a BS-only variable returns EFI_ACCESS_DENIED and changes nothing', async () => {
    const svc = await withPhaseVariables();
    await fn(svc, 6);
    const before = image(svc.variables());
    assert.equal(await setVar(svc, 'Ph03', 3, [9]), S.ACCESS_DENIED);
    assert.equal(await deleteVar(svc, 'Ph03'), S.ACCESS_DENIED);
    assert.equal(await setVar(svc, 'NewBs', 2, [9]), S.ACCESS_DENIED);
    assert.deepEqual(image(svc.variables()), before);
  });

  test('volatile runtime variables can be created, updated and deleted (QEMU; edk2 refuses)', async () => {
    const svc = await withPhaseVariables();
    await fn(svc, 6);
    assert.equal(await setVar(svc, 'Ph06', 6, new Uint8Array(10)), S.SUCCESS);
    assert.equal(await setVar(svc, 'VolNew', 6, [1, 2, 3, 4, 5, 6, 7]), S.SUCCESS);
    assert.equal(await deleteVar(svc, 'VolNew'), S.SUCCESS);
    assert.equal((await getVar(svc, 'Ph06')).size, 10n);
  });

  test('ExitBootServices is sticky: ReadyToBoot and EndOfDxe afterwards do not bring BS access back', async () => {
    const svc = await withPhaseVariables();
    await fn(svc, 6);
    await fn(svc, 5);
    await event(svc, 'endOfDxe');
    assert.equal((await getVar(svc, 'Ph02')).status, S.ACCESS_DENIED);
  });

  test('a device reset clears ExitBootServices: NV BS-only variables are readable again', async () => {
    const svc = await withPhaseVariables();
    await fn(svc, 6);
    await svc.reset();
    assert.equal((await getVar(svc, 'Ph03')).status, S.SUCCESS);
  });
});

describe('boot-phase flags (spec §3.5)', () => {
  test('each event sets only its own flag; the phase reads dxe, end-of-dxe, ready-to-boot, runtime', async () => {
    const svc = await freshService();
    assert.deepEqual({ ...svc.flags }, { endOfDxe: false, readyToBoot: false, exitBootServices: false });
    assert.equal(svc.phase, 'dxe');
    await event(svc, 'endOfDxe');
    assert.deepEqual({ ...svc.flags }, { endOfDxe: true, readyToBoot: false, exitBootServices: false });
    assert.equal(svc.phase, 'end-of-dxe');
    await fn(svc, 5);
    assert.deepEqual({ ...svc.flags }, { endOfDxe: true, readyToBoot: true, exitBootServices: false });
    assert.equal(svc.phase, 'ready-to-boot');
    await event(svc, 'exitBootServices');
    assert.deepEqual({ ...svc.flags }, { endOfDxe: true, readyToBoot: true, exitBootServices: true });
    assert.equal(svc.phase, 'runtime');
  });

  test('function 6 alone sets ExitBootServices without EndOfDxe (flags are independent)', async () => {
    const svc = await freshService();
    await fn(svc, 6);
    assert.deepEqual({ ...svc.flags }, { endOfDxe: false, readyToBoot: false, exitBootServices: true });
  });

  test('the ReadyToBoot event and function 5 set the same flag', async () => {
    const a = await freshService();
    await event(a, 'readyToBoot');
    const b = await freshService();
    await fn(b, 5);
    assert.deepEqual({ ...a.flags }, { ...b.flags });
  });

  test('a device reset clears all three flags', async () => {
    const svc = await freshService();
    await event(svc, 'endOfDxe');
    await fn(svc, 5);
    await fn(svc, 6);
    await svc.reset();
    assert.deepEqual({ ...svc.flags }, { endOfDxe: false, readyToBoot: false, exitBootServices: false });
  });
});

describe('ours: read-only variables answer EFI_WRITE_PROTECTED (spec §3.4 [BUG/security], item 56)', () => {
  const readOnly: Array<[string, number, number[]]> = [
    ['SetupMode', 6, [1]], ['SecureBoot', 6, [1]], ['SignatureSupport', 6, [0x26, 0x16]],
    ['VendorKeys', 6, [1]], ['VendorKeysNv', 0x23, [1]], ['AuditMode', 6, [1]], ['DeployedMode', 6, [1]],
  ];
  for (const [name, attr, data] of readOnly) {
    test(`ours: the guest cannot write or delete ${name} (QEMU allows it)`, async () => {
      const svc = await freshService();
      const before = image(svc.variables());
      assert.equal(await setVar(svc, name, attr, data, GLOBAL), S.WRITE_PROTECTED);
      assert.equal(await setVar(svc, name, 7, data, GLOBAL), S.WRITE_PROTECTED);
      assert.equal(await deleteVar(svc, name, GLOBAL), S.WRITE_PROTECTED);
      await fn(svc, 6);
      assert.equal(await setVar(svc, name, attr, data, GLOBAL), S.WRITE_PROTECTED);
      assert.deepEqual(image(svc.variables()), before);
    });
  }

  test('ours: after a refused SetupMode write the published value is still 01', async () => {
    const svc = await freshService();
    await setVar(svc, 'SetupMode', 6, [0], GLOBAL);
    assert.deepEqual((await getVar(svc, 'SetupMode', { guid: GLOBAL })).data, bytes(1));
  });

  test('the same names under another vendor GUID are ordinary variables', async () => {
    const svc = await freshService();
    for (const [name] of readOnly) assert.equal(await setVar(svc, name, 7, [1], TEST_GUID), S.SUCCESS, name);
  });

  test('CustomMode and SecureBootEnable are not read-only: the guest may write them', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'CustomMode', 3, [0], 'c076ec0c-7028-4399-a072-71ee5c448b9f'), S.SUCCESS);
    assert.equal(await setVar(svc, 'SecureBootEnable', 3, [0], 'f0a30bc7-af08-4556-99c4-001009c93a44'), S.SUCCESS);
  });
});
