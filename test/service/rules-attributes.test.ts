/**
 * Attributes on SetVariable (spec §3.2, §2.5.3 step 6 and 8.2; §8 items 28, 30, 32).
 * Expected values from the spec and traces/qemu-conformance/deviations/attr-matrix,
 * where QEMU answered a create with 4 data bytes for every attribute value.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshService, getVar, setVar, S, TRACES, image } from '../helpers/service.js';

const create = async (attr: number): Promise<bigint> => {
  const svc = await freshService();
  return setVar(svc, 'Attr', attr, [1, 2, 3, 4]);
};

describe('attribute rules (spec §3.2)', () => {
  test('AUTHENTICATED_WRITE_ACCESS (0x10) with data returns EFI_UNSUPPORTED, with or without other bits (item 30: 0x17)', async () => {
    for (const attr of [0x10, 0x12, 0x17, 0x1f, 0x30, 0x37, 0x57]) assert.equal(await create(attr), S.UNSUPPORTED, `0x${attr.toString(16)}`);
  });

  test('bits outside 0x7f with data return EFI_UNSUPPORTED (item 30: 0x87)', async () => {
    for (const attr of [0x80, 0x87, 0x100, 0x1007, 0x80000007, 0xffffffff]) assert.equal(await create(attr), S.UNSUPPORTED, `0x${attr.toString(16)}`);
  });

  test('attributes 0 with data on a new name return EFI_ACCESS_DENIED (QEMU; UEFI would delete)', async () => {
    assert.equal(await create(0), S.ACCESS_DENIED);
    assert.equal(await create(0x40), S.ACCESS_DENIED);
  });

  test('NV alone (0x1) returns EFI_ACCESS_DENIED: neither BS nor RT is set (QEMU; edk2 says INVALID_PARAMETER)', async () => {
    assert.equal(await create(0x1), S.ACCESS_DENIED);
  });

  test('RT without BS before ExitBootServices returns EFI_ACCESS_DENIED (item 32)', async () => {
    for (const attr of [0x4, 0x5, 0xc, 0xd, 0x44]) assert.equal(await create(attr), S.ACCESS_DENIED, `0x${attr.toString(16)}`);
  });

  test('HARDWARE_ERROR_RECORD alone or with NV only returns EFI_ACCESS_DENIED', async () => {
    assert.equal(await create(0x8), S.ACCESS_DENIED);
    assert.equal(await create(0x9), S.ACCESS_DENIED);
  });

  test('HARDWARE_ERROR_RECORD with BS is accepted without edk2\'s HwErrRec checks, and stored as sent', async () => {
    for (const attr of [0xa, 0xb, 0xe, 0xf]) {
      const svc = await freshService();
      assert.equal(await setVar(svc, 'Attr', attr, [1, 2, 3, 4]), S.SUCCESS, `0x${attr.toString(16)}`);
      assert.equal((await getVar(svc, 'Attr')).attributes, attr);
    }
  });

  test('TIME_BASED_AUTHENTICATED_WRITE_ACCESS with 4 data bytes (no room for a descriptor) returns EFI_SECURITY_VIOLATION', async () => {
    for (const attr of [0x20, 0x23, 0x27, 0x67]) assert.equal(await create(attr), S.SECURITY_VIOLATION, `0x${attr.toString(16)}`);
  });

  test('APPEND_WRITE is never stored: 0x47 on a new name is kept as 0x07', async () => {
    const svc = await freshService();
    assert.equal(await setVar(svc, 'Attr', 0x47, [1]), S.SUCCESS);
    assert.equal((await getVar(svc, 'Attr')).attributes, 7);
  });

  test('a refused attribute value stores nothing', async () => {
    const svc = await freshService();
    const before = image(svc.variables());
    for (const attr of [0, 1, 4, 0x10, 0x20, 0x80]) await setVar(svc, 'Attr', attr, [1, 2, 3, 4]);
    assert.deepEqual(image(svc.variables()), before);
  });
});

interface MatrixLine { function_name?: string; attributes?: number; data_size?: number; name?: string; status_name?: string; note?: string }

describe('attribute matrix against QEMU (deviations/attr-matrix: every create 0x00-0x7f and beyond)', () => {
  const lines = readFileSync(join(TRACES, 'qemu-conformance/deviations/attr-matrix.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MatrixLine);
  const creates = lines.filter((l) => l.function_name === 'SET_VARIABLE' && l.note?.startsWith('create attr'));
  const STATUS: Record<string, bigint> = {
    EFI_SUCCESS: S.SUCCESS, EFI_ACCESS_DENIED: S.ACCESS_DENIED, EFI_UNSUPPORTED: S.UNSUPPORTED, EFI_SECURITY_VIOLATION: S.SECURITY_VIOLATION,
  };

  test('the trace holds the 128 values 0x00-0x7f plus six larger ones', () => {
    assert.equal(creates.length, 134);
  });

  test('SetVariable on a fresh name with 4 data bytes answers as QEMU did for every attribute value', async () => {
    const svc = await freshService();
    const wrong: string[] = [];
    for (const l of creates) {
      const expected = STATUS[l.status_name!];
      assert.ok(expected !== undefined, l.status_name);
      const got = await setVar(svc, l.name!, l.attributes!, [0xa5, 0xa5, 0xa5, 0xa5]);
      if (got !== expected) wrong.push(`0x${l.attributes!.toString(16)}: got 0x${got.toString(16)}, QEMU ${l.status_name}`);
      if (got === S.SUCCESS) {
        const g = await getVar(svc, l.name!);
        if (g.attributes !== (l.attributes! & ~0x40)) wrong.push(`0x${l.attributes!.toString(16)} stored as 0x${g.attributes.toString(16)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
