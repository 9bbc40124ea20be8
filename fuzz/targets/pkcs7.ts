/**
 * PKCS#7 SignedData verification and the trust walk (src/auth/pkcs7.ts) as an
 * authenticated write reaches them: EFI_VARIABLE_AUTHENTICATION_2 descriptor,
 * detached signature over the UEFI signed content, chain to the anchors.
 *
 * Input: u8 selector (which key variable and attributes the content is built
 * for, which anchors), then the SetVariable Data buffer. Invariants: nothing
 * throws; no verification ends in an internal error ("unexpected:"); an accepted
 * signature's chain starts at the signer and ends at one of the anchors.
 */
import { parseAuth2 } from '../../src/auth/descriptor.js';
import { verifyDetached, verifyPrivate } from '../../src/auth/pkcs7.js';
import { signedContent } from '../../src/auth/authenticated-write.js';
import { encodeName } from '../../src/wire/ucs2.js';
import { Guids, type GuidText } from '../../src/wire/guid.js';
import { check, timed, bytesEqual, concat, sharedFiles, readShared } from './harness.js';
import { seeds as certSeeds } from './x509.js';

const TARGETS: readonly { name: string; guid: GuidText }[] = [
  { name: 'KEK', guid: Guids.globalVariable }, { name: 'db', guid: Guids.imageSecurityDatabase },
  { name: 'dbx', guid: Guids.imageSecurityDatabase }, { name: 'PK', guid: Guids.globalVariable },
];

let anchorSets: Uint8Array[][] | undefined;

function anchors(sel: number): Uint8Array[] {
  anchorSets ??= (() => {
    const all = certSeeds();
    return [all, all.filter((_, i) => i % 2 === 0), all.filter((_, i) => i % 2 === 1), []];
  })();
  return anchorSets[sel & 3]!;
}

function checkResult(r: { ok: true; signerCert: Uint8Array; chain?: Uint8Array[] } | { ok: false; reason: string; detail: string }, set: Uint8Array[]): void {
  if (!r.ok) {
    check(!r.detail.startsWith('unexpected:'), `internal error in verification: ${r.detail}`);
    return;
  }
  if (r.chain) {
    check(r.chain.length >= 1 && bytesEqual(r.chain[0]!, r.signerCert), 'chain does not start at the signer');
    const top = r.chain[r.chain.length - 1]!;
    check(set.some((a) => bytesEqual(a, top)), 'chain does not end at an anchor');
  }
}

export async function fuzz(data: Uint8Array): Promise<void> {
  await timed(async () => {
    if (data.length < 1) return;
    const sel = data[0]!;
    const body = data.subarray(1);
    const d = parseAuth2(body);
    if (typeof d === 'string') return;
    const t = TARGETS[sel & 3]!;
    const attributes = sel & 4 ? 0x67 : 0x27;
    const content = signedContent({ guid: t.guid, name: encodeName(t.name), attributes, data: body }, d.time, d.payload);
    const set = anchors(sel >> 3);
    checkResult(await verifyDetached(d.certData, content, set), set);
    if (sel & 0x80) checkResult(await verifyPrivate(d.certData, content), set);
  });
}

/** Every real signed update, with the selector its content was signed for. */
export function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of sharedFiles('vectors/signed', (n) => n.endsWith('.bin'))) {
    const b = readShared(f);
    const t = f.includes('/kek/') ? 0 : f.includes('/dbx/') ? 2 : 1;
    for (const attr of [0, 4]) out.push(concat([Uint8Array.of(t | attr), b]));
  }
  return out;
}
