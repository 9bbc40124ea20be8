import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EfiStatus, DeviceStatus, statusName, statusFromName } from '../../src/wire/status.js';

// Values from spec §2.4 and §1.4.
const SPEC: Array<[string, bigint]> = [
  ['EFI_SUCCESS', 0x0000000000000000n],
  ['EFI_INVALID_PARAMETER', 0x8000000000000002n],
  ['EFI_UNSUPPORTED', 0x8000000000000003n],
  ['EFI_BAD_BUFFER_SIZE', 0x8000000000000004n],
  ['EFI_BUFFER_TOO_SMALL', 0x8000000000000005n],
  ['EFI_NOT_READY', 0x8000000000000006n],
  ['EFI_WRITE_PROTECTED', 0x8000000000000008n],
  ['EFI_OUT_OF_RESOURCES', 0x8000000000000009n],
  ['EFI_NOT_FOUND', 0x800000000000000En],
  ['EFI_ACCESS_DENIED', 0x800000000000000Fn],
  ['EFI_TIMEOUT', 0x8000000000000012n],
  ['EFI_ALREADY_STARTED', 0x8000000000000014n],
  ['EFI_ABORTED', 0x8000000000000015n],
  ['EFI_SECURITY_VIOLATION', 0x800000000000001An],
];

describe('EFI status names', () => {
  for (const [name, value] of SPEC) {
    test(`${name} is 0x${value.toString(16).padStart(16, '0')} both ways`, () => {
      assert.equal(statusName(value), name);
      assert.equal(statusFromName(name), value);
      assert.equal(statusFromName(name.slice(4)), value);
    });
  }

  test('EFI_DEVICE_ERROR (what a failed durable write answers) is 0x8000000000000007', () => {
    assert.equal(EfiStatus.DEVICE_ERROR, 0x8000000000000007n);
    assert.equal(statusName(0x8000000000000007n), 'EFI_DEVICE_ERROR');
  });

  test('an unknown status prints as 16 hex digits', () => {
    assert.equal(statusName(0x8000000000000063n), '0x8000000000000063');
    assert.equal(statusName(1n), '0x0000000000000001');
  });

  test('an unknown name has no value', () => {
    assert.equal(statusFromName('EFI_BOGUS'), undefined);
    assert.equal(statusFromName(''), undefined);
    assert.equal(statusFromName('efi_success'), undefined);
  });

  test('device status codes are 0x00, 0x01, 0x10, 0x11, 0x12 (spec §1.4)', () => {
    assert.deepEqual({ ...DeviceStatus }, { SUCCESS: 0x00, BUSY: 0x01, ERR_UNKNOWN: 0x10, ERR_NOT_SUPPORTED: 0x11, ERR_BAD_BUFFER_SIZE: 0x12 });
  });
});
