/** `import { GuestClient } from 'uefi-vars/client'` works through the package's exports map (self-reference). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ClientModule from '../../src/client/index.js';

test("uefi-vars/client resolves through the package name and drives a service", async () => {
  // A variable specifier: TypeScript must not resolve the package while dist/ is being built.
  const specifier = 'uefi-vars/client';
  const m = (await import(specifier)) as typeof ClientModule;
  const client = new m.GuestClient(await m.InProcessTransport.create());
  const r = await client.getVariable('SetupMode', '8be4df61-93ca-11d2-aa0d-00e098032b8c');
  assert.equal(r.status, 0n);
  assert.deepEqual(r.data, Uint8Array.from([1]));
  const list = await client.listVariables(2);
  assert.equal(list.status, 0x800000000000000en);
  assert.equal(list.variables.length, 6);
  const node = (await import(`${specifier}/node`)) as { qemuTarget?: unknown };
  assert.equal(typeof node.qemuTarget, 'function');
});
