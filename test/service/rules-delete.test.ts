/**
 * Delete (spec §3.3, §2.5.3 steps 6-7; §8 items 29, 55). Expected values from the spec
 * and traces/qemu-conformance set-overwrite-delete, qvi-accounting, deviations/delete-quirks.
 * One rule is ours (spec §3.3 [BUG], "do not replicate"): DataSize 0 on an existing
 * time-based authenticated variable answers EFI_SECURITY_VIOLATION.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshService, getVar, setVar, deleteVar, S, TEST_GUID, OTHER_GUID, GLOBAL, image, fn } from '../helpers/service.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { fromHex } from '../../src/wire/hex.js';

describe('DataSize 0 deletes (spec §3.3)', () => {
  for (const attr of [2, 6, 3, 7]) {
    test(`a 0x${attr} variable deleted with its own attributes is gone`, async () => {
      const svc = await freshService();
      await setVar(svc, 'Var', attr, [1, 2, 3]);
      assert.equal(await deleteVar(svc, 'Var', TEST_GUID, attr), S.SUCCESS);
      assert.equal((await getVar(svc, 'Var', { dataSize: 64 })).status, S.NOT_FOUND);
    });
  }

  test('the attributes of a delete are not inspected: 0, other ones, even reserved bits all delete', async () => {
    for (const attr of [0, 7, 0x80, 0x10, 0xffffffff]) {
      const svc = await freshService();
      await setVar(svc, 'D2', 2, [1, 2, 3]);
      assert.equal(await deleteVar(svc, 'D2', TEST_GUID, attr), S.SUCCESS, `0x${attr.toString(16)}`);
      assert.equal((await getVar(svc, 'D2')).status, S.NOT_FOUND, `0x${attr.toString(16)}`);
    }
  });

  test('deleting a variable that does not exist returns EFI_SUCCESS, also twice (QEMU; UEFI says NOT_FOUND; item 29)', async () => {
    const svc = await freshService();
    const before = image(svc.variables());
    assert.equal(await deleteVar(svc, 'NeverExisted', TEST_GUID, 0), S.SUCCESS);
    assert.equal(await deleteVar(svc, 'NeverExisted', TEST_GUID, 7), S.SUCCESS);
    assert.deepEqual(image(svc.variables()), before);
  });

  test('APPEND_WRITE with DataSize 0 deletes (QEMU; edk2 treats it as a no-op)', async () => {
    const svc = await freshService();
    await setVar(svc, 'D1', 7, [1, 2, 3]);
    assert.equal(await deleteVar(svc, 'D1', TEST_GUID, 0x47), S.SUCCESS);
    assert.equal((await getVar(svc, 'D1', { dataSize: 8 })).status, S.NOT_FOUND);
  });

  test('a delete removes only the named variable', async () => {
    const svc = await freshService();
    await setVar(svc, 'Keep', 7, [1]);
    await setVar(svc, 'Drop', 7, [2]);
    await setVar(svc, 'Drop', 7, [3], OTHER_GUID);
    await deleteVar(svc, 'Drop');
    assert.deepEqual((await getVar(svc, 'Keep')).data, Uint8Array.of(1));
    assert.deepEqual((await getVar(svc, 'Drop', { guid: OTHER_GUID })).data, Uint8Array.of(3));
    assert.equal((await getVar(svc, 'Drop')).status, S.NOT_FOUND);
  });

  test('a boot-services-only variable cannot be deleted after ExitBootServices (EFI_ACCESS_DENIED), and stays', async () => {
    const svc = await freshService();
    await setVar(svc, 'Ph03', 3, [1, 2, 3]);
    await fn(svc, 6);
    assert.equal(await deleteVar(svc, 'Ph03'), S.ACCESS_DENIED);
    assert.equal(svc.variables().filter((v) => v.guid === TEST_GUID).length, 1);
  });

  test('a runtime-visible volatile variable can be deleted after ExitBootServices (QEMU; edk2 refuses)', async () => {
    const svc = await freshService();
    await fn(svc, 6);
    assert.equal(await setVar(svc, 'VolNew', 6, [1]), S.SUCCESS);
    assert.equal(await deleteVar(svc, 'VolNew'), S.SUCCESS);
    assert.equal((await getVar(svc, 'VolNew')).status, S.NOT_FOUND);
  });
});

describe('ours: no unauthenticated delete of authenticated variables (spec §3.3 [BUG], item 55)', () => {
  const authVar = (name: string, guid: string, attributes: number): ReturnType<typeof makeVariable> =>
    makeVariable({ guid, name: encodeName(name), attributes, data: Uint8Array.of(0x70, 0x61), time: fromHex('e8070506070809000000000000000000') });

  for (const attributes of [0x27, 0x23]) {
    test(`ours: DataSize 0 on an existing 0x${attributes.toString(16)} variable returns EFI_SECURITY_VIOLATION and keeps it (QEMU deletes)`, async () => {
      const svc = await freshService({ variables: [authVar('AuthLoaded', OTHER_GUID, attributes)] });
      const before = image(svc.variables());
      for (const attr of [0, attributes, 0x27, 0x67]) {
        assert.equal(await deleteVar(svc, 'AuthLoaded', OTHER_GUID, attr), S.SECURITY_VIOLATION);
      }
      assert.deepEqual(image(svc.variables()), before);
    });
  }

  test('ours: DataSize 0 on db (attr 0x27) returns EFI_SECURITY_VIOLATION', async () => {
    const db = authVar('db', 'd719b2cb-3d3a-4596-a3bc-dad00e67656f', 0x27);
    const svc = await freshService({ variables: [db] });
    assert.equal(await deleteVar(svc, 'db', 'd719b2cb-3d3a-4596-a3bc-dad00e67656f', 0x27), S.SECURITY_VIOLATION);
    assert.equal((await getVar(svc, 'db', { guid: 'd719b2cb-3d3a-4596-a3bc-dad00e67656f' })).status, S.SUCCESS);
  });

  test('a missing name with attribute 0x27 and DataSize 0 is still a successful no-op', async () => {
    const svc = await freshService();
    assert.equal(await deleteVar(svc, 'NotThere', GLOBAL, 0x27), S.SUCCESS);
  });
});
