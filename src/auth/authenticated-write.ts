import { Guids, guidBytes, type GuidText } from '../wire/guid.js';
import { Attr } from '../wire/attributes.js';
import { compareTime, hasZeroPadFields } from '../wire/time.js';
import { bytesEqual, concatBytes } from '../wire/hex.js';
import { nameWithoutNul } from '../wire/ucs2.js';
import type { Variable } from '../store/variable.js';
import type { VariableStore } from '../store/store.js';
import { Refusal } from './reasons.js';
import type { DeviationId } from '../store/deviations.js';
import { parseAuth2 } from './descriptor.js';
import { verifyDetached, verifyPrivate } from './pkcs7.js';
import { x509Certificates } from '../wire/siglist.js';
import { checkSignatureListFormat } from './siglist-rules.js';
import type { AuthVerifier } from './verifier.js';
import { customModeOn, Names, type SecureBootState, secureBootVariable } from './secure-boot.js';

export interface AuthWrite {
  guid: GuidText;
  name: Uint8Array;
  /** Attributes exactly as passed (TIME_BASED and APPEND_WRITE included). */
  attributes: number;
  data: Uint8Array;
}

export interface AuthEnv {
  store: VariableStore;
  sb: SecureBootState;
  requireSelfSignedPk: boolean;
  allowPkSignedDb: boolean;
  allowKekSignedKekAppend: boolean;
  /** Where the PKCS#7 and signature-list checks run (auth/verifier.ts); the calling thread when absent. */
  verifier?: AuthVerifier | undefined;
}

export interface AuthAccepted {
  /** The new value (after the descriptor); empty = delete request. */
  payload: Uint8Array;
  /** Timestamp to store: the descriptor's, or for APPEND the later of old and new. */
  time: Uint8Array;
  digest?: Uint8Array;
  /** The acceptance is a documented deviation from QEMU (it would refuse, or store something else). */
  deviation?: DeviationId;
}

/**
 * What a time-based authenticated write signs (spec §4.2, UEFI 2.10 §8.2.2):
 * name without NUL ‖ vendor GUID ‖ attributes as passed ‖ timestamp ‖ payload.
 */
export function signedContent(w: AuthWrite, time: Uint8Array, payload: Uint8Array): Uint8Array {
  const attr = new Uint8Array(4);
  new DataView(attr.buffer).setUint32(0, w.attributes >>> 0, true);
  return concatBytes([nameWithoutNul(w.name), guidBytes(w.guid), attr, time, payload]);
}

function anchorsFrom(store: VariableStore, guid: GuidText, name: Uint8Array): Uint8Array[] {
  const v = store.get(guid, name);
  return v ? x509Certificates(v.data) : [];
}

/**
 * Authenticate a SetVariable with TIME_BASED_AUTHENTICATED_WRITE_ACCESS and data
 * (spec §2.5.3 step 6, §4). Returns what to store, or the refusal. Pure apart
 * from reading the store; it never modifies anything.
 */
export async function authenticateWrite(w: AuthWrite, old: Variable | undefined, env: AuthEnv): Promise<AuthAccepted | Refusal> {
  const d = parseAuth2(w.data);
  if (d === 'short') return new Refusal('auth-descriptor-short');
  if (d === 'cert-length') return new Refusal('auth-cert-length');
  if (d === 'revision') return new Refusal('auth-revision');
  if (d === 'cert-type') return new Refusal('auth-cert-type');
  // edk2 AuthVariableLib refuses a timestamp with non-zero Pad1/Nanosecond/TimeZone/
  // Daylight/Pad2 before looking at the signature (vectors scenario P06).
  if (!hasZeroPadFields(d.time)) return new Refusal('auth-time-fields');

  const content = (): Uint8Array => signedContent(w, d.time, d.payload);
  const sbVar = secureBootVariable(w.guid, w.name);
  let digest: Uint8Array | undefined;
  let deviation: DeviationId | undefined;

  if (sbVar) {
    const verify = await verifySecureBootWrite(sbVar, w, d.certData, d.payload, content, env);
    // QEMU (and edk2 for dbr) treats dbt/dbr as private variables, so every decision of ours on
    // them is the key-database rule of UEFI 2.10 §32.6 (docs/deviations.md #15).
    const keyDbRule = sbVar === 'dbt' || sbVar === 'dbr' ? 'dbt-dbr-key-database' : undefined;
    if (verify instanceof Refusal) return keyDbRule && !verify.deviation ? new Refusal(verify.reason, verify.detail, keyDbRule) : verify;
    deviation = keyDbRule ?? (verify === 'wrapped' ? 'pkcs7-content-info' : undefined);
    // edk2 CheckSignatureListFormat: a key database holds well-formed signature lists.
    if (d.payload.length > 0) {
      const problem = env.verifier ? await env.verifier.signatureListFormat(sbVar, d.payload) : checkSignatureListFormat(sbVar, d.payload);
      if (problem) return new Refusal('auth-siglist-format', problem);
    }
  } else {
    if (d.certData.length === 0) return new Refusal('auth-no-signature');
    const r = await (env.verifier ? env.verifier.verifyPrivate(d.certData, content()) : verifyPrivate(d.certData, content()));
    if (!r.ok) return new Refusal(r.reason === 'untrusted' ? 'auth-untrusted' : 'auth-signature', r.detail);
    digest = r.digest;
    // QEMU refuses a ContentInfo-wrapped PKCS#7 (#7) and binds to certificate 0 and the last one (#16).
    deviation = r.wrapped ? 'pkcs7-content-info' : r.qemuBinding ? undefined : 'private-signer-binding';
  }

  let time = d.time;
  if (old) {
    if ((w.attributes & Attr.AP) === 0) {
      // UEFI 2.10 §8.2.2 / edk2: the new timestamp must be strictly later (issue 3;
      // QEMU lets an equal one pass — spec §2.5.3 [DIFF]).
      const order = compareTime(d.time, old.time);
      if (order <= 0) return new Refusal('auth-stale-timestamp', undefined, order === 0 ? 'equal-timestamp' : undefined);
    } else if (compareTime(old.time, d.time) > 0) {
      // edk2 keeps the later of the two timestamps on APPEND (vectors P13).
      time = old.time;
      deviation ??= 'append-keeps-later-time';
    }
    // A private variable stays bound to the signer that created it (spec §4.8).
    if (old.digest || digest) {
      if (!old.digest || !digest || !bytesEqual(old.digest, digest)) {
        return new Refusal('auth-signer-mismatch', undefined, deviation === 'private-signer-binding' ? deviation : undefined);
      }
    }
  }
  const out: AuthAccepted = { payload: d.payload, time };
  if (digest) out.digest = digest;
  if (deviation) out.deviation = deviation;
  return out;
}

/**
 * Who may sign what (spec §4.3, §4.4). Returns a refusal, or undefined when authorised,
 * or 'wrapped' when authorised by a ContentInfo-wrapped PKCS#7 (QEMU refuses that form).
 */
async function verifySecureBootWrite(
  v: ReturnType<typeof secureBootVariable> & string, w: AuthWrite, certData: Uint8Array, payload: Uint8Array,
  content: () => Uint8Array, env: AuthEnv,
): Promise<Refusal | 'wrapped' | undefined> {
  // CustomMode (edk2: with physical presence, which OVMF always asserts) and Setup
  // Mode for everything but PK skip the signature; the descriptor is still required.
  if (customModeOn(env.store)) return undefined;
  if (env.sb.setupMode && v !== 'PK') return undefined;
  const pkStored = env.store.get(Guids.globalVariable, Names.PK) !== undefined;
  if (v === 'PK' && env.sb.setupMode && !pkStored && !env.requireSelfSignedPk) return undefined;
  if (certData.length === 0) return new Refusal('auth-no-signature');

  let anchors: Uint8Array[];
  if (v === 'PK' && env.sb.setupMode && !pkStored) {
    anchors = x509Certificates(payload); // self-signed PK enrolment (QEMU)
  } else if (v === 'PK' || v === 'KEK') {
    anchors = anchorsFrom(env.store, Guids.globalVariable, Names.PK);
    if (v === 'KEK' && env.allowKekSignedKekAppend && (w.attributes & Attr.AP) !== 0) {
      anchors = anchors.concat(anchorsFrom(env.store, Guids.globalVariable, Names.KEK));
    }
  } else {
    anchors = anchorsFrom(env.store, Guids.globalVariable, Names.KEK);
    if (env.allowPkSignedDb) anchors = anchorsFrom(env.store, Guids.globalVariable, Names.PK).concat(anchors);
  }
  if (anchors.length === 0) return new Refusal('auth-no-trust-anchor');
  const r = await (env.verifier ? env.verifier.verifyDetached(certData, content(), anchors) : verifyDetached(certData, content(), anchors));
  if (!r.ok) return new Refusal(r.reason === 'untrusted' ? 'auth-untrusted' : 'auth-signature', r.detail);
  return r.wrapped ? 'wrapped' : undefined;
}
