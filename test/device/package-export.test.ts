import { test } from 'node:test';
import assert from 'node:assert/strict';
// Through the package's exports map, as a JS VMM would import it (DESIGN.md).
import { UefiVarsDevice, ArrayGuestMemory, Edk2MmDriver, UEFI_VARS_MAGIC } from 'uefi-vars/device';
import { VariableService, requests, EfiStatus } from 'uefi-vars';

test('uefi-vars/device embeds the register model over a VMM\'s own guest memory and answers a GetVariable', async () => {
  const svc = await VariableService.create({});
  const memory = new ArrayGuestMemory(0x2000000);
  const device = new UefiVarsDevice(svc, memory);
  assert.equal(device.mmioRead(0, 2), UEFI_VARS_MAGIC);
  const driver = new Edk2MmDriver(device, memory);
  assert.equal(await driver.init(), EfiStatus.SUCCESS);
  const res = await driver.send(requests.getVariableRequest({ name: 'SetupMode', guid: '8be4df61-93ca-11d2-aa0d-00e098032b8c', dataSize: 1 }));
  assert.equal(res.status, EfiStatus.SUCCESS);
  assert.ok(res.reply);
  assert.equal(requests.replyStatus(res.reply), EfiStatus.SUCCESS);
  assert.deepEqual([...requests.replyData(res.reply).data], [1]); // an empty store is in Setup Mode
});
