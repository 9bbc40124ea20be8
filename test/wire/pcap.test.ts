import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePcap, encodePcap, LINKTYPE_EDK2_MM, type PcapRecord } from '../../src/wire/pcap.js';
import { WireError } from '../../src/wire/errors.js';
import { TRACES } from '../helpers/service.js';

describe('pcap (spec §6.5)', () => {
  test('LINKTYPE_EDK2_MM is 302', () => {
    assert.equal(LINKTYPE_EDK2_MM, 302);
  });

  test('a QEMU capture parses into reset, request and reply records, requests and replies the same length', () => {
    const recs = parsePcap(new Uint8Array(readFileSync(join(TRACES, 'qemu-conformance/fresh-state.pcap'))));
    assert.equal(recs[0]!.type, 'reset');
    const req = recs.filter((r) => r.type === 'request');
    const rep = recs.filter((r) => r.type === 'reply');
    assert.equal(req.length, 33); // README: fresh-state has 33 requests
    assert.equal(rep.length, 33);
    for (let i = 1; i < recs.length; i += 2) {
      const a = recs[i]!, b = recs[i + 1]!;
      assert.ok(a.type === 'request' && b.type === 'reply');
      assert.equal(a.bytes.length, b.bytes.length);
    }
  });

  test('encodePcap then parsePcap gives back the records', () => {
    const recs: PcapRecord[] = [{ type: 'reset' }, { type: 'request', bytes: Uint8Array.of(1, 2, 3) }, { type: 'reply', bytes: Uint8Array.of(4, 5, 6) }];
    assert.deepEqual(parsePcap(encodePcap(recs)), recs);
  });

  test('the global header says magic a1b2c3d4, version 2.4, snaplen 65536, linktype 302', () => {
    const b = encodePcap([]);
    const v = new DataView(b.buffer);
    assert.equal(b.length, 24);
    assert.equal(v.getUint32(0, true), 0xa1b2c3d4);
    assert.equal(v.getUint16(4, true), 2);
    assert.equal(v.getUint16(6, true), 4);
    assert.equal(v.getUint32(16, true), 65536);
    assert.equal(v.getUint32(20, true), 302);
  });

  test('a record cut at snaplen keeps its original length, zero-filled, and says how much was captured', () => {
    const b = encodePcap([{ type: 'request', bytes: Uint8Array.of(9, 9, 9, 9) }]);
    const v = new DataView(b.buffer);
    v.setUint32(24 + 8, 4 + 2, true); // incl_len: type + 2 bytes
    const cut = b.slice(0, 24 + 16 + 4 + 2);
    const [rec] = parsePcap(cut);
    assert.deepEqual(rec, { type: 'request', bytes: Uint8Array.of(9, 9, 0, 0), capturedLength: 2 });
  });

  test('another linktype is refused', () => {
    const b = encodePcap([]);
    new DataView(b.buffer).setUint32(20, 1, true);
    assert.throws(() => parsePcap(b), (e: unknown) => e instanceof WireError && e.reason === 'bad-value');
  });

  test('a file shorter than its global header, or a record running past the end, is truncated', () => {
    assert.throws(() => parsePcap(new Uint8Array(23)), (e: unknown) => e instanceof WireError && e.reason === 'truncated');
    const b = encodePcap([{ type: 'reply', bytes: new Uint8Array(10) }]);
    assert.throws(() => parsePcap(b.subarray(0, b.length - 1)), (e: unknown) => e instanceof WireError && e.reason === 'truncated');
    assert.throws(() => parsePcap(b.subarray(0, 24 + 10)), (e: unknown) => e instanceof WireError && e.reason === 'truncated');
  });

  test('an unknown record type is refused', () => {
    const b = encodePcap([{ type: 'reset' }]);
    new DataView(b.buffer).setUint32(24 + 16, 7, true);
    assert.throws(() => parsePcap(b), (e: unknown) => e instanceof WireError && e.reason === 'bad-value');
  });
});
