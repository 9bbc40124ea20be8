/**
 * The guest-side request builders produce the exact bytes edk2 sent in the
 * recorded QEMU conformance traces (traces/qemu-conformance/README.md: requests
 * built the way VariableSmmRuntimeDxe and VirtMmCommunicationDxe build them).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  getVariableRequest, setVariableRequest, getNextRequest, queryVariableInfoRequest, getPayloadSizeRequest,
  lockVariableRequest, functionOnlyRequest, eventRequest, replyStatus, replyData,
} from '../../src/client/requests.js';
import { fromHex } from '../../src/wire/hex.js';
import { TRACES } from '../helpers/service.js';

interface Line { seq: number; request: string; response: string }
const lines = (scenario: string): Line[] =>
  readFileSync(join(TRACES, 'qemu-conformance', `${scenario}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
const request = (scenario: string, seq: number): Uint8Array => fromHex(lines(scenario)[seq]!.request);
const response = (scenario: string, seq: number): Uint8Array => fromHex(lines(scenario)[seq]!.response);

const G = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
const T = 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70';
const NIL = '00000000-0000-0000-0000-000000000000';

describe('request builders match the recorded edk2 requests', () => {
  const cases: Array<[string, string, number, () => Uint8Array]> = [
    ['GET_PAYLOAD_SIZE (MessageLength 24)', 'fresh-state', 0, () => getPayloadSizeRequest()],
    ['QueryVariableInfo attr 7 (MessageLength 48)', 'fresh-state', 1, () => queryVariableInfoRequest(7)],
    ['GetNext from the start, caller buffer 1024', 'fresh-state', 2, () => getNextRequest({ name: '', guid: NIL, bufferSize: 1024 })],
    ['GetVariable SetupMode, size probe', 'fresh-state', 3, () => getVariableRequest({ name: 'SetupMode', guid: G, dataSize: 0 })],
    ['GetVariable SetupMode, exact size', 'fresh-state', 4, () => getVariableRequest({ name: 'SetupMode', guid: G, dataSize: 1 })],
    ['GetNext after SetupMode', 'fresh-state', 5, () => getNextRequest({ name: 'SetupMode', guid: G, bufferSize: 1024 })],
    ['SetVariable Buf4 attr 7', 'get-buffer-sizes', 1, () => setVariableRequest({ name: 'Buf4', guid: T, attributes: 7, data: request('get-buffer-sizes', 1).subarray(24 + 16 + 36 + 10) })],
    ['GetVariable Buf4 DataSize 60000', 'get-buffer-sizes', 9, () => getVariableRequest({ name: 'Buf4', guid: T, dataSize: 60000 })],
    ['GetNext with a caller buffer of 4 (MessageLength 44)', 'getnext-errors', 6, () => getNextRequest({ name: 'A', guid: T, bufferSize: 4 })],
    ['LOCK_VARIABLE Locked', 'lock-variable', 2, () => lockVariableRequest({ name: 'Locked', guid: T })],
    ['READY_TO_BOOT function (MessageLength 16)', 'runtime-visibility-functions', 5, () => functionOnlyRequest(5)],
    ['EXIT_BOOT_SERVICE function (MessageLength 16)', 'runtime-visibility-functions', 7, () => functionOnlyRequest(6)],
    ['ExitBootServices event (MessageLength 1, one zero byte)', 'runtime-visibility-functions', 9, () => eventRequest('exitBootServices')],
    ['EndOfDxe event', 'lock-variable', 8, () => eventRequest('endOfDxe')],
  ];
  for (const [what, scenario, seq, build] of cases) {
    test(`${what} = ${scenario} seq ${seq}`, () => {
      assert.equal(Buffer.from(build()).toString('hex'), Buffer.from(request(scenario, seq)).toString('hex'));
    });
  }
});

describe('reply readers', () => {
  test('replyStatus reads ReturnStatus: EFI_BUFFER_TOO_SMALL for the SetupMode size probe', () => {
    assert.equal(replyStatus(response('fresh-state', 3)), 0x8000000000000005n);
    assert.equal(replyStatus(response('fresh-state', 4)), 0n);
  });

  test('replyData reads the attributes and data of a GetVariable reply', () => {
    assert.deepEqual(replyData(response('fresh-state', 4)), { attributes: 6, data: Uint8Array.of(1) });
  });

  test('replyStatus works on a reply that is a view into a larger buffer', () => {
    const r = response('fresh-state', 3);
    const big = new Uint8Array(r.length + 10);
    big.set(r, 10);
    assert.equal(replyStatus(big.subarray(10)), 0x8000000000000005n);
    assert.deepEqual(replyData(big.subarray(10)).attributes, 6);
  });
});
