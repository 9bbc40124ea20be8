import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { DaemonClient } from '../../src/daemon/index.js';
import { startEphemeralDaemon } from '../helpers/ephemeral-daemon.js';
import { setVar, getVar, http, EFI_SUCCESS } from './helpers.js';

test('startEphemeralDaemon (the test helper) serves on a private temp dir and removes it on stop', async () => {
  const e = await startEphemeralDaemon();
  const c = await DaemonClient.connect(e.socketPath, 'bench-1');
  assert.equal(await setVar(c, 'B', Uint8Array.of(1)), EFI_SUCCESS);
  assert.deepEqual((await getVar(c, 'B')).data, Uint8Array.of(1));
  assert.equal((await http({ socketPath: e.apiSocketPath }, 'GET', '/healthz')).status, 200);
  await c.close();
  await e.stop();
  assert.ok(!existsSync(e.dir));
});
