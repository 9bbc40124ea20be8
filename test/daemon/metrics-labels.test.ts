/**
 * Metric labels come from closed sets whatever the guest writes (metrics.ts):
 * the EFI status label is the status's name for the statuses the spec names,
 * EFI_OTHER for any other value, and the device status when nothing was written back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusLabel, functionLabel } from '../../src/daemon/metrics/metrics.js';
import { getVariableRequest } from '../../src/client/requests.js';
import { EfiStatus, DeviceStatus } from '../../src/wire/status.js';
import { TEST_GUID } from '../helpers/service.js';

const request = getVariableRequest({ name: 'X', guid: TEST_GUID, dataSize: 8 });

function replyWith(status: bigint): Uint8Array {
  const r = request.slice();
  new DataView(r.buffer).setBigUint64(24 + 8, status, true); // SMM_VARIABLE ReturnStatus (spec §2.3)
  return r;
}

test('every named EFI status is its own label, and repeated calls give the same string', () => {
  for (const [name, value] of Object.entries(EfiStatus)) {
    const label = statusLabel(request, { deviceStatus: DeviceStatus.SUCCESS, reply: replyWith(value) });
    assert.equal(label, `EFI_${name}`);
    assert.equal(statusLabel(request, { deviceStatus: DeviceStatus.SUCCESS, reply: replyWith(value) }), label);
  }
});

test('unnamed status values, warnings and garbage high bits all count as EFI_OTHER', () => {
  for (const v of [0x8000000000000030n, 0x8000000000000001n, 0x4n, 0x7fn, 0x1234567800000000n, 0xffffffffffffffffn, 0x800000000000ffffn, 0x1_0000_0000n]) {
    assert.equal(statusLabel(request, { deviceStatus: DeviceStatus.SUCCESS, reply: replyWith(v) }), 'EFI_OTHER', `0x${v.toString(16)}`);
  }
});

test('a refused transfer is labelled with the device status', () => {
  assert.equal(statusLabel(request, { deviceStatus: DeviceStatus.ERR_BAD_BUFFER_SIZE, reply: undefined }), 'DEVICE_ERR_BAD_BUFFER_SIZE');
  assert.equal(functionLabel(request), 'GET_VARIABLE');
});
