/**
 * GET_NEXT_VARIABLE_NAME (spec §2.5.2, §10.3, §10.4; §8 items 35, 36).
 * Expected values from traces/qemu-conformance getnext-errors and
 * deviations/getnext-namesize-capacity.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshService, call, nextVar, setVar, S, TEST_GUID, OTHER_GUID, GLOBAL, OFF, withU64, withMessageLength,
} from '../helpers/service.js';
import { getNextRequest } from '../../src/client/requests.js';
import { encodeName, nameKey } from '../../src/wire/ucs2.js';

const LONG = 'LongerNameForTooSmall_0123456789'; // NameSize 66

async function withTwo(): Promise<Awaited<ReturnType<typeof freshService>>> {
  const svc = await freshService();
  assert.equal(await setVar(svc, 'A', 2, [1]), S.SUCCESS);
  assert.equal(await setVar(svc, LONG, 2, [1]), S.SUCCESS);
  return svc;
}

describe('GetNextVariableName', () => {
  test('an empty current name starts the walk at the first variable, whatever GUID is passed', async () => {
    const svc = await freshService();
    for (const guid of ['00000000-0000-0000-0000-000000000000', TEST_GUID]) {
      const n = await nextVar(svc, '', guid);
      assert.equal(n.status, S.SUCCESS);
      assert.equal(n.name, 'SetupMode');
      assert.equal(n.guid, GLOBAL);
      assert.equal(n.size, 20n);
    }
  });

  test('an unknown current name returns EFI_INVALID_PARAMETER (item 35)', async () => {
    const svc = await withTwo();
    assert.equal((await nextVar(svc, 'NoSuchVariable')).status, S.INVALID_PARAMETER);
  });

  test('a known name under the wrong GUID returns EFI_INVALID_PARAMETER', async () => {
    const svc = await withTwo();
    assert.equal((await nextVar(svc, 'A', OTHER_GUID)).status, S.INVALID_PARAMETER);
  });

  test('the last variable returns EFI_NOT_FOUND', async () => {
    const svc = await withTwo();
    assert.equal((await nextVar(svc, LONG)).status, S.NOT_FOUND);
  });

  test('a caller buffer smaller than the next name returns EFI_BUFFER_TOO_SMALL and the needed NameSize (item 36)', async () => {
    const svc = await withTwo();
    const small = await nextVar(svc, 'A', TEST_GUID, 4);
    assert.equal(small.status, S.BUFFER_TOO_SMALL);
    assert.equal(small.size, 66n);
    const oneShort = await nextVar(svc, 'A', TEST_GUID, 65);
    assert.equal(oneShort.status, S.BUFFER_TOO_SMALL);
    assert.equal(oneShort.size, 66n);
  });

  test('a caller buffer of exactly the next NameSize returns EFI_SUCCESS and the name', async () => {
    const svc = await withTwo();
    const n = await nextVar(svc, 'A', TEST_GUID, 66);
    assert.equal(n.status, S.SUCCESS);
    assert.equal(n.name, LONG);
    assert.equal(n.size, 66n);
  });

  test('EFI_BUFFER_TOO_SMALL writes as much of the next name as the message holds', async () => {
    // runtime-visibility-functions seq 30: MessageLength 48 leaves 8 name bytes: "Setu".
    const svc = await freshService();
    const m = await call(svc, getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 8 }));
    assert.equal(m.returnStatus, S.BUFFER_TOO_SMALL);
    assert.ok(m.payload.kind === 'variable-name');
    assert.equal(nameKey(m.payload.name), 'Setu');
    assert.equal(m.payload.nameSize, 20n);
  });

  test('NameSize is not a capacity: NameSize 2 with a large MessageLength returns EFI_SUCCESS (QEMU, spec §2.5.2 [DIFF]; item 36)', async () => {
    const svc = await freshService();
    const req = withU64(withMessageLength(getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 2 }), 1040), OFF.getNext.nameSize, 2);
    const m = await call(svc, req);
    assert.equal(m.returnStatus, S.SUCCESS);
    assert.ok(m.payload.kind === 'variable-name');
    assert.equal(m.payload.nameSize, 20n);
    assert.equal(nameKey(m.payload.name), 'SetupMode');
  });

  test('the current name is checked within the incoming NameSize: NameSize 0 returns EFI_INVALID_PARAMETER (spec §10.4)', async () => {
    const svc = await freshService();
    const req = withU64(withMessageLength(getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 2 }), 1040), OFF.getNext.nameSize, 0);
    assert.equal((await call(svc, req)).returnStatus, S.INVALID_PARAMETER);
  });

  test('a NameSize shorter than the current name returns EFI_INVALID_PARAMETER even with room in the message (spec §10.4)', async () => {
    const svc = await freshService();
    const req = withU64(getNextRequest({ name: 'SetupMode', guid: GLOBAL, bufferSize: 1024 }), OFF.getNext.nameSize, 10);
    assert.equal((await call(svc, req)).returnStatus, S.INVALID_PARAMETER);
  });

  test('a current name holding a surrogate returns EFI_INVALID_PARAMETER', async () => {
    const svc = await freshService();
    const name = Uint8Array.of(0x41, 0, 0x00, 0xdc, 0, 0);
    assert.equal((await nextVar(svc, name, TEST_GUID, 64)).status, S.INVALID_PARAMETER);
  });
});

describe('GetNextVariableName check order (spec §2.5.2)', () => {
  test('1. MessageLength below 40 returns EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await freshService();
    const req = withMessageLength(getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 2 }), 39);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('2. NameSize above max_storage returns EFI_OUT_OF_RESOURCES', async () => {
    const svc = await withTwo();
    const req = withU64(getNextRequest({ name: 'A', guid: TEST_GUID, bufferSize: 4 }), OFF.getNext.nameSize, 262145);
    assert.equal((await call(svc, req)).returnStatus, S.OUT_OF_RESOURCES);
  });

  test('3. a NameSize running past the message returns EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await withTwo();
    const req = withU64(getNextRequest({ name: 'A', guid: TEST_GUID, bufferSize: 4 }), OFF.getNext.nameSize, 100);
    assert.equal((await call(svc, req)).returnStatus, S.BAD_BUFFER_SIZE);
  });

  test('7. a next name whose reply cannot fit the buffer returns EFI_BAD_BUFFER_SIZE', async () => {
    const svc = await freshService();
    // NameSize 4042: L = 40 + 4042 = 4082 > 4096 − 24.
    const long = 'N'.repeat(2020);
    assert.equal(await setVar(svc, long, 2, [1]), S.SUCCESS);
    const req = getNextRequest({ name: 'VendorKeys', guid: GLOBAL, bufferSize: 4032 });
    assert.equal((await call(svc, req, 4096)).returnStatus, S.BAD_BUFFER_SIZE);
    assert.equal((await call(svc, req, 65536)).returnStatus, S.BUFFER_TOO_SMALL);
  });

  test('the reply carries the stored name bytes, NUL included', async () => {
    const svc = await freshService();
    await setVar(svc, 'Q', 2, [1]);
    const m = await call(svc, getNextRequest({ name: 'VendorKeys', guid: GLOBAL, bufferSize: 1024 }));
    assert.ok(m.payload.kind === 'variable-name');
    assert.equal(m.payload.guid, TEST_GUID);
    assert.deepEqual(m.payload.name.subarray(0, 4), encodeName('Q'));
  });
});
