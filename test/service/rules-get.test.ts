/**
 * GET_VARIABLE (spec §2.5.1 check order; §8 items 21-26).
 * Expected values from traces/qemu-conformance get-buffer-sizes, get-malformed,
 * payload-size-buffers and payload-size-limits.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshService, call, getVar, setVar, fn, S, TEST_GUID, OTHER_GUID, OFF, withU64, withU32, withMessageLength,
  variableRequest, bytes,
} from '../helpers/service.js';
import { getVariableRequest } from '../../src/client/requests.js';
import { encodeName } from '../../src/wire/ucs2.js';

const surrogateName = (u: number): Uint8Array => Uint8Array.of(0x41, 0, u & 0xff, u >>> 8, 0, 0);

describe('GetVariable answers (items 21-23)', () => {
  test('a buffer one byte short returns EFI_BUFFER_TOO_SMALL, the needed DataSize and the attributes (item 21)', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'Buf4', 7, [0xde, 0xad, 0xbe, 0xef]), S.SUCCESS);
    for (const dataSize of [0, 1, 2, 3]) {
      const g = await getVar(svc, 'Buf4', { dataSize });
      assert.equal(g.status, S.BUFFER_TOO_SMALL, `DataSize ${dataSize}`);
      assert.equal(g.size, 4n);
      assert.equal(g.attributes, 7);
    }
  });

  test('EFI_BUFFER_TOO_SMALL leaves the caller\'s data area untouched', async () => {
    const svc = await freshService();
    await setVar(svc, 'Buf4', 7, [0xde, 0xad, 0xbe, 0xef]);
    const m = await call(svc, getVariableRequest({ name: 'Buf4', guid: TEST_GUID, dataSize: 3 }));
    assert.ok(m.payload.kind === 'access-variable');
    assert.deepEqual(m.payload.data, new Uint8Array(3));
  });

  test('an exact or larger buffer returns EFI_SUCCESS, the data and the stored attributes (item 22)', async () => {
    const svc = await freshService();
    await setVar(svc, 'Buf4', 7, [0xde, 0xad, 0xbe, 0xef]);
    for (const dataSize of [4, 5, 4096, 60000]) {
      const g = await getVar(svc, 'Buf4', { dataSize });
      assert.equal(g.status, S.SUCCESS, `DataSize ${dataSize}`);
      assert.deepEqual(g.data, bytes(0xde, 0xad, 0xbe, 0xef));
      assert.equal(g.size, 4n);
      assert.equal(g.attributes, 7);
    }
  });

  test('the returned attributes never include APPEND_WRITE, even when the variable was created with it (item 22)', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'AppNew', 0x47, [1, 2, 3]), S.SUCCESS);
    assert.equal((await getVar(svc, 'AppNew')).attributes, 7);
  });

  test('the Attributes the caller passes in are ignored', async () => {
    const svc = await freshService();
    await setVar(svc, 'Buf4', 3, [1]);
    const req = withU32(getVariableRequest({ name: 'Buf4', guid: TEST_GUID, dataSize: 4 }), OFF.access.attributes, 0xffffffff);
    const m = await call(svc, req);
    assert.equal(m.returnStatus, S.SUCCESS);
    assert.ok(m.payload.kind === 'access-variable');
    assert.equal(m.payload.attributes, 3);
  });

  test('a missing variable returns EFI_NOT_FOUND (item 23)', async () => {
    const svc = await freshService();
    assert.equal((await getVar(svc, 'Missing')).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'PK', { guid: '8be4df61-93ca-11d2-aa0d-00e098032b8c' })).status, S.NOT_FOUND);
  });

  test('the right name under another GUID, a prefix and an extension of the name are all EFI_NOT_FOUND', async () => {
    const svc = await freshService();
    await setVar(svc, 'Buf4', 7, [1]);
    assert.equal((await getVar(svc, 'Buf4', { guid: OTHER_GUID })).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'Buf')).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'Buf44')).status, S.NOT_FOUND);
  });

  test('EFI_NOT_FOUND leaves DataSize and Attributes as the caller sent them', async () => {
    const svc = await freshService();
    const req = withU32(getVariableRequest({ name: 'Missing', guid: TEST_GUID, dataSize: 8 }), OFF.access.attributes, 0x1234);
    const m = await call(svc, req);
    assert.ok(m.payload.kind === 'access-variable');
    assert.equal(m.payload.dataSize, 8n);
    assert.equal(m.payload.attributes, 0x1234);
  });
});

describe('GetVariable check order (spec §2.5.1)', () => {
  test('1. MessageLength below 52 returns EFI_BAD_BUFFER_SIZE (item 24)', async () => {
    const svc = await freshService();
    await setVar(svc, 'X', 2, [1, 2, 3]);
    const req = withMessageLength(getVariableRequest({ name: 'X', guid: TEST_GUID, dataSize: 3 }), 51);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
    assert.equal((await call(svc, variableRequest(1))).returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('2. NameSize above max_storage returns EFI_OUT_OF_RESOURCES before the name is looked at (item 25)', async () => {
    const svc = await freshService();
    await setVar(svc, 'X', 2, [1, 2, 3]);
    const req = withU64(getVariableRequest({ name: 'X', guid: TEST_GUID, dataSize: 3 }), OFF.access.nameSize, 262145);
    assert.equal((await call(svc, req)).returnStatus, S.OUT_OF_RESOURCES);
  });

  test('2. DataSize above max_storage returns EFI_OUT_OF_RESOURCES', async () => {
    const svc = await freshService();
    await setVar(svc, 'X', 2, [1, 2, 3]);
    const req = withU64(getVariableRequest({ name: 'X', guid: TEST_GUID, dataSize: 3 }), OFF.access.dataSize, 262145);
    assert.equal((await call(svc, req)).returnStatus, S.OUT_OF_RESOURCES);
  });

  test('2. max_storage is the size option: NameSize 65537 is EFI_OUT_OF_RESOURCES with size 65536, only EFI_BAD_BUFFER_SIZE with the default', async () => {
    const small = await freshService({ options: { size: 65536 } });
    const req = withU64(getVariableRequest({ name: 'X', guid: TEST_GUID, dataSize: 3 }), OFF.access.nameSize, 65537);
    assert.equal((await call(small, req)).returnStatus, S.OUT_OF_RESOURCES);
    const dflt = await freshService();
    assert.equal((await call(dflt, req)).returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('3. a NameSize running past the message returns EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await freshService();
    await setVar(svc, 'X', 2, [1, 2, 3]);
    const req = withU64(withMessageLength(getVariableRequest({ name: 'X', guid: TEST_GUID, dataSize: 0 }), 56), OFF.access.nameSize, 200);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
  });

  for (const u of [0xd800, 0xdbff, 0xdc00, 0xdfff]) {
    test(`4. a name holding the surrogate U+${u.toString(16).toUpperCase()} returns EFI_INVALID_PARAMETER (item 26)`, async () => {
      const svc = await freshService();
      assert.equal((await getVar(svc, surrogateName(u), { dataSize: 8 })).status, S.INVALID_PARAMETER);
    });
  }

  test('5. a valid name that is not stored returns EFI_NOT_FOUND, a non-ASCII one too', async () => {
    const svc = await freshService();
    assert.equal((await getVar(svc, 'été', { dataSize: 8 })).status, S.NOT_FOUND);
  });

  test('6. a boot-services-only variable after ExitBootServices returns EFI_ACCESS_DENIED before the size check', async () => {
    const svc = await freshService();
    await setVar(svc, 'Ph02', 2, [1, 2, 3]);
    await fn(svc, 6);
    assert.equal((await getVar(svc, 'Ph02', { dataSize: 3 })).status, S.ACCESS_DENIED);
    // A DataSize that could never fit the buffer still answers ACCESS_DENIED: step 6 comes before step 7.
    const req = withU64(getVariableRequest({ name: 'Ph02', guid: TEST_GUID, dataSize: 3 }), OFF.access.dataSize, 100000);
    assert.equal((await call(svc, req)).returnStatus, S.ACCESS_DENIED);
  });

  test('7. a requested DataSize whose reply cannot fit the 64 KiB buffer returns EFI_BAD_BUFFER_SIZE even though the variable is small', async () => {
    const svc = await freshService();
    await setVar(svc, 'X', 2, [1, 2, 3]);
    const req = withU64(getVariableRequest({ name: 'X', guid: TEST_GUID, dataSize: 3 }), OFF.access.dataSize, 100000);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('7. the fit is against buffer − 24: with a 4 KiB buffer DataSize 4010 fits exactly, 4011 does not', async () => {
    // payload-size-buffers seq 4: NameSize 10, DataSize 4010 → L = 16 + 36 + 10 + 4010 = 4072 = 4096 − 24.
    const svc = await freshService();
    await setVar(svc, 'Fits', 2, new Uint8Array(4000).fill(7));
    const exact = await call(svc, getVariableRequest({ name: 'Fits', guid: TEST_GUID, dataSize: 4010 }), 4096);
    assert.equal(exact.returnStatus, S.SUCCESS);
    const small = getVariableRequest({ name: 'Fits', guid: TEST_GUID, dataSize: 4000 });
    const over = await call(svc, withU64(small, OFF.access.dataSize, 4011), 4096);
    assert.equal(over.returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('8. a variable filling the transport (65452 data bytes) reads back; one byte less room is EFI_BUFFER_TOO_SMALL', async () => {
    // payload-size-limits seq 1-3.
    const svc = await freshService();
    const data = Uint8Array.from({ length: 65452 }, (_, i) => i & 0xff);
    assert.equal(await setVar(svc, 'Max', 2, data), S.SUCCESS);
    const g = await getVar(svc, 'Max', { dataSize: 65452 });
    assert.equal(g.status, S.SUCCESS);
    assert.deepEqual(g.data, data);
    const short = await getVar(svc, 'Max', { dataSize: 65451 });
    assert.equal(short.status, S.BUFFER_TOO_SMALL);
    assert.equal(short.size, 65452n);
  });

  test('names are looked up up to the first NUL: a longer NameSize with zero padding finds the variable', async () => {
    const svc = await freshService();
    await setVar(svc, 'Pad', 7, [5]);
    const padded = new Uint8Array(20);
    padded.set(encodeName('Pad'));
    const g = await getVar(svc, padded);
    assert.equal(g.status, S.SUCCESS);
    assert.deepEqual(g.data, bytes(5));
  });
});
