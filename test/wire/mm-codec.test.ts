import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { WireError } from '../../src/wire/errors.js';
import { Guids, guidBytes, type GuidText } from '../../src/wire/guid.js';
import {
  FUNCTIONS, VarFunction, functionIdOf, functionName, payloadKindOf, isKnownFunction, encodeMmMessage, tryDecodeMmMessage,
  MM_HEADER_SIZE, VAR_HEADER_SIZE, POLICY_HEADER_SIZE, ACCESS_VARIABLE_FIXED, VARIABLE_NAME_FIXED, QUERY_VARIABLE_INFO_FIXED,
  PAYLOAD_SIZE_FIXED, peekRequest, MessageView, type BootEvent, type MmMessage, type VariablePayload, type PayloadKind,
} from '../../src/wire/mm.js';

/**
 * The MM codec (wire/mm.ts) against the spec: every function id of spec §2.4 has
 * one entry with the layout §2.5 gives it; every message kind survives
 * encode → decode; and no byte string makes the decoder throw.
 */
const SPEC = readFileSync(resolve(process.cwd(), '../shared/spec/uefi-vars-spec.md'), 'utf8');

function section(title: string): string {
  const at = SPEC.indexOf(title);
  assert.ok(at >= 0, `spec section ${title}`);
  const end = SPEC.indexOf('\n##', at + title.length);
  return SPEC.slice(at, end < 0 ? undefined : end);
}

test('every function id of spec §2.4 has exactly one entry, under the spec\'s name', () => {
  const rows = [...section('### 2.4 Function ids').matchAll(/^\| (\d+) \| ([A-Z_]+) \|/gm)].map((m) => ({ id: Number(m[1]), name: m[2]! }));
  assert.ok(rows.length >= 14, `spec table rows: ${rows.length}`);
  for (const r of rows) {
    const entries = FUNCTIONS.filter((f) => f.id === r.id);
    assert.equal(entries.length, 1, `function ${r.id}`);
    assert.equal(entries[0]!.name, r.name);
    assert.equal(functionName(r.id), r.name);
    assert.equal(VarFunction[entries[0]!.name], r.id);
  }
  assert.equal(FUNCTIONS.length, rows.length, 'no entry the spec does not list');
  // 0 and >= 15 have no entry (spec: EFI_UNSUPPORTED).
  for (const id of [0, 15, 99, 0xffffffff]) assert.equal(isKnownFunction(id), false, `id ${id}`);
});

test('the payload layout of each function is the one spec §2.5 names for it', () => {
  const layoutOf = (heading: string): PayloadKind =>
    /ACCESS_VARIABLE/.test(heading) ? 'access-variable' : /GET_NEXT_VARIABLE_NAME/.test(heading.split('—')[1] ?? heading) ? 'variable-name'
      : /QUERY_VARIABLE_INFO/.test(heading) ? 'query-variable-info' : /GET_PAYLOAD_SIZE/.test(heading) ? 'payload-size' : 'raw';
  const headings = [...SPEC.matchAll(/^#### 2\.5\.\d+ (.*)$/gm)].map((m) => m[1]!);
  const withLayout = new Map<number, PayloadKind>();
  for (const h of headings) {
    const id = Number(/\((\d+)\)/.exec(h)![1]);
    withLayout.set(id, layoutOf(h));
  }
  assert.equal(withLayout.size, 6);
  for (const f of FUNCTIONS) assert.equal(payloadKindOf(f.id), withLayout.get(f.id) ?? 'raw', f.name);
  for (const f of FUNCTIONS) assert.equal(payloadKindOf(BigInt(f.id)), f.payload);
  // The u64 Function field: a high half set never aliases a small id (spec §2.4).
  assert.equal(payloadKindOf((1n << 32n) + 1n), 'raw');
});

test('functionIdOf reads the low half of the u64 Function field, -1 when the high half is set', () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(8), (fn, pad) => {
    const b = new Uint8Array(pad + 8);
    new DataView(b.buffer).setBigUint64(pad, fn, true);
    const want = fn < (1n << 32n) ? Number(fn) : -1;
    assert.equal(functionIdOf(b, pad), want);
    assert.equal(functionIdOf(new DataView(b.buffer), pad), want);
    assert.equal(new MessageView(b.subarray(pad)).functionId, want);
  }));
});

// ---- generators: one per message kind, in the canonical shape a decoder gives back ----

const u32 = fc.nat({ max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bytes = (max = 48): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const guid: fc.Arbitrary<GuidText> = fc.uuid({ version: [1, 2, 3, 4, 5] }) as fc.Arbitrary<GuidText>;
const fnWith = (kind: PayloadKind): fc.Arbitrary<bigint> => fc.constantFrom(...FUNCTIONS.filter((f) => f.payload === kind).map((f) => BigInt(f.id)));
const rawFunction = fc.oneof(fnWith('raw'), fc.bigInt({ min: 15n, max: (1n << 64n) - 1n }), fc.constant(0n));

/** A name field as decoded: NameSize bytes when they are there, else what is (then nothing after it). */
const sized = (declared: fc.Arbitrary<Uint8Array>): fc.Arbitrary<{ size: bigint; field: Uint8Array; short: boolean }> =>
  fc.tuple(declared, fc.boolean(), fc.nat(64)).map(([field, short, extra]) => ({ size: BigInt(field.length + (short ? extra + 1 : 0)), field, short }));

const accessPayload: fc.Arbitrary<VariablePayload> = fc.tuple(guid, sized(bytes()), sized(bytes()), u32, bytes(8)).map(([g, n, d, attributes, trailing]) => {
  // A short name ends the message: no data, no trailing bytes; a short data field ends it too.
  const data = n.short ? { size: d.size, field: new Uint8Array(0) } : d;
  return {
    kind: 'access-variable', guid: g, nameSize: n.size, dataSize: data.size, attributes, name: n.field, data: data.field,
    trailing: n.short || d.short ? new Uint8Array(0) : trailing,
  };
});
const namePayload: fc.Arbitrary<VariablePayload> = fc.tuple(guid, sized(bytes()), bytes(8)).map(([g, n, trailing]) => ({
  kind: 'variable-name', guid: g, nameSize: n.size, name: n.field, trailing: n.short ? new Uint8Array(0) : trailing,
}));
const qviPayload: fc.Arbitrary<VariablePayload> = fc.tuple(u64, u64, u64, u32, bytes(8)).map(([a, b, c, attributes, trailing]) => ({
  kind: 'query-variable-info', maximumStorageSize: a, remainingStorageSize: b, maximumVariableSize: c, attributes, trailing,
}));
const sizePayload: fc.Arbitrary<VariablePayload> = fc.tuple(u64, bytes(8)).map(([payloadSize, trailing]) => ({ kind: 'payload-size', payloadSize, trailing }));

const FIXED: Record<PayloadKind, number> = {
  'access-variable': ACCESS_VARIABLE_FIXED, 'variable-name': VARIABLE_NAME_FIXED, 'query-variable-info': QUERY_VARIABLE_INFO_FIXED,
  'payload-size': PAYLOAD_SIZE_FIXED, 'raw': 0,
};

const variable: fc.Arbitrary<MmMessage> = fc.tuple(u64, fc.oneof(
  fc.tuple(fnWith('access-variable'), accessPayload),
  fc.tuple(fnWith('variable-name'), namePayload),
  fc.tuple(fnWith('query-variable-info'), qviPayload),
  fc.tuple(fnWith('payload-size'), sizePayload),
  fc.tuple(rawFunction, bytes()).map(([fn, b]) => [fn, { kind: 'raw', bytes: b }] as const),
  // A function with a layout whose payload is shorter than the layout's fixed part stays raw.
  fc.constantFrom(...FUNCTIONS.filter((f) => f.payload !== 'raw')).chain((f) =>
    fc.uint8Array({ maxLength: FIXED[f.payload] - 1 }).map((b) => [BigInt(f.id), { kind: 'raw', bytes: b }] as const)),
)).map(([returnStatus, [fn, payload]]) => ({ kind: 'variable', function: fn, returnStatus, payload: payload as VariablePayload }));

const KNOWN_GUIDS = new Set<string>([Guids.smmVariable, Guids.varCheckPolicy, Guids.endOfDxe, Guids.readyToBoot, Guids.exitBootServices]);
const anyMessage: fc.Arbitrary<MmMessage> = fc.oneof(
  variable,
  bytes(VAR_HEADER_SIZE - 1).map((body): MmMessage => ({ kind: 'variable-short', body })),
  fc.tuple(u32, u32, u32, u64, bytes()).map(([signature, revision, command, result, params]): MmMessage => ({ kind: 'policy', signature, revision, command, result, params })),
  bytes(POLICY_HEADER_SIZE - 1).map((body): MmMessage => ({ kind: 'policy-short', body })),
  fc.tuple(fc.constantFrom<BootEvent>('end-of-dxe', 'ready-to-boot', 'exit-boot-services'), bytes(4)).map(([event, body]): MmMessage => ({ kind: 'event', event, body })),
  fc.tuple(guid.filter((g) => !KNOWN_GUIDS.has(g)), bytes()).map(([g, body]): MmMessage => ({ kind: 'unknown', guid: g, body })),
);

test('encode then decode gives back every message kind (property)', () => {
  const seen = new Set<string>();
  fc.assert(fc.property(anyMessage, (m) => {
    seen.add(m.kind === 'variable' ? `variable/${m.payload.kind}` : m.kind);
    const b = encodeMmMessage(m);
    const back = tryDecodeMmMessage(b);
    assert.deepEqual(back, m);
    // The header says what the body is: MessageLength is exactly what follows it.
    assert.equal(new DataView(b.buffer, b.byteOffset).getBigUint64(16, true), BigInt(b.length - MM_HEADER_SIZE));
  }), { numRuns: 2000 });
  for (const k of ['variable/access-variable', 'variable/variable-name', 'variable/query-variable-info', 'variable/payload-size', 'variable/raw',
    'variable-short', 'policy', 'policy-short', 'event', 'unknown']) assert.ok(seen.has(k), `generated ${k}`);
});

/** Arbitrary bytes, biased toward the known header GUIDs and small MessageLengths so the payload paths are reached. */
const hostile: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.tuple(fc.constantFrom(...KNOWN_GUIDS), fc.bigInt({ min: 0n, max: 160n }), fc.uint8Array({ maxLength: 160 }), u64).map(([g, ml, rest, fn]) => {
    const b = new Uint8Array(MM_HEADER_SIZE + rest.length);
    b.set(guidBytes(g as GuidText));
    b.set(rest, MM_HEADER_SIZE);
    const v = new DataView(b.buffer);
    v.setBigUint64(16, ml, true);
    if (rest.length >= 8 && fn < 16n) v.setBigUint64(MM_HEADER_SIZE, fn, true);
    return b;
  }),
);

test('decode never throws on arbitrary bytes: a typed error or a message that re-encodes to the bytes read (property)', () => {
  fc.assert(fc.property(hostile, (b) => {
    const m = tryDecodeMmMessage(b);
    // peekRequest reads the same buffer in place and must not throw either.
    const p = peekRequest(b);
    if (m.kind === 'error') {
      assert.ok(m.error instanceof WireError);
      assert.equal(m.error.reason, 'truncated');
      const ml = b.length >= MM_HEADER_SIZE ? new DataView(b.buffer, b.byteOffset).getBigUint64(16, true) : -1n;
      assert.ok(b.length < MM_HEADER_SIZE || ml > BigInt(b.length - MM_HEADER_SIZE), 'an error only for a buffer shorter than its header says');
      return;
    }
    const ml = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(16, true));
    assert.deepEqual(encodeMmMessage(m), b.subarray(0, MM_HEADER_SIZE + ml));
    if (m.kind === 'variable' && b.length >= MM_HEADER_SIZE + 8) {
      assert.equal(p.function, m.function < (1n << 32n) ? Number(m.function) : -1);
    }
  }), { numRuns: 3000 });
});
