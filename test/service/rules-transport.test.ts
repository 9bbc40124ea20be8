/**
 * Transport-level answers (spec §1.4, §1.5, §2.1, §2.3, §2.4; §8 items 6-10, 17, 37, 38).
 * Expected values from the spec and traces/qemu-conformance (unknown-mm-guids,
 * unknown-functions, payload-size-buffers, getnext-errors).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshService, raw, call, S, TEST_GUID, setVar, payloadSize, variableRequest, mmRequest,
  withMessageLength, withU64, OFF, bytes,
} from '../helpers/service.js';
import {
  getVariableRequest, setVariableRequest, getNextRequest, queryVariableInfoRequest,
  getPayloadSizeRequest, lockVariableRequest, functionOnlyRequest,
} from '../../src/client/requests.js';

const SMM_VARIABLE = bytes(0x33, 0xd5, 0x32, 0xed, 0xe6, 0x99, 0x09, 0x42, 0x9c, 0xc0, 0x2d, 0x72, 0xcd, 0xd9, 0x98, 0xa7);
const VAR_CHECK_POLICY = bytes(0x11, 0x0d, 0x1b, 0xda, 0xa7, 0xd1, 0xc4, 0x46, 0x9d, 0xc9, 0xf3, 0x71, 0x48, 0x75, 0xc6, 0xeb);
const END_OF_DXE = bytes(0x7a, 0x96, 0xce, 0x02, 0x7e, 0xdd, 0xfc, 0x4f, 0x9e, 0xe7, 0x81, 0x0c, 0xf0, 0x47, 0x08, 0x80);
const READY_TO_BOOT = bytes(0xb3, 0x8f, 0xe8, 0x7c, 0xd7, 0x4b, 0x79, 0x46, 0x87, 0xa8, 0xa8, 0xd8, 0xde, 0xe5, 0x0d, 0x2b);
const EXIT_BOOT_SERVICES = bytes(0x55, 0xf0, 0xab, 0x27, 0xb8, 0xb1, 0x26, 0x4c, 0x80, 0x48, 0x74, 0x8f, 0x37, 0xba, 0xa2, 0xdf);

const UNKNOWN_GUIDS: Array<[string, Uint8Array]> = [
  ['the nil GUID', new Uint8Array(16)],
  ['a random GUID', bytes(0xd2, 0xf0, 0xa1, 0xa7, 0x3e, 0x5b, 0x6a, 0x4c, 0x9f, 0x11, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x70)],
  ['the MM Communicate V3 header GUID', bytes(0x53, 0xc8, 0xe8, 0x68, 0xa9, 0x2b, 0xd7, 0x4d, 0x9a, 0xc0, 0x91, 0xe1, 0x61, 0x55, 0xc9, 0x35)],
  ['gEfiSmmVariableProtocolGuid with the last byte changed', bytes(0x33, 0xd5, 0x32, 0xed, 0xe6, 0x99, 0x09, 0x42, 0x9c, 0xc0, 0x2d, 0x72, 0xcd, 0xd9, 0x98, 0xa8)],
];

describe('MM header GUID dispatch (spec §1.5, §2.2; item 7)', () => {
  for (const [what, guid] of UNKNOWN_GUIDS) {
    test(`${what} answers device status 0x11 and writes the request back unchanged`, async () => {
      const svc = await freshService();
      const req = mmRequest(guid, Uint8Array.from({ length: 64 }, (_, i) => i * 7));
      const r = await raw(svc, req);
      assert.equal(r.deviceStatus, 0x11);
      assert.deepEqual(r.reply, req);
    });
  }

  test('an unknown GUID with MessageLength 65512 (the whole 64 KiB buffer) is still echoed with 0x11', async () => {
    const svc = await freshService();
    const req = mmRequest(new Uint8Array(16), 65512);
    const r = await raw(svc, req);
    assert.equal(r.deviceStatus, 0x11);
    assert.deepEqual(r.reply, req);
  });
});

describe('MessageLength checks before dispatch (spec §1.5 steps 1-3; item 6)', () => {
  test('24 + MessageLength beyond the buffer size answers 0x12 and writes nothing back', async () => {
    const svc = await freshService();
    const req = mmRequest(new Uint8Array(16), 65513);
    const r = await raw(svc, req, 65536);
    assert.equal(r.deviceStatus, 0x12);
    assert.equal(r.reply, undefined);
  });

  test('a variable request that fits the buffer exactly (MessageLength 65512) is processed', async () => {
    const svc = await freshService();
    const req = withMessageLength(getPayloadSizeRequest(), 65512);
    const r = await raw(svc, req, 65536);
    assert.equal(r.deviceStatus, 0);
    assert.equal(r.reply!.length, 65536);
  });

  test('a smaller negotiated buffer moves the limit: 4096 accepts MessageLength 4072, not 4073', async () => {
    const svc = await freshService();
    assert.equal((await raw(svc, withMessageLength(getPayloadSizeRequest(), 4072), 4096)).deviceStatus, 0);
    const over = await raw(svc, withMessageLength(getPayloadSizeRequest(), 4073), 4096);
    assert.equal(over.deviceStatus, 0x12);
    assert.equal(over.reply, undefined);
  });

  test('a MessageLength whose 24 + MessageLength overflows 64 bits answers 0x12, no reply', async () => {
    const svc = await freshService();
    const req = withU64(getPayloadSizeRequest(), OFF.messageLength, 0xffffffffffffffe8n);
    const r = await raw(svc, req);
    assert.equal(r.deviceStatus, 0x12);
    assert.equal(r.reply, undefined);
  });

  test('a buffer size below the 24-byte header answers 0x12, no reply', async () => {
    const svc = await freshService();
    const r = await raw(svc, getPayloadSizeRequest(), 23);
    assert.equal(r.deviceStatus, 0x12);
    assert.equal(r.reply, undefined);
  });

  test('a request shorter than its 24-byte header answers 0x12, no reply', async () => {
    const svc = await freshService();
    const r = await raw(svc, new Uint8Array(20));
    assert.equal(r.deviceStatus, 0x12);
    assert.equal(r.reply, undefined);
  });

  test('a request holding fewer bytes than 24 + MessageLength answers 0x12, no reply', async () => {
    const svc = await freshService();
    const req = getPayloadSizeRequest();
    const r = await raw(svc, req.subarray(0, req.length - 1));
    assert.equal(r.deviceStatus, 0x12);
    assert.equal(r.reply, undefined);
  });

  test('bytes past 24 + MessageLength are not part of the reply', async () => {
    const svc = await freshService();
    const req = new Uint8Array(200);
    req.set(getPayloadSizeRequest());
    const r = await raw(svc, req);
    assert.equal(r.deviceStatus, 0);
    assert.equal(r.reply!.length, 24 + 24);
  });
});

describe('variable and policy protocol minimum lengths (spec §1.4, §2.3; items 8, 9)', () => {
  for (const ml of [0, 8, 15]) {
    test(`a variable-protocol message with MessageLength ${ml} (< 16) answers device status 0x12 and is written back unchanged`, async () => {
      const svc = await freshService();
      const req = mmRequest(SMM_VARIABLE, Uint8Array.from({ length: ml }, (_, i) => i + 1));
      const r = await raw(svc, req);
      assert.equal(r.deviceStatus, 0x12);
      assert.deepEqual(r.reply, req);
    });
  }

  test('a variable-protocol message with MessageLength 16 is dispatched (GET_VARIABLE answers EFI_BAD_BUFFER_SIZE)', async () => {
    const svc = await freshService();
    const m = await call(svc, variableRequest(1));
    assert.equal(m.returnStatus, S.BAD_BUFFER_SIZE);
  });

  for (const ml of [0, 19]) {
    test(`a policy message with MessageLength ${ml} (< 20) answers device status 0x12`, async () => {
      const svc = await freshService();
      const req = mmRequest(VAR_CHECK_POLICY, ml);
      const r = await raw(svc, req);
      assert.equal(r.deviceStatus, 0x12);
      assert.deepEqual(r.reply, req);
    });
  }
});

describe('the reply keeps the request\'s header and length (spec §1.5 step 8, §2.3; item 10)', () => {
  const requests: Array<[string, () => Uint8Array]> = [
    ['GET_VARIABLE (found)', () => getVariableRequest({ name: 'Var', guid: TEST_GUID, dataSize: 64 })],
    ['GET_VARIABLE (buffer too small)', () => getVariableRequest({ name: 'Var', guid: TEST_GUID, dataSize: 1 })],
    ['GET_VARIABLE (missing)', () => getVariableRequest({ name: 'Missing', guid: TEST_GUID, dataSize: 8 })],
    ['GET_NEXT_VARIABLE_NAME (name longer than the message)', () => getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 2 })],
    ['GET_NEXT_VARIABLE_NAME', () => getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 1024 })],
    ['SET_VARIABLE', () => setVariableRequest({ name: 'Other', guid: TEST_GUID, attributes: 7, data: bytes(1) })],
    ['QUERY_VARIABLE_INFO', () => queryVariableInfoRequest(7)],
    ['QUERY_VARIABLE_INFO with MessageLength 36', () => withMessageLength(queryVariableInfoRequest(7), 36)],
    ['GET_PAYLOAD_SIZE', () => getPayloadSizeRequest()],
    ['GET_PAYLOAD_SIZE with MessageLength 16', () => withMessageLength(getPayloadSizeRequest(), 16)],
    ['LOCK_VARIABLE', () => lockVariableRequest({ name: 'Var', guid: TEST_GUID })],
    ['READY_TO_BOOT', () => functionOnlyRequest(5)],
    ['EXIT_BOOT_SERVICE', () => functionOnlyRequest(6)],
    ['function 7', () => variableRequest(7, 32)],
    ['function 99', () => variableRequest(99)],
  ];
  for (const [what, build] of requests) {
    test(`${what}: reply is 24 + MessageLength bytes and its 24-byte MM header equals the request's`, async () => {
      const svc = await freshService();
      assert.equal(await setVar(svc, 'Var', 7, [1, 2, 3, 4]), S.SUCCESS);
      const req = build();
      const r = await raw(svc, req);
      assert.equal(r.deviceStatus, 0);
      assert.equal(r.reply!.length, req.length);
      assert.deepEqual(r.reply!.subarray(0, 24), req.subarray(0, 24));
      // the function id is not rewritten either
      assert.deepEqual(r.reply!.subarray(24, 32), req.subarray(24, 32));
    });
  }

  test('process never writes into the caller\'s request buffer', async () => {
    const svc = await freshService();
    await setVar(svc, 'Var', 7, [1, 2, 3, 4]);
    const req = getVariableRequest({ name: 'Var', guid: TEST_GUID, dataSize: 4 });
    const before = req.slice();
    const r = await raw(svc, req);
    assert.notDeepEqual(r.reply, before);
    assert.deepEqual(req, before);
  });
});

describe('generic EFI_BUFFER_TOO_SMALL rule: MessageLength < response length L (spec §2.3)', () => {
  test('GET_PAYLOAD_SIZE with MessageLength 16 (L = 24) answers EFI_BUFFER_TOO_SMALL', async () => {
    const svc = await freshService();
    assert.equal((await call(svc, withMessageLength(getPayloadSizeRequest(), 16))).returnStatus, S.BUFFER_TOO_SMALL);
  });

  test('QUERY_VARIABLE_INFO answers EFI_BUFFER_TOO_SMALL below MessageLength 44 and EFI_SUCCESS from 44', async () => {
    const svc = await freshService();
    assert.equal((await call(svc, withMessageLength(queryVariableInfoRequest(7), 36))).returnStatus, S.BUFFER_TOO_SMALL);
    assert.equal((await call(svc, withMessageLength(queryVariableInfoRequest(7), 43))).returnStatus, S.BUFFER_TOO_SMALL);
    assert.equal((await call(svc, withMessageLength(queryVariableInfoRequest(7), 44))).returnStatus, S.SUCCESS);
  });

  test('GET_VARIABLE whose requested DataSize runs past a short message answers EFI_BUFFER_TOO_SMALL with the real DataSize', async () => {
    const svc = await freshService();
    await setVar(svc, 'Var', 7, [1, 2, 3, 4]);
    // DataSize 10 requested, but the message only has room for 4 data bytes: L = 52 + 8 + 10 > 64.
    const req = withU64(getVariableRequest({ name: 'Var', guid: TEST_GUID, dataSize: 4 }), OFF.access.dataSize, 10);
    const m = await call(svc, req);
    assert.equal(m.returnStatus, S.BUFFER_TOO_SMALL);
    assert.ok(m.payload.kind === 'access-variable');
    assert.equal(m.payload.dataSize, 4n);
  });

  test('GET_NEXT_VARIABLE_NAME with room for one character answers EFI_BUFFER_TOO_SMALL and NameSize 20 for SetupMode', async () => {
    // traces/qemu-conformance/getnext-errors seq 13: NameSize 2, MessageLength 42.
    const svc = await freshService();
    const m = await call(svc, getNextRequest({ name: '', guid: TEST_GUID, bufferSize: 2 }));
    assert.equal(m.returnStatus, S.BUFFER_TOO_SMALL);
    assert.ok(m.payload.kind === 'variable-name');
    assert.equal(m.payload.nameSize, 20n);
  });
});

describe('function ids (spec §2.4; items 37, 38)', () => {
  const unsupported: Array<bigint> = [0n, 7n, 9n, 10n, 12n, 13n, 14n, 15n, 16n, 99n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 63n];
  for (const id of unsupported) {
    test(`function ${id} answers EFI_UNSUPPORTED (MessageLength 48 and 16)`, async () => {
      const svc = await freshService();
      assert.equal((await call(svc, variableRequest(id, 32))).returnStatus, S.UNSUPPORTED);
      assert.equal((await call(svc, variableRequest(id))).returnStatus, S.UNSUPPORTED);
    });
  }

  test('function 2^32 + 1 is not taken for GET_VARIABLE (high half of the UINTN counts)', async () => {
    const svc = await freshService();
    await setVar(svc, 'Var', 7, [1]);
    const req = withU64(getVariableRequest({ name: 'Var', guid: TEST_GUID, dataSize: 4 }), OFF.function, 2n ** 32n + 1n);
    assert.equal((await call(svc, req)).returnStatus, S.UNSUPPORTED);
  });

  for (const id of [5, 6]) {
    test(`function ${id} with MessageLength 16 answers EFI_SUCCESS, also when sent twice and whatever ReturnStatus the guest left`, async () => {
      const svc = await freshService();
      assert.equal((await call(svc, functionOnlyRequest(id))).returnStatus, S.SUCCESS);
      const dirty = withU64(functionOnlyRequest(id), OFF.status, 0x8000000000000003n);
      assert.equal((await call(svc, dirty)).returnStatus, S.SUCCESS);
    });
  }
});

describe('GET_PAYLOAD_SIZE = buffer size − 40 (spec §2.5.6; item 17)', () => {
  // traces/qemu-conformance/payload-size-buffers: 65536 → 65496, 4096 → 4056, 64 → 24.
  for (const [buffer, expected] of [[65536, 65496n], [4096, 4056n], [64, 24n], [1000, 960n], [48, 8n]] as const) {
    test(`with a ${buffer}-byte buffer it answers ${expected} and EFI_SUCCESS`, async () => {
      const svc = await freshService();
      assert.deepEqual(await payloadSize(svc, buffer), { status: S.SUCCESS, size: expected });
    });
  }

  test('the answer follows the buffer size of each request, not the first one', async () => {
    const svc = await freshService();
    assert.equal((await payloadSize(svc, 4096)).size, 4056n);
    assert.equal((await payloadSize(svc, 65536)).size, 65496n);
  });
});

describe('event messages (spec §2.2)', () => {
  const events: Array<[string, Uint8Array]> = [['EndOfDxe', END_OF_DXE], ['ReadyToBoot', READY_TO_BOOT], ['ExitBootServices', EXIT_BOOT_SERVICES]];
  for (const [what, guid] of events) {
    for (const ml of [0, 1, 16]) {
      test(`${what} with MessageLength ${ml} answers device status 0 and is written back unchanged`, async () => {
        const svc = await freshService();
        const req = mmRequest(guid, Uint8Array.from({ length: ml }, (_, i) => 0x40 + i));
        const r = await raw(svc, req);
        assert.equal(r.deviceStatus, 0);
        assert.deepEqual(r.reply, req);
      });
    }
  }
});
