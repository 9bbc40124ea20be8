/**
 * Storage accounting, limits and QueryVariableInfo (spec §2.5.4, §3.8; §8 items 18, 39).
 * Expected values from traces/qemu-conformance qvi-accounting, storage-exhaustion-64k,
 * payload-size-limits and deviations/qvi-attributes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshService, call, setVar, deleteVar, getVar, queryInfo, S, OTHER_GUID, image, OFF, withU32, withMessageLength, raw } from '../helpers/service.js';
import { queryVariableInfoRequest } from '../../src/client/requests.js';
import { makeVariable } from '../../src/store/variable.js';
import { encodeName } from '../../src/wire/ucs2.js';

const remaining = async (svc: Awaited<ReturnType<typeof freshService>>): Promise<bigint> => (await queryInfo(svc)).remainingStorageSize;

describe('accounting: 96 + NameSize + DataSize per variable (spec §3.8; qvi-accounting)', () => {
  test('each create takes 96 + NameSize + DataSize, each delete gives it back, an overwrite swaps sizes', async () => {
    const svc = await freshService();
    const steps: Array<[string, () => Promise<bigint>, bigint]> = [
      ['Q0 (6, 1)', () => setVar(svc, 'Q0', 7, new Uint8Array(1)), 261234n],
      ['Q1 (6, 10)', () => setVar(svc, 'Q1', 7, new Uint8Array(10)), 261122n],
      ['Q2 (6, 100)', () => setVar(svc, 'Q2', 7, new Uint8Array(100)), 260920n],
      ['Q3 (6, 1000)', () => setVar(svc, 'Q3', 7, new Uint8Array(1000)), 259818n],
      ['Q4 (6, 10000)', () => setVar(svc, 'Q4', 7, new Uint8Array(10000)), 249716n],
      ['shrink Q4 to 5', () => setVar(svc, 'Q4', 7, new Uint8Array(5)), 259711n],
      ['long name (402, 1)', () => setVar(svc, 'Q'.repeat(200), 2, new Uint8Array(1)), 259212n],
      ['delete Q0', () => deleteVar(svc, 'Q0'), 259315n],
      ['delete Q1', () => deleteVar(svc, 'Q1'), 259427n],
      ['delete Q2', () => deleteVar(svc, 'Q2'), 259629n],
      ['delete Q3', () => deleteVar(svc, 'Q3'), 260731n],
      ['delete Q4', () => deleteVar(svc, 'Q4'), 260838n],
      ['delete long name', () => deleteVar(svc, 'Q'.repeat(200)), 261337n],
    ];
    assert.equal(await remaining(svc), 261337n);
    for (const [what, step, expected] of steps) {
      assert.equal(await step(), S.SUCCESS, what);
      assert.equal(await remaining(svc), expected, what);
    }
  });

  test('usedStorage is max_storage − remaining', async () => {
    const svc = await freshService();
    await setVar(svc, 'X', 7, new Uint8Array(123));
    assert.equal(BigInt(svc.usedStorage), 262144n - await remaining(svc));
    assert.equal(svc.usedStorage, 807 + 96 + 4 + 123);
  });

  test('NameSize is the stored one: junk after the NUL and odd sizes count in full', async () => {
    const svc = await freshService();
    const name = new Uint8Array(28);
    name.set(encodeName('Boot0000'));
    name[20] = 0x6a;
    await setVar(svc, name, 2, [1]);
    assert.equal(await remaining(svc), 261337n - (96n + 28n + 1n));
  });

  test('a digest adds its 32 bytes (item 39)', async () => {
    const v = makeVariable({ guid: OTHER_GUID, name: encodeName('Private'), attributes: 0x27, data: new Uint8Array(7), digest: new Uint8Array(32).fill(1) });
    const svc = await freshService({ variables: [v] });
    assert.equal(await remaining(svc), 261337n - (96n + 16n + 7n + 32n));
  });

  test('loaded variables are accounted, an empty one too (json-store-load: 260346 remaining)', async () => {
    const G = '8be4df61-93ca-11d2-aa0d-00e098032b8c', A = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70', P = '0b6e5233-a65c-44c9-9407-d9ab83bfc8bd';
    const v = (guid: string, name: string, attributes: number, n: number): ReturnType<typeof makeVariable> =>
      makeVariable({ guid, name: encodeName(name), attributes, data: new Uint8Array(n) });
    const svc = await freshService({ variables: [
      v(G, 'BootOrder', 7, 4), v(G, 'Boot0000', 7, 28), v(G, 'Lang', 7, 4), v(G, 'Timeout', 7, 2),
      v(A, 'NvBsOnly', 3, 40), v(A, 'UpperHex', 7, 4), v(P, 'AuthLoaded', 39, 7), v(P, 'Empty', 7, 0),
    ] });
    assert.equal(await remaining(svc), 260346n);
  });
});

describe('limits (spec §3.8; item 39)', () => {
  test('size 65536: QueryVariableInfo reports 65536 / 64729 / 16384', async () => {
    const svc = await freshService({ options: { size: 65536 } });
    assert.deepEqual(await queryInfo(svc), { status: S.SUCCESS, maximumStorageSize: 65536n, remainingStorageSize: 64729n, maximumVariableSize: 16384n, attributes: 0 });
  });

  test('size 65536: filling with 8 KiB, 1 KiB, 100 and 1-byte variables stops with EFI_OUT_OF_RESOURCES at QEMU\'s points', async () => {
    const svc = await freshService({ options: { size: 65536 } });
    assert.equal(await setVar(svc, 'TooBig', 7, new Uint8Array(65000)), S.OUT_OF_RESOURCES);
    const fill = async (prefix: string, size: number, ok: number, left: bigint): Promise<void> => {
      for (let i = 0; i < ok; i++) assert.equal(await setVar(svc, `${prefix}_${i}`, 7, new Uint8Array(size)), S.SUCCESS, `${prefix}_${i}`);
      assert.equal(await setVar(svc, `${prefix}_${ok}`, 7, new Uint8Array(size)), S.OUT_OF_RESOURCES, `${prefix}_${ok}`);
      assert.equal(await remaining(svc), left, prefix);
    };
    await fill('S8192', 8192, 7, 6601n);
    await fill('S1024', 1024, 5, 921n);
    await fill('S100', 100, 4, 81n);
    assert.equal(await setVar(svc, 'S1_0', 7, new Uint8Array(1)), S.OUT_OF_RESOURCES);
    assert.equal(await remaining(svc), 81n);
  });

  test('a write that uses the last byte exactly succeeds; one byte more is EFI_OUT_OF_RESOURCES', async () => {
    const svc = await freshService({ options: { size: 65536 } });
    // 64729 remaining; "X" has NameSize 4: 96 + 4 + 64629 = 64729.
    assert.equal(await setVar(svc, 'X', 7, new Uint8Array(64630)), S.OUT_OF_RESOURCES);
    assert.equal(await setVar(svc, 'X', 7, new Uint8Array(64629)), S.SUCCESS);
    assert.equal(await remaining(svc), 0n);
    assert.equal(await setVar(svc, 'Y', 7, new Uint8Array(1)), S.OUT_OF_RESOURCES);
    assert.equal(await deleteVar(svc, 'X'), S.SUCCESS);
    assert.equal(await remaining(svc), 64729n);
  });

  test('EFI_OUT_OF_RESOURCES on an update keeps the old value; a shrinking update of a full store succeeds', async () => {
    const svc = await freshService({ options: { size: 65536 } });
    assert.equal(await setVar(svc, 'X', 7, new Uint8Array(64629).fill(1)), S.SUCCESS);
    const before = image(svc.variables());
    assert.equal(await setVar(svc, 'X', 7, new Uint8Array(64630)), S.OUT_OF_RESOURCES);
    assert.deepEqual(image(svc.variables()), before);
    assert.equal(await setVar(svc, 'X', 7, new Uint8Array(10)), S.SUCCESS);
    assert.equal(await remaining(svc), 64729n - 110n);
  });

  test('NV and volatile variables share one pool', async () => {
    const svc = await freshService({ options: { size: 65536 } });
    assert.equal(await setVar(svc, 'Vol', 2, new Uint8Array(64000)), S.SUCCESS);
    assert.equal(await setVar(svc, 'Nv', 3, new Uint8Array(1000)), S.OUT_OF_RESOURCES);
  });

  test('the size option also bounds NameSize and DataSize (EFI_OUT_OF_RESOURCES above it)', async () => {
    const svc = await freshService({ options: { size: 1000 } });
    assert.equal(await setVar(svc, 'N', 7, new Uint8Array(1001)), S.OUT_OF_RESOURCES);
  });

  test('data delete and refill after exhaustion (storage-exhaustion-64k seq 27-52)', async () => {
    const svc = await freshService({ options: { size: 65536 } });
    for (let i = 0; i < 4; i++) assert.equal(await setVar(svc, `R16000_${i}`, 7, new Uint8Array(16000)), S.SUCCESS);
    assert.equal(await setVar(svc, 'R16000_4', 7, new Uint8Array(16000)), S.OUT_OF_RESOURCES);
    assert.equal(await remaining(svc), 273n);
    assert.equal(await setVar(svc, 'R50_0', 7, new Uint8Array(50)), S.SUCCESS);
    assert.equal(await setVar(svc, 'R50_1', 7, new Uint8Array(50)), S.OUT_OF_RESOURCES);
    assert.equal(await remaining(svc), 115n);
  });

  test('maximumVariableSize (size / 4) is reported but not enforced: size 200000 reports 50000 and accepts 60000 bytes', async () => {
    const svc = await freshService({ options: { size: 200000 } });
    assert.equal((await queryInfo(svc)).maximumVariableSize, 50000n);
    assert.equal(await setVar(svc, 'Big', 2, new Uint8Array(60000)), S.SUCCESS);
    assert.equal((await getVar(svc, 'Big', { dataSize: 60000 })).size, 60000n);
  });
});

describe('QueryVariableInfo (spec §2.5.4)', () => {
  for (const attr of [0, 2, 3, 6, 7, 0xf, 0x27, 0xffffffff]) {
    test(`requested attributes 0x${attr.toString(16)} are ignored: one pool, same numbers, attributes answered 0`, async () => {
      const svc = await freshService();
      assert.deepEqual(await queryInfo(svc, attr), { status: S.SUCCESS, maximumStorageSize: 262144n, remainingStorageSize: 261337n, maximumVariableSize: 65536n, attributes: 0 });
    });
  }

  test('the 4 bytes of padding after Attributes are left as the guest sent them', async () => {
    const svc = await freshService();
    const req = withU32(queryVariableInfoRequest(7), OFF.qvi.pad, 0xa5a5a5a5);
    const r = await raw(svc, req);
    assert.deepEqual(r.reply!.subarray(OFF.qvi.pad, OFF.qvi.pad + 4), Uint8Array.of(0xa5, 0xa5, 0xa5, 0xa5));
  });

  test('a reply that cannot fit the buffer returns EFI_BAD_BUFFER_SIZE (64-byte buffer: L = 44 > 64 − 24)', async () => {
    const svc = await freshService();
    const m = await call(svc, withMessageLength(queryVariableInfoRequest(7), 40), 64);
    assert.equal(m.returnStatus, S.BAD_BUFFER_SIZE);
  });
});
