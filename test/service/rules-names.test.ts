/**
 * Variable names (spec §3.1; §8 item 26). Expected values from the spec and
 * traces/qemu-conformance get-buffer-sizes, get-malformed, deviations/name-validation.
 * Two rules are ours on purpose (spec marks QEMU's behaviour [BUG]): empty names are
 * refused on SetVariable, and the NUL must lie within NameSize bytes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshService, getVar, setVar, nextVar, walkNames, S, TEST_GUID, GLOBAL, image, bytes, call, OFF, withU64,
} from '../helpers/service.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { getNextRequest, setVariableRequest } from '../../src/client/requests.js';

const units = (...u: number[]): Uint8Array => {
  const b = new Uint8Array(u.length * 2);
  u.forEach((x, i) => { b[2 * i] = x & 0xff; b[2 * i + 1] = x >>> 8; });
  return b;
};
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

describe('names are stored verbatim (spec §3.1)', () => {
  test('bytes after the NUL are kept: GetNext returns the stored NameSize 28 and the junk', async () => {
    const svc = await freshService();
    const raw = units(...ascii('Boot0000'), 0, ...ascii('junk'), 0);
    assert.equal(raw.length, 28);
    assert.equal(await setVar(svc, raw, 2, [1]), S.SUCCESS);
    assert.deepEqual(svc.variables().at(-1)!.name, raw);
    const m = await call(svc, getNextRequest({ name: 'VendorKeys', guid: GLOBAL, bufferSize: 1024 }));
    assert.ok(m.payload.kind === 'variable-name');
    assert.equal(m.payload.nameSize, 28n);
    assert.deepEqual(m.payload.name.subarray(0, 28), raw);
  });

  test('an odd NameSize is kept: "Odd" with NameSize 9 enumerates with NameSize 9', async () => {
    const svc = await freshService();
    const raw = Uint8Array.of(...encodeName('Odd'), 0);
    assert.equal(raw.length, 9);
    assert.equal(await setVar(svc, raw, 2, [1]), S.SUCCESS);
    const n = await nextVar(svc, 'VendorKeys', GLOBAL);
    assert.deepEqual([n.status, n.name, n.size], [S.SUCCESS, 'Odd', 9n]);
    assert.equal((await getVar(svc, 'Odd', { dataSize: 4 })).status, S.SUCCESS);
  });

  test('a write with the same name but other bytes after the NUL updates the one variable and stores the new bytes', async () => {
    const svc = await freshService();
    const first = units(...ascii('Boot0000'), 0, ...ascii('aa'));
    const second = units(...ascii('Boot0000'), 0, ...ascii('bbbb'));
    await setVar(svc, first, 2, [1]);
    assert.equal(await setVar(svc, second, 2, [2]), S.SUCCESS);
    const mine = svc.variables().filter((v) => v.guid === TEST_GUID);
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]!.name, second);
    assert.deepEqual(mine[0]!.data, bytes(2));
  });
});

describe('name equality (spec §3.1)', () => {
  test('equality stops at the first NUL: the plain name finds the one stored with junk after its NUL', async () => {
    const svc = await freshService();
    await setVar(svc, units(...ascii('Boot0000'), 0, ...ascii('junk')), 2, [1]);
    const g = await getVar(svc, 'Boot0000', { dataSize: 4 });
    assert.deepEqual([g.status, g.data], [S.SUCCESS, bytes(1)]);
  });

  test('names are case-sensitive: "buf4" does not find "Buf4", and writing "BUF4" makes a second variable', async () => {
    const svc = await freshService();
    await setVar(svc, 'Buf4', 7, [1]);
    assert.equal((await getVar(svc, 'buf4')).status, S.NOT_FOUND);
    assert.equal(await setVar(svc, 'BUF4', 7, [2]), S.SUCCESS);
    assert.deepEqual((await getVar(svc, 'Buf4')).data, bytes(1));
    assert.deepEqual((await getVar(svc, 'BUF4')).data, bytes(2));
  });

  test('the same name under two GUIDs is two variables', async () => {
    const svc = await freshService();
    await setVar(svc, 'Twin', 7, [1], TEST_GUID);
    await setVar(svc, 'Twin', 7, [2], GLOBAL);
    assert.deepEqual((await getVar(svc, 'Twin', { guid: TEST_GUID })).data, bytes(1));
    assert.deepEqual((await getVar(svc, 'Twin', { guid: GLOBAL })).data, bytes(2));
  });

  test('names outside ASCII are stored and found', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'été€', 7, [3]), S.SUCCESS);
    assert.deepEqual((await getVar(svc, 'été€')).data, bytes(3));
    assert.equal((await getVar(svc, 'ete€')).status, S.NOT_FOUND);
  });
});

describe('surrogates are rejected (spec §3.1; item 26)', () => {
  for (const u of [0xd800, 0xdbff, 0xdc00, 0xdfff]) {
    test(`U+${u.toString(16).toUpperCase()} in a name: SetVariable, GetVariable and GetNextVariableName return EFI_INVALID_PARAMETER`, async () => {
      const svc = await freshService();
      const name = units(0x41, u, 0);
      assert.equal(await setVar(svc, name, 7, [1]), S.INVALID_PARAMETER);
      assert.equal((await getVar(svc, name)).status, S.INVALID_PARAMETER);
      assert.equal((await nextVar(svc, name, TEST_GUID, 64)).status, S.INVALID_PARAMETER);
    });
  }

  test('a surrogate pair (a valid UTF-16 character outside the BMP) is rejected too: names are UCS-2', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, units(0xd83d, 0xde00, 0), 7, [1]), S.INVALID_PARAMETER);
  });

  test('a surrogate after the NUL does not matter', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, units(0x41, 0, 0xd800), 7, [1]), S.SUCCESS);
  });
});

describe('our NUL and empty-name rules (deliberate differences from QEMU, spec §3.1 / §2.5.3 [BUG])', () => {
  test('ours: SetVariable whose NameSize holds no NUL returns EFI_INVALID_PARAMETER even when the data starts with 00 00 (QEMU accepts)', async () => {
    const svc = await freshService();
    const before = image(svc.variables());
    const req = setVariableRequest({ name: units(...ascii('NoNul')), guid: TEST_GUID, attributes: 2, data: bytes(0, 0, 1, 2, 3, 4) });
    assert.equal((await call(svc, req)).returnStatus, S.INVALID_PARAMETER);
    assert.deepEqual(image(svc.variables()), before);
  });

  test('ours: a NUL that begins inside NameSize but ends outside it (odd NameSize) does not count', async () => {
    const svc = await freshService();
    // NameSize 3: 'A' then one zero byte; the data's first byte would complete the NUL.
    const req = setVariableRequest({ name: Uint8Array.of(0x41, 0, 0), guid: TEST_GUID, attributes: 2, data: bytes(0, 7) });
    assert.equal((await call(svc, req)).returnStatus, S.INVALID_PARAMETER);
  });

  test('ours: GetVariable whose NameSize holds no NUL returns EFI_INVALID_PARAMETER', async () => {
    const svc = await freshService();
    await setVar(svc, 'NoNul', 2, [1]);
    assert.equal((await getVar(svc, units(...ascii('NoNul')), { dataSize: 8 })).status, S.INVALID_PARAMETER);
  });

  test('ours: SetVariable with an empty name returns EFI_INVALID_PARAMETER and stores nothing (QEMU accepts it)', async () => {
    const svc = await freshService();
    const before = image(svc.variables());
    assert.equal(await setVar(svc, '', 2, [1, 2, 3, 4, 5]), S.INVALID_PARAMETER);
    assert.deepEqual(image(svc.variables()), before);
    assert.equal((await getVar(svc, '', { dataSize: 8 })).status, S.NOT_FOUND);
  });

  test('ours: deleting an empty name (DataSize 0) returns EFI_INVALID_PARAMETER too', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, '', 0, []), S.INVALID_PARAMETER);
    assert.equal(await setVar(svc, '', 2, []), S.INVALID_PARAMETER);
  });

  test('ours: with empty names refused the enumeration always ends', async () => {
    const svc = await freshService();
    await setVar(svc, '', 2, [1]);
    assert.deepEqual(await walkNames(svc), ['SetupMode', 'SignatureSupport', 'SecureBoot', 'CustomMode', 'VendorKeysNv', 'VendorKeys']);
  });

  test('the empty name still starts GetNextVariableName (that is how the walk begins)', async () => {
    const svc = await freshService();
    const req = withU64(getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 1024 }), OFF.getNext.nameSize, 1024);
    assert.equal((await call(svc, req)).returnStatus, S.SUCCESS);
  });
});
