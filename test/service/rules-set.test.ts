/**
 * SET_VARIABLE (spec §2.5.3 processing order; §8 items 27, 28, 31).
 * Expected values from traces/qemu-conformance set-overwrite-delete,
 * payload-size-limits and deviations/attr-matrix.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshService, call, getVar, setVar, S, TEST_GUID, OFF, withU64, withMessageLength, image, bytes,
} from '../helpers/service.js';
import { setVariableRequest } from '../../src/client/requests.js';

describe('SetVariable create, overwrite (set-overwrite-delete)', () => {
  for (const attr of [2, 6, 3, 7]) {
    test(`attributes 0x${attr}: create, overwrite longer, overwrite shorter, each read back`, async () => {
      const svc = await freshService();
      const name = `Var0${attr}`;
      assert.equal(await setVar(svc, name, attr, [1, 2, 3, 4, 5]), S.SUCCESS);
      assert.deepEqual((await getVar(svc, name, { dataSize: 64 })).data, bytes(1, 2, 3, 4, 5));
      const longer = Uint8Array.from({ length: 20 }, (_, i) => 0x80 + i);
      assert.equal(await setVar(svc, name, attr, longer), S.SUCCESS);
      const g = await getVar(svc, name, { dataSize: 0 });
      assert.deepEqual([g.status, g.size, g.attributes], [S.BUFFER_TOO_SMALL, 20n, attr]);
      assert.deepEqual((await getVar(svc, name, { dataSize: 20 })).data, longer);
      assert.equal(await setVar(svc, name, attr, [9]), S.SUCCESS);
      const short = await getVar(svc, name, { dataSize: 64 });
      assert.deepEqual([short.status, short.size, short.attributes], [S.SUCCESS, 1n, attr]);
      assert.deepEqual(short.data, bytes(9));
    });
  }

  for (const [from, to] of [[2, 6], [2, 3], [2, 7], [6, 2], [6, 3], [6, 7], [3, 2], [3, 6], [3, 7], [7, 2], [7, 6], [7, 3], [7, 0xf]] as const) {
    test(`rewriting a 0x${from.toString(16)} variable with attributes 0x${to.toString(16)} returns EFI_INVALID_PARAMETER and keeps the old value (item 27)`, async () => {
      const svc = await freshService();
      await setVar(svc, 'V', from, [1]);
      const before = image(svc.variables());
      assert.equal(await setVar(svc, 'V', to, new Uint8Array(11)), S.INVALID_PARAMETER);
      assert.deepEqual(image(svc.variables()), before);
      const g = await getVar(svc, 'V');
      assert.deepEqual([g.status, g.attributes, g.data], [S.SUCCESS, from, bytes(1)]);
    });
  }

  test('attributes 0 with data on an existing variable return EFI_ACCESS_DENIED and do not delete it (QEMU; item 28)', async () => {
    const svc = await freshService();
    await setVar(svc, 'Base', 7, [1, 2, 3, 4]);
    assert.equal(await setVar(svc, 'Base', 0, [9]), S.ACCESS_DENIED);
    assert.deepEqual((await getVar(svc, 'Base')).data, bytes(1, 2, 3, 4));
  });

  test('APPEND_WRITE on an existing non-Secure-Boot variable returns EFI_UNSUPPORTED and keeps the data (QEMU; item 31)', async () => {
    const svc = await freshService();
    await setVar(svc, 'Base', 7, [1, 2, 3, 4]);
    assert.equal(await setVar(svc, 'Base', 0x47, [5, 6, 7, 8]), S.UNSUPPORTED);
    assert.deepEqual((await getVar(svc, 'Base')).data, bytes(1, 2, 3, 4));
  });

  test('APPEND_WRITE on a missing variable creates it without the APPEND bit (item 31)', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'AppNew', 0x42, [1, 2, 3]), S.SUCCESS);
    const g = await getVar(svc, 'AppNew', { dataSize: 16 });
    assert.deepEqual([g.status, g.attributes, g.data], [S.SUCCESS, 2, bytes(1, 2, 3)]);
    assert.equal(svc.variables().at(-1)!.attributes, 2);
  });

  test('a variable may be recreated with other attributes after it was deleted', async () => {
    const svc = await freshService();
    await setVar(svc, 'Again', 7, [1]);
    assert.equal(await setVar(svc, 'Again', 0, []), S.SUCCESS);
    assert.equal(await setVar(svc, 'Again', 2, new Uint8Array(18)), S.SUCCESS);
    const g = await getVar(svc, 'Again', { dataSize: 0 });
    assert.deepEqual([g.status, g.size, g.attributes], [S.BUFFER_TOO_SMALL, 18n, 2]);
  });

  test('the stored data is a copy: later changes to the request buffer do not reach the store', async () => {
    const svc = await freshService();
    const req = setVariableRequest({ name: 'Copy', guid: TEST_GUID, attributes: 7, data: bytes(1, 2) });
    await call(svc, req);
    req.fill(0xff);
    assert.deepEqual((await getVar(svc, 'Copy')).data, bytes(1, 2));
  });
});

describe('SetVariable processing order (spec §2.5.3)', () => {
  test('1. MessageLength below 52 returns EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await freshService();
    const req = withMessageLength(setVariableRequest({ name: 'Max', guid: TEST_GUID, attributes: 2, data: bytes(1) }), 51);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('2. DataSize above max_storage returns EFI_OUT_OF_RESOURCES, before the size-against-message check', async () => {
    const svc = await freshService();
    const req = withU64(setVariableRequest({ name: 'Max', guid: TEST_GUID, attributes: 2, data: new Uint8Array(16) }), OFF.access.dataSize, 262145);
    assert.equal((await call(svc, req)).returnStatus, S.OUT_OF_RESOURCES);
  });

  test('2. NameSize above max_storage returns EFI_OUT_OF_RESOURCES', async () => {
    const svc = await freshService();
    const req = withU64(setVariableRequest({ name: 'Max', guid: TEST_GUID, attributes: 2, data: new Uint8Array(16) }), OFF.access.nameSize, 262145);
    assert.equal((await call(svc, req)).returnStatus, S.OUT_OF_RESOURCES);
  });

  test('3. DataSize running past the message returns EFI_BAD_BUFFER_SIZE and stores nothing', async () => {
    const svc = await freshService();
    const before = image(svc.variables());
    const req = withU64(setVariableRequest({ name: 'Max', guid: TEST_GUID, attributes: 2, data: new Uint8Array(16) }), OFF.access.dataSize, 100);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
    assert.deepEqual(image(svc.variables()), before);
  });

  test('3. NameSize running past the message returns EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await freshService();
    const req = withU64(setVariableRequest({ name: 'Max', guid: TEST_GUID, attributes: 2, data: new Uint8Array(4) }), OFF.access.nameSize, 40);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('3. name plus data exactly filling the message is accepted', async () => {
    const svc = await freshService();
    const req = withMessageLength(setVariableRequest({ name: 'Max', guid: TEST_GUID, attributes: 2, data: new Uint8Array(65452) }), 65512);
    assert.equal((await call(svc, req)).returnStatus, S.SUCCESS);
  });

  test('4. a surrogate in the name returns EFI_INVALID_PARAMETER before the attributes are looked at', async () => {
    const svc = await freshService();
    const name = Uint8Array.of(0x41, 0, 0x00, 0xd8, 0, 0);
    assert.equal(await setVar(svc, name, 0x80, [1]), S.INVALID_PARAMETER);
  });

  test('8.2 unsupported attribute bits are refused before the access check (0x80 alone: EFI_UNSUPPORTED, not EFI_ACCESS_DENIED)', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'Attr80', 0x80, [1, 2, 3, 4]), S.UNSUPPORTED);
  });

  test('8.3 the attribute mismatch is checked after the new attributes are found acceptable', async () => {
    const svc = await freshService();
    await setVar(svc, 'V', 7, [1]);
    assert.equal(await setVar(svc, 'V', 0x87, [1]), S.UNSUPPORTED);
    assert.equal(await setVar(svc, 'V', 0x1, [1]), S.ACCESS_DENIED);
    assert.equal(await setVar(svc, 'V', 0x3, [1]), S.INVALID_PARAMETER);
  });
});
