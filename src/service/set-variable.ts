import { Guids, guidAt, type GuidText } from '../wire/guid.js';
import { checkName, nameKey, qemuAcceptsName } from '../wire/ucs2.js';
import { Attr } from '../wire/attributes.js';
import { Access, type MessageView } from '../wire/mm.js';
import { concatBytes } from '../wire/hex.js';
import { isAccessible } from '../store/access.js';
import { makeVariable, type Variable } from '../store/variable.js';
import { variableCost } from '../store/quota.js';
import { Refusal } from '../auth/reasons.js';
import type { DeviationId } from '../store/deviations.js';
import { authenticateWrite } from '../auth/authenticated-write.js';
import { isReadOnlyVariable, secureBootVariable } from '../auth/secure-boot.js';
import { filterAppend } from '../auth/siglist-rules.js';
import { initializeAuthVariables } from '../auth/init.js';
import { type Outcome, ok, fail, decided, HEADER_ONLY } from './outcome.js';
import { type ServiceState, policyContext } from './context.js';

/** Attribute bits QEMU accepts on a stored variable: NV|BS|RT|HR|AT|APPEND (spec §2.5.3 step 8.2). */
const KNOWN_ATTRIBUTES = 0x6f;
/** Key databases are stored with exactly NV|BS|RT|AT (spec §4.6). */
const SECURE_BOOT_ATTRIBUTES = Attr.NV | Attr.BS | Attr.RT | Attr.AT;

/**
 * SET_VARIABLE (3), spec §2.5.3, in QEMU's order, with the [BUG] items fixed the
 * edk2 way (docs/deviations.md). Nothing changes unless every check passes; a
 * failed durable write rolls the store back.
 */
export function setVariable(s: ServiceState, m: MessageView): Outcome | Promise<Outcome> {
  const a = m.accessFields();
  if (!a) return fail('message-too-short');
  const { dataSize, nameSize, attributes } = a;
  if (nameSize > s.options.size || dataSize > s.options.size) return fail('size-exceeds-storage');
  if (Access.name + nameSize + dataSize > m.length) return fail('field-past-message');
  const problem = checkName(m.bytes, Access.name, nameSize);
  if (problem === 'empty') return fail('name-empty');
  if (problem === 'no-nul') return fail('name-no-nul', HEADER_ONLY, qemuAcceptsName(m.bytes, Access.name, nameSize) ? 'name-without-nul' : undefined);
  if (problem) return fail('name-invalid');

  const guid = guidAt(m.bytes, Access.guid);
  const name = m.bytes.slice(Access.name, Access.name + nameSize);
  const data = m.bytes.subarray(Access.name + nameSize, Access.name + nameSize + dataSize);
  if (isReadOnlyVariable(guid, name)) return fail('read-only-variable');

  const old = s.store.get(guid, name);
  if (dataSize > 0) {
    const stored = attributes & ~Attr.AP;
    if (attributes & Attr.AW) return fail('auth-counter-based');
    if (attributes & Attr.AT) {
      // The one wait in a write before it commits: the signature check (WebCrypto).
      return authenticateWrite({ guid, name, attributes, data }, old, {
        store: s.store, sb: s.sb,
        requireSelfSignedPk: s.options.requireSelfSignedPk,
        allowPkSignedDb: s.options.allowPkSignedDb,
        allowKekSignedKekAppend: s.options.allowKekSignedKekAppend,
        verifier: s.verifier,
      }).then((r) => {
        if (r instanceof Refusal) return fail(r.reason, HEADER_ONLY, r.deviation);
        const next = r.payload.length > 0
          ? makeVariable({ guid, name, attributes: stored, data: r.payload.slice(), time: r.time, digest: r.digest })
          : undefined;
        return applyWrite(s, guid, name, attributes, old, next, r.deviation);
      });
    }
    return applyWrite(s, guid, name, attributes, old, makeVariable({ guid, name, attributes: stored, data: data.slice() }));
  }
  if (old && (old.attributes & Attr.AT)) {
    // spec §3.3 [BUG]: QEMU deletes PK/KEK/db/dbx and private authenticated variables
    // on a bare DataSize 0; edk2 requires a signed empty payload. For a key database
    // edk2's ProcessVarWithPk/ProcessVarWithKek first want NV and TIME_BASED in the
    // attributes (EFI_INVALID_PARAMETER, e.g. Attributes 0); with them, the missing
    // descriptor is EFI_SECURITY_VIOLATION.
    if (secureBootVariable(guid, name) && (attributes & (Attr.NV | Attr.AT)) !== (Attr.NV | Attr.AT)) return fail('key-database-attributes');
    return fail('unauthenticated-delete');
  }
  return applyWrite(s, guid, name, attributes, old, undefined);
}

/** SET_VARIABLE from step 8 on: the new value is known (undefined deletes). */
function applyWrite(
  s: ServiceState, guid: GuidText, name: Uint8Array, attributes: number, old: Variable | undefined, next: Variable | undefined,
  deviation?: DeviationId,
): Outcome | Promise<Outcome> {
  if (!old && !next) return ok(HEADER_ONLY); // deleting nothing succeeds (QEMU, [DIFF] kept)

  // check_update (spec §2.5.3 step 8)
  const runtime = s.flags.exitBootServices;
  if (old && !isAccessible(old.attributes, runtime)) return fail('access-denied-phase');
  if (next) {
    if (next.attributes & ~KNOWN_ATTRIBUTES) return fail('attributes-unsupported');
    if (!isAccessible(next.attributes, runtime)) return fail('access-denied-phase');
  }
  if (old && next && old.attributes !== next.attributes) return fail('attributes-mismatch');

  const verdict = s.policy.checkSetVariable({
    guid, name, attributes, dataSize: next ? next.data.length : 0, isDelete: !next, exists: old !== undefined,
    ...(old ? { oldDataSize: old.data.length, oldAttributes: old.attributes } : {}),
  }, policyContext(s));
  if (verdict.reason) return decided(verdict.reason, HEADER_ONLY, verdict.deviation);
  deviation ??= verdict.deviation;

  const target = (next ?? old)!;
  const sbVar = secureBootVariable(guid, name);
  if (sbVar && target.attributes !== SECURE_BOOT_ATTRIBUTES) return fail('secure-boot-attributes');
  const key = nameKey(name);
  if (s.options.forceSecureBoot && guid === Guids.secureBootEnableDisable && key === 'SecureBootEnable' && target.data[0] !== 1) {
    return fail('force-secure-boot');
  }
  if (s.options.disableCustomMode && guid === Guids.customModeEnable && key === 'CustomMode') return fail('custom-mode-disabled');

  if ((attributes & Attr.AP) && old && next) {
    // APPEND_WRITE: key databases get edk2's duplicate filtering (issue 3; QEMU's
    // lossy rebuild is not reproduced); anything else is refused as QEMU does.
    // The merge goes into the new record, which commits like any write (spec
    // §2.5.3 steps 9, 11; QEMU append_write into new_var): even when every entry
    // was a duplicate the variable moves to the end, its value unchanged and its
    // timestamp the later one (UEFI 2.10 §8.2 SetVariable: an APPEND of no new
    // data changes no value, "the timestamp ... may be updated").
    if (!sbVar) return fail('append-unsupported');
    deviation ??= 'append-filter';
    const extra = filterAppend(old.data, next.data);
    next = makeVariable({ guid, name, attributes: next.attributes, data: concatBytes([old.data, extra]), time: next.time, digest: next.digest });
  }

  const grow = (next ? variableCost(next) : 0) - (old ? variableCost(old) : 0);
  if (s.store.usedStorage + grow > s.options.size) {
    if (grow > 0) return fail('out-of-storage');
    deviation ??= 'storage-shrink-over-limit'; // QEMU refuses this one too (docs/deviations.md #5)
  }
  // The operator's per-VM quota comes after every rule of the device: it bounds, never widens.
  const overQuota = s.quota?.refusal(s.store, old, next);
  if (overQuota) return fail(overQuota);

  return commit(s, old, next, sbVar === 'PK' && next !== undefined, deviation);
}

/** Apply the change, re-run auth init after a PK write (spec §2.5.3 step 13), make NV durable. */
function commit(
  s: ServiceState, old: Variable | undefined, next: Variable | undefined, pkWritten: boolean, deviation: DeviationId | undefined,
): Outcome | Promise<Outcome> {
  const persist = (((old?.attributes ?? 0) | (next?.attributes ?? 0)) & Attr.NV) !== 0 ? s.persist : undefined;
  const before = persist ? { store: s.store.clone(), sb: s.sb } : undefined;
  if (old) s.store.remove(old.guid, old.name);
  if (next) s.store.put(next);
  if (pkWritten) s.sb = initializeAuthVariables(s.store, { forceSecureBoot: s.options.forceSecureBoot });
  // Nothing to make durable (volatile, or no backend): done now, without a promise.
  if (!persist || !before) return ok(HEADER_ONLY, deviation);
  return persist(nonVolatile(s)).then(() => ok(HEADER_ONLY, deviation), () => {
    s.store = before.store;
    s.sb = before.sb;
    return fail('persist-failed');
  });
}

export function nonVolatile(s: ServiceState): Variable[] {
  const out: Variable[] = [];
  for (const v of s.store) if (v.attributes & Attr.NV) out.push(v);
  return out;
}
