/**
 * EFI_SIGNATURE_LIST parsing (src/wire/siglist.ts) and the Secure Boot list rules
 * (src/auth/siglist-rules.ts). Input: u8 selector, u16-prefixed "existing" data,
 * the rest "incoming". Invariants: a strict parse re-encodes to the same bytes;
 * the lenient scan is a prefix of the strict parse; a list the format check
 * accepts parses; an APPEND filter keeps only incoming entries the existing data
 * lacks, and filtering a list against itself leaves nothing.
 */
import { parseSignatureLists, scanSignatureLists, encodeSignatureLists, x509Certificates, type SignatureList } from '../../src/wire/siglist.js';
import { checkSignatureListFormat, filterAppend } from '../../src/auth/siglist-rules.js';
import { parseAuth2 } from '../../src/auth/descriptor.js';
import { Cursor, check, timed, bytesEqual, chunk, concat, sharedFiles, readShared } from './harness.js';

const VARS = ['PK', 'KEK', 'db', 'dbx', 'dbt', 'dbr'] as const;

function entryKeys(lists: readonly SignatureList[]): string[] {
  const out: string[] = [];
  for (const l of lists) for (const e of l.entries) out.push(`${l.type}/${l.signatureSize}/${e.owner}/${Buffer.from(e.data).toString('hex')}`);
  return out;
}

function roundTrip(data: Uint8Array): SignatureList[] | undefined {
  const strict = parseSignatureLists(data);
  const lenient = scanSignatureLists(data);
  const prefix = encodeSignatureLists(lenient);
  check(bytesEqual(prefix, data.subarray(0, prefix.length)), 'scanned lists do not re-encode to a prefix of the input');
  if (strict) {
    check(bytesEqual(encodeSignatureLists(strict), data), 'parsed lists do not re-encode to the input');
    check(lenient.length === strict.length, 'lenient scan and strict parse disagree on a valid buffer');
  }
  x509Certificates(data);
  return strict;
}

export function fuzz(input: Uint8Array): void {
  timed(() => {
    const c = new Cursor(input);
    const sel = c.u8();
    const existing = c.chunk();
    const incoming = c.rest();
    const strictExisting = roundTrip(existing);
    const strictIncoming = roundTrip(incoming);
    const v = VARS[sel % VARS.length]!;
    const problem = checkSignatureListFormat(v, incoming);
    if (problem === undefined && incoming.length > 0) check(strictIncoming !== undefined, `format check accepted an unparsable ${v}`);
    const extra = filterAppend(existing, incoming);
    if (strictIncoming) {
      const kept = parseSignatureLists(extra);
      check(kept !== undefined, 'APPEND filter produced unparsable lists');
      const have = new Set(entryKeys(scanSignatureLists(existing)));
      const offered = new Set(entryKeys(strictIncoming));
      for (const k of entryKeys(kept)) {
        check(offered.has(k), 'APPEND filter invented an entry');
        check(!have.has(k), 'APPEND filter kept a duplicate of an existing entry');
      }
      if (strictExisting && bytesEqual(existing, incoming)) check(extra.length === 0, 'filtering a list against itself left entries');
    } else {
      check(bytesEqual(extra, incoming), 'APPEND filter changed an unparsable payload');
    }
  });
}

/** Payloads of the real signed updates (after their descriptor) and X.509 lists of the real certificates. */
export function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const payloads: Uint8Array[] = [];
  for (const f of sharedFiles('vectors/signed', (n) => n.endsWith('.bin'))) {
    const d = parseAuth2(readShared(f));
    if (typeof d !== 'string') payloads.push(d.payload);
  }
  for (const f of sharedFiles('vectors/certs', (n) => n.endsWith('.der'))) {
    const der = readShared(f);
    payloads.push(encodeSignatureLists([{ type: 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072', headerSize: 0, signatureSize: 16 + der.length, header: new Uint8Array(0), entries: [{ owner: 'a0baa8a3-041d-48a8-bc87-c36d121b5e3d', data: der }] }]));
  }
  payloads.forEach((p, i) => {
    out.push(concat([Uint8Array.of(i), chunk(new Uint8Array(0)), p]));
    out.push(concat([Uint8Array.of(i + 3), chunk(p), p]));
    const prev = payloads[(i + 1) % payloads.length]!;
    if (prev.length < 0xffff) out.push(concat([Uint8Array.of(i + 1), chunk(prev), p]));
  });
  return out;
}
