import { bytesEqual } from '../wire/hex.js';
import { canonicalNameKey, certificateLayout, minimalInteger, tlvAt } from './der.js';
import { isIssuedBy, issuerDer, parseCertificate, subjectDer, type ParsedCert } from './x509.js';

/**
 * The date-free partial-chain trust walk of edk2 Pkcs7Verify (X509_V_FLAG_PARTIAL_CHAIN
 * | NO_CHECK_TIME, X509_PURPOSE_ANY), over certificates known by their DER: names are
 * compared by bytes, then by a canonical key computed once per certificate (der.ts
 * canonicalNameKey, OpenSSL's X509_NAME_cmp); a certificate is decoded with pkijs only
 * when it is about to take part in a signature check. Work is bounded by TRUST_LIMITS.
 */

/**
 * Work bounds of one walk, whatever the input: links in a chain, certificate-signature
 * checks (each one RSA public-key operation), and candidate certificates looked at
 * (a name comparison each). Real payloads use 1–2 links and 1–2 checks.
 */
export const TRUST_LIMITS = { maxChainDepth: 8, maxSignatureChecks: 16, maxChainSteps: 4096 } as const;

/** A certificate in a walk: its exact DER, its serial and names as DER views, its pkijs decoding on demand. */
export class ChainCert {
  private decoded: ParsedCert | null | undefined;
  private keys: { issuer: string; subject: string } | undefined;

  private constructor(readonly der: Uint8Array, readonly serial: Uint8Array, readonly issuer: Uint8Array,
    readonly subject: Uint8Array, private readonly allowTrailing: boolean) {}

  /**
   * From DER. `allowTrailing` for store anchors (read like d2i_X509); a certificate
   * the DER layout check refuses but pkijs decodes (BER from a store) is still usable
   * as an anchor. Undefined when neither reads it.
   */
  static of(der: Uint8Array, allowTrailing = false): ChainCert | undefined {
    const t = tlvAt(der, 0, der.length);
    const l = t && (allowTrailing || t.end === der.length) ? certificateLayout(der, t) : undefined;
    if (l) {
      const v = (x: { body: number; end: number }): Uint8Array => der.subarray(x.body, x.end);
      const whole = (x: { start: number; end: number }): Uint8Array => der.subarray(x.start, x.end);
      return new ChainCert(der.subarray(0, l.cert.end), minimalInteger(v(l.serial)), whole(l.issuer), whole(l.subject), allowTrailing);
    }
    if (!allowTrailing) return undefined;
    const p = parseCertificate(der, true);
    if (!p) return undefined;
    const c = new ChainCert(p.der, minimalInteger(p.cert.serialNumber.valueBlock.valueHexView), issuerDer(p.cert), subjectDer(p.cert), true);
    c.decoded = p;
    return c;
  }

  /** pkijs decoding (cached by bytes in x509.ts); undefined if pkijs refuses it. */
  get parsed(): ParsedCert | undefined {
    if (this.decoded === undefined) this.decoded = parseCertificate(this.der, this.allowTrailing) ?? null;
    return this.decoded ?? undefined;
  }

  private get nameKeys(): { issuer: string; subject: string } {
    this.keys ??= {
      issuer: canonicalNameKey(this.issuer),
      subject: bytesEqual(this.issuer, this.subject) ? canonicalNameKey(this.issuer) : canonicalNameKey(this.subject),
    };
    return this.keys;
  }

  /** Whether this certificate's issuer is the Name `der` (whose canonical key is `key()`, computed by the caller once). */
  issuerIs(der: Uint8Array, key: () => string): boolean {
    return bytesEqual(this.issuer, der) || this.nameKeys.issuer === key();
  }

  /** Whether `parent`'s subject is this certificate's issuer (the name half of an issuer link). */
  namedIssuer(parent: ChainCert): boolean {
    return bytesEqual(this.issuer, parent.subject) || this.nameKeys.issuer === parent.nameKeys.subject;
  }

  /** Self-issued (subject = issuer): the top of any chain built through it. */
  get selfIssued(): boolean {
    return bytesEqual(this.issuer, this.subject) || this.nameKeys.issuer === this.nameKeys.subject;
  }
}

/** Per-walk budget: signature checks and candidate steps left. */
export class Walk {
  private checks: number = TRUST_LIMITS.maxSignatureChecks;
  private steps: number = TRUST_LIMITS.maxChainSteps;
  /** One RSA check; false when the budget is spent. */
  take(): boolean { return this.checks-- > 0; }
  /** One candidate looked at; false when the budget is spent. */
  step(): boolean { return this.steps-- > 0; }
}

/** Whether `parent`'s key signed `child`, decoding both only now. */
async function signedBy(child: ChainCert, parent: ChainCert): Promise<boolean> {
  const c = child.parsed, p = parent.parsed;
  return c !== undefined && p !== undefined && isIssuedBy(c.cert, p.cert);
}

/**
 * A trust anchor from the store, read only when its subject is needed. An anchor that
 * is also embedded in the PKCS#7 (Microsoft ships KEK CA 2011 inside every db/dbx
 * update) reuses that certificate.
 */
export class Anchor {
  private read: ChainCert | null | undefined;
  constructor(readonly der: Uint8Array, private readonly embedded: readonly ChainCert[]) {}
  get cert(): ChainCert | undefined {
    if (this.read === undefined) this.read = this.embedded.find((c) => bytesEqual(c.der, this.der)) ?? ChainCert.of(this.der, true) ?? null;
    return this.read ?? undefined;
  }
}

/**
 * From `cur`, trust holds if cur is byte-identical to an anchor or is signed by one;
 * otherwise climb to an embedded certificate whose subject matches cur's issuer and
 * whose key verifies cur's signature. Depth-first with no repeats on the path (so
 * A-issues-B-issues-A ends), bounded by depth, steps and the signature budget.
 */
export async function walkToAnchor(cur: ChainCert, path: ChainCert[], certs: readonly ChainCert[],
  anchors: readonly Anchor[], walk: Walk): Promise<Uint8Array[] | undefined> {
  const chain = (): Uint8Array[] => path.map((p) => p.der);
  if (anchors.some((a) => bytesEqual(a.der, cur.der))) return chain();
  for (const a of anchors) {
    if (!walk.step()) return undefined;
    const parent = a.cert;
    if (!parent || !cur.namedIssuer(parent)) continue;
    if (!walk.take()) return undefined;
    if (await signedBy(cur, parent)) return [...chain(), a.der];
  }
  if (path.length > TRUST_LIMITS.maxChainDepth || cur.selfIssued) return undefined;
  for (const next of certs) {
    if (!walk.step()) return undefined;
    if (path.some((p) => bytesEqual(p.der, next.der)) || !cur.namedIssuer(next)) continue;
    if (!walk.take()) return undefined;
    if (!(await signedBy(cur, next))) continue;
    const found = await walkToAnchor(next, [...path, next], certs, anchors, walk);
    if (found) return found;
  }
  return undefined;
}

/**
 * Climb from the signer through embedded certificates by verified issuer links (name
 * match + signature) until a self-issued certificate or no further issuer: the last
 * one reached is the root. Undefined if the chain is longer than the depth limit or
 * the budget runs out.
 */
export async function climbToRoot(signer: ChainCert, certs: readonly ChainCert[], walk: Walk): Promise<ChainCert | undefined> {
  const path = [signer];
  let cur = signer;
  while (!cur.selfIssued) {
    let next: ChainCert | undefined;
    for (const c of certs) {
      if (!walk.step()) return undefined;
      if (path.some((p) => bytesEqual(p.der, c.der)) || !cur.namedIssuer(c)) continue;
      if (!walk.take()) return undefined;
      if (await signedBy(cur, c)) { next = c; break; }
    }
    if (!next) break;
    if (path.length > TRUST_LIMITS.maxChainDepth) return undefined;
    path.push(next);
    cur = next;
  }
  return cur;
}
