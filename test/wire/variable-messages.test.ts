import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parsePcap } from '../../src/wire/pcap.js';
import {
  decodeMmMessage, encodeMmMessage, decodeAccessVariable, decodeVariableName,
  decodeQueryVariableInfo, decodePayloadSize, type MmMessage,
} from '../../src/wire/mm.js';
import { WireError } from '../../src/wire/errors.js';
import { fromHex } from '../../src/wire/hex.js';
import { nameKey } from '../../src/wire/ucs2.js';
import { TRACES } from '../helpers/service.js';

function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, suffix));
    else if (p.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

const pcaps = filesUnder(TRACES, '.pcap');
const jsonls = filesUnder(join(TRACES, 'qemu-conformance'), '.jsonl');

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

describe('decodeMmMessage / encodeMmMessage on recorded QEMU traffic', () => {
  test('the trace folder holds the pcaps this suite expects', () => {
    assert.ok(pcaps.length >= 33, `found ${pcaps.length} pcaps under ${TRACES}`);
  });

  for (const file of pcaps) {
    test(`decode then encode gives back every request and reply of ${relative(TRACES, file)}`, () => {
      const records = parsePcap(new Uint8Array(readFileSync(file)));
      let checked = 0;
      for (const [i, rec] of records.entries()) {
        if (rec.type === 'reset' || rec.capturedLength !== undefined) continue;
        const again = encodeMmMessage(decodeMmMessage(rec.bytes));
        if (hex(again) !== hex(rec.bytes)) {
          assert.fail(`record ${i} (${rec.type}, ${rec.bytes.length} bytes) does not survive a round trip`);
        }
        checked++;
      }
      assert.ok(checked > 0);
    });
  }
});

interface TraceLine {
  seq: number;
  request: string;
  response: string | null;
  mm_guid_name: string;
  message_length: number;
  function?: number;
  status?: string;
  guid?: string;
  name?: string;
  name_size?: number;
  data_size?: number;
  attributes?: number;
  reply_data_size?: number;
  reply_attributes?: number;
  reply_guid?: string;
  reply_name?: string;
  reply_name_size?: number;
  max_storage?: number;
  remaining_storage?: number;
  max_variable_size?: number;
  payload_size?: number;
  policy_command?: number;
  truncated?: boolean;
}

const plainName = (s: string | undefined): s is string => s !== undefined && /^[\x20-\x5b\x5d-\x7e]*$/.test(s);

describe('field layout agrees with the fields the QEMU trace recorder decoded', () => {
  for (const file of jsonls) {
    test(`every field of ${relative(TRACES, file)} sits where the decoder reads it`, () => {
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TraceLine);
      for (const t of lines) {
        if (t.truncated || t.response === null) continue;
        const at = `seq ${t.seq}`;
        const req = decodeMmMessage(fromHex(t.request));
        const rep = decodeMmMessage(fromHex(t.response));
        if (t.mm_guid_name === 'VarCheckPolicy') {
          if (req.kind === 'policy' && rep.kind === 'policy') {
            assert.equal(req.command, t.policy_command, at);
            assert.equal(rep.result, BigInt(t.status!), at);
          }
          continue;
        }
        if (t.mm_guid_name !== 'SmmVariable' || t.message_length < 16) continue;
        assert.equal(req.kind, 'variable', at);
        assert.equal(rep.kind, 'variable', at);
        if (req.kind !== 'variable' || rep.kind !== 'variable') continue;
        assert.equal(req.function, BigInt(t.function!), at);
        assert.equal(rep.returnStatus, BigInt(t.status!), at);
        const q = req.payload, r = rep.payload;
        if (q.kind === 'access-variable' && r.kind === 'access-variable') {
          assert.equal(q.guid, t.guid, at);
          assert.equal(q.nameSize, BigInt(t.name_size!), at);
          assert.equal(q.dataSize, BigInt(t.data_size!), at);
          assert.equal(q.attributes, t.attributes, at);
          if (plainName(t.name)) assert.equal(nameKey(q.name), t.name, at);
          if (t.reply_data_size !== undefined) assert.equal(r.dataSize, BigInt(t.reply_data_size), at);
          if (t.reply_attributes !== undefined) assert.equal(r.attributes, t.reply_attributes, at);
        } else if (q.kind === 'variable-name' && r.kind === 'variable-name') {
          assert.equal(q.guid, t.guid, at);
          assert.equal(q.nameSize, BigInt(t.name_size!), at);
          if (plainName(t.name)) assert.equal(nameKey(q.name), t.name, at);
          if (t.reply_name_size !== undefined) assert.equal(r.nameSize, BigInt(t.reply_name_size), at);
          if (t.reply_guid !== undefined) assert.equal(r.guid, t.reply_guid, at);
          if (plainName(t.reply_name)) assert.equal(nameKey(r.name), t.reply_name, at);
        } else if (r.kind === 'query-variable-info') {
          if (t.max_storage !== undefined) assert.equal(r.maximumStorageSize, BigInt(t.max_storage), at);
          if (t.remaining_storage !== undefined) assert.equal(r.remainingStorageSize, BigInt(t.remaining_storage), at);
          if (t.max_variable_size !== undefined) assert.equal(r.maximumVariableSize, BigInt(t.max_variable_size), at);
        } else if (r.kind === 'payload-size') {
          if (t.payload_size !== undefined) assert.equal(r.payloadSize, BigInt(t.payload_size), at);
        }
      }
    });
  }
});

describe('decoded shapes', () => {
  // fresh-state seq 3: GetVariable SetupMode, size probe, and QEMU's BUFFER_TOO_SMALL reply.
  const getRequest = fromHex('33d532ede69909429cc02d72cdd998a7480000000000000001000000000000000000000000000000'
    + '61dfe48bca93d211aa0d00e098032b8c' + '0000000000000000' + '1400000000000000' + '00000000'
    + '530065007400750070004d006f0064006500' + '0000');

  test('a GetVariable request decodes to its ACCESS_VARIABLE fields', () => {
    const m = decodeMmMessage(getRequest);
    assert.equal(m.kind, 'variable');
    if (m.kind !== 'variable') return;
    assert.equal(m.function, 1n);
    assert.equal(m.returnStatus, 0n);
    assert.equal(m.payload.kind, 'access-variable');
    if (m.payload.kind !== 'access-variable') return;
    assert.equal(m.payload.guid, '8be4df61-93ca-11d2-aa0d-00e098032b8c');
    assert.equal(m.payload.dataSize, 0n);
    assert.equal(m.payload.nameSize, 20n);
    assert.equal(nameKey(m.payload.name), 'SetupMode');
    assert.equal(m.payload.name.length, 20);
    assert.equal(m.payload.data.length, 0);
    assert.equal(m.payload.trailing.length, 0);
  });

  test('a NameSize running past the message keeps the bytes that are there and still round-trips', () => {
    // get-malformed seq 5: NameSize 200 in a 56-byte message.
    const m: MmMessage = {
      kind: 'variable', function: 1n, returnStatus: 0n,
      payload: { kind: 'access-variable', guid: 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70', dataSize: 3n, nameSize: 200n, attributes: 0, name: Uint8Array.of(0x58, 0, 0, 0), data: new Uint8Array(0), trailing: new Uint8Array(0) },
    };
    const b = encodeMmMessage(m);
    assert.equal(b.length, 24 + 16 + 36 + 4);
    const back = decodeMmMessage(b);
    assert.deepEqual(back, m);
  });

  test('a payload too short for its function stays raw (GET_VARIABLE with MessageLength 16)', () => {
    const b = new Uint8Array(24 + 16);
    b.set(fromHex('33d532ede69909429cc02d72cdd998a7'), 0);
    b[16] = 16; b[24] = 1;
    const m = decodeMmMessage(b);
    assert.deepEqual(m, { kind: 'variable', function: 1n, returnStatus: 0n, payload: { kind: 'raw', bytes: new Uint8Array(0) } });
  });

  test('a variable message shorter than the 16-byte function header decodes as variable-short', () => {
    const b = new Uint8Array(24 + 8);
    b.set(fromHex('33d532ede69909429cc02d72cdd998a7'), 0);
    b[16] = 8;
    const m = decodeMmMessage(b);
    assert.equal(m.kind, 'variable-short');
    assert.deepEqual(encodeMmMessage(m), b);
  });

  test('the three event GUIDs decode as events and other GUIDs as unknown', () => {
    const ev = (g: string): Uint8Array => { const b = new Uint8Array(25); b.set(fromHex(g), 0); b[16] = 1; return b; };
    assert.deepEqual(decodeMmMessage(ev('7a96ce027eddfc4f9ee7810cf0470880')), { kind: 'event', event: 'end-of-dxe', body: new Uint8Array(1) });
    assert.deepEqual(decodeMmMessage(ev('b38fe87cd74b794687a8a8d8dee50d2b')), { kind: 'event', event: 'ready-to-boot', body: new Uint8Array(1) });
    assert.deepEqual(decodeMmMessage(ev('55f0ab27b8b1264c8048748f37baa2df')), { kind: 'event', event: 'exit-boot-services', body: new Uint8Array(1) });
    // The MM Communicate V3 header GUID is not understood (spec §2.1).
    assert.deepEqual(decodeMmMessage(ev('53c8e868a92bd74d9ac091e16155c935')), { kind: 'unknown', guid: '68e8c853-2ba9-4dd7-9ac0-91e16155c935', body: new Uint8Array(1) });
  });

  test('a VarCheckPolicy header decodes its packed fields, Result at the unaligned offset 12', () => {
    const body = fromHex('56435043' + '01000000' + '02000000' + '0400000000000080' + '00');
    const b = new Uint8Array(24 + body.length);
    b.set(fromHex('110d1bdaa7d1c4469dc9f3714875c6eb'), 0);
    b[16] = body.length;
    b.set(body, 24);
    assert.deepEqual(decodeMmMessage(b), { kind: 'policy', signature: 0x43504356, revision: 1, command: 2, result: 0x8000000000000004n, params: Uint8Array.of(0) });
  });

  test('bytes after 24 + MessageLength are not part of the message', () => {
    const padded = new Uint8Array(getRequest.length + 100);
    padded.set(getRequest);
    assert.deepEqual(encodeMmMessage(decodeMmMessage(padded)), getRequest);
  });

  test('encoding a payload layout that does not belong to the function is refused', () => {
    const m: MmMessage = { kind: 'variable', function: 4n, returnStatus: 0n, payload: { kind: 'payload-size', payloadSize: 1n, trailing: new Uint8Array(0) } };
    assert.throws(() => encodeMmMessage(m), (e: unknown) => e instanceof WireError && e.reason === 'bad-value');
  });
});

describe('reading past the end is a named WireError', () => {
  const truncated = (e: unknown): boolean => e instanceof WireError && e.reason === 'truncated';

  test('a buffer shorter than the 24-byte MM header', () => {
    assert.throws(() => decodeMmMessage(new Uint8Array(23)), truncated);
    assert.throws(() => decodeMmMessage(new Uint8Array(0)), truncated);
  });

  test('a MessageLength larger than the bytes that follow the header', () => {
    const b = new Uint8Array(24 + 10);
    b[16] = 11;
    assert.throws(() => decodeMmMessage(b), truncated);
    const huge = new Uint8Array(24);
    new DataView(huge.buffer).setBigUint64(16, 0xffffffffffffffffn, true);
    assert.throws(() => decodeMmMessage(huge), truncated);
  });

  test('each fixed payload layout one byte short', () => {
    assert.throws(() => decodeAccessVariable(new Uint8Array(35)), truncated);
    assert.throws(() => decodeVariableName(new Uint8Array(23)), truncated);
    assert.throws(() => decodeQueryVariableInfo(new Uint8Array(27)), truncated);
    assert.throws(() => decodePayloadSize(new Uint8Array(7)), truncated);
  });

  test('each fixed payload layout at exactly its size decodes', () => {
    assert.equal(decodeAccessVariable(new Uint8Array(36)).kind, 'access-variable');
    assert.equal(decodeVariableName(new Uint8Array(24)).kind, 'variable-name');
    assert.equal(decodeQueryVariableInfo(new Uint8Array(28)).kind, 'query-variable-info');
    assert.equal(decodePayloadSize(new Uint8Array(8)).kind, 'payload-size');
  });
});
