/**
 * A fresh device (spec §4.5, §3.6, §3.8; §8 items 17-20). Expected values from the
 * spec and traces/qemu-conformance/fresh-state.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshService, getVar, walk, queryInfo, payloadSize, S, GLOBAL } from '../helpers/service.js';
import { fromHex } from '../../src/wire/hex.js';

const CUSTOM_MODE_GUID = 'c076ec0c-7028-4399-a072-71ee5c448b9f';
const SECURE_BOOT_ENABLE_GUID = 'f0a30bc7-af08-4556-99c4-001009c93a44';
// spec §2.2 binary forms of SHA256, SHA384, SHA512, RSA2048, X509, in that order (spec §4.5).
const SIGNATURE_SUPPORT = fromHex(
  '2616c4c14c509240aca941f936934328' + '07533effd09fc94885f18ad56c701e01' + 'ae0f3e09c4a6504f9f1bd41e2b89c19a'
  + 'e866573c9c26344eaa14ed776e85b3b6' + 'a159c0a5e494a74a87b5ab155c2bf072');

describe('fresh device', () => {
  test('GET_PAYLOAD_SIZE with a 64 KiB buffer returns 65496 and EFI_SUCCESS (item 17)', async () => {
    assert.deepEqual(await payloadSize(await freshService()), { status: S.SUCCESS, size: 65496n });
  });

  test('QueryVariableInfo returns max 262144, remaining 261337, max variable 65536 and attributes 0 (item 18)', async () => {
    assert.deepEqual(await queryInfo(await freshService()), {
      status: S.SUCCESS, maximumStorageSize: 262144n, remainingStorageSize: 261337n, maximumVariableSize: 65536n, attributes: 0,
    });
  });

  test('the enumeration is SetupMode, SignatureSupport, SecureBoot, CustomMode, VendorKeysNv, VendorKeys, then EFI_NOT_FOUND (item 19)', async () => {
    assert.deepEqual(await walk(await freshService()), [
      `SetupMode@${GLOBAL}`, `SignatureSupport@${GLOBAL}`, `SecureBoot@${GLOBAL}`,
      `CustomMode@${CUSTOM_MODE_GUID}`, `VendorKeysNv@${GLOBAL}`, `VendorKeys@${GLOBAL}`,
    ]);
  });

  const values: Array<[string, string, number, Uint8Array]> = [
    ['SetupMode', GLOBAL, 0x06, Uint8Array.of(1)],
    ['SignatureSupport', GLOBAL, 0x06, SIGNATURE_SUPPORT],
    ['SecureBoot', GLOBAL, 0x06, Uint8Array.of(0)],
    ['CustomMode', CUSTOM_MODE_GUID, 0x03, Uint8Array.of(0)],
    ['VendorKeysNv', GLOBAL, 0x23, Uint8Array.of(0)],
    ['VendorKeys', GLOBAL, 0x06, Uint8Array.of(0)],
  ];
  for (const [name, guid, attr, data] of values) {
    test(`${name} has attributes 0x${attr.toString(16)} and the value ${Buffer.from(data).toString('hex').slice(0, 16)}${data.length > 8 ? '… (80 bytes)' : ''} (item 20)`, async () => {
      const g = await getVar(await freshService(), name, { guid, dataSize: 4096 });
      assert.deepEqual([g.status, g.attributes, g.data], [S.SUCCESS, attr, data]);
    });
  }

  test('SecureBootEnable, PK, KEK, db and dbx do not exist (item 20)', async () => {
    const svc = await freshService();
    assert.equal((await getVar(svc, 'SecureBootEnable', { guid: SECURE_BOOT_ENABLE_GUID, dataSize: 16 })).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'PK', { guid: GLOBAL })).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'KEK', { guid: GLOBAL })).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'db', { guid: 'd719b2cb-3d3a-4596-a3bc-dad00e67656f' })).status, S.NOT_FOUND);
    assert.equal((await getVar(svc, 'dbx', { guid: 'd719b2cb-3d3a-4596-a3bc-dad00e67656f' })).status, S.NOT_FOUND);
  });

  test('the six variables cost 117 + 210 + 119 + 119 + 123 + 119 = 807 bytes (spec §3.8)', async () => {
    assert.equal((await freshService()).usedStorage, 807);
  });

  test('only CustomMode and VendorKeysNv are non-volatile', async () => {
    const nv = (await freshService()).nonVolatileVariables().map((v) => v.guid + '/' + Buffer.from(v.name).toString('utf16le'));
    assert.deepEqual(nv, [`${CUSTOM_MODE_GUID}/CustomMode\0`, `${GLOBAL}/VendorKeysNv\0`]);
  });
});
