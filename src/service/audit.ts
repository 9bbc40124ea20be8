/**
 * Audit trail of Secure Boot changes (issue 16): one structured record for every
 * guest or host write to PK, KEK, db, dbx, dbt, dbr, SecureBootEnable or
 * CustomMode, applied or refused, with the platform mode before and after (a PK
 * write is how the mode changes). Pure: the service builds records, sinks (log,
 * append-only file, metrics) live in the daemon. Hashes use WebCrypto, so a record
 * is finished asynchronously, after the reply; records keep request order.
 */
import { Guids, guidAt, type GuidText } from '../wire/guid.js';
import { nameKey } from '../wire/ucs2.js';
import { toHex } from '../wire/hex.js';
import { Attr } from '../wire/attributes.js';
import { Access, accessFieldsOf } from '../wire/mm.js';
import { statusName } from '../wire/status.js';
import type { Reason } from './reasons.js';
import { secureBootVariable, platformMode, type PlatformMode, type SecureBootState } from '../auth/secure-boot.js';
import { parseAuth2 } from '../auth/descriptor.js';
import { pkcs7Signer } from '../auth/pkcs7.js';
import type { VariableStore } from '../store/store.js';

export type AuditedVariable = 'PK' | 'KEK' | 'db' | 'dbx' | 'dbt' | 'dbr' | 'SecureBootEnable' | 'CustomMode';
export const AUDITED_VARIABLES: readonly AuditedVariable[] = ['PK', 'KEK', 'db', 'dbx', 'dbt', 'dbr', 'SecureBootEnable', 'CustomMode'];

/** Who vouched for the change: the PKCS#7 signer, or why none was needed. */
export type AuditSigner = { subject: string; serial: string } | 'setup mode' | 'custom mode' | 'host' | 'unsigned';

export interface AuditRecord {
  /** Filled in by the daemon's sink (the service does not know its VM's name). */
  vm?: string;
  /** When the service decided, ISO 8601 UTC. */
  time: string;
  variable: AuditedVariable;
  guid: GuidText;
  source: 'guest' | 'host';
  operation: 'write' | 'append' | 'delete';
  applied: boolean;
  /** SHA-256 of the value before and after the call (null: no variable); equal when refused. */
  oldSha256: string | null;
  newSha256: string | null;
  /** SHA-256 of the value the call carried (after the authentication descriptor); null for a delete. */
  payloadSha256: string | null;
  signer: AuditSigner;
  /** EFI status name returned (EFI_SUCCESS, EFI_SECURITY_VIOLATION, …) and the service's named reason. */
  status: string;
  reason: string | null;
  modeBefore: PlatformMode;
  modeAfter: PlatformMode;
}

export type AuditSink = (record: AuditRecord) => void;

/** The audited variable a (guid, name) names, if any. */
export function auditedVariable(guid: GuidText, name: Uint8Array): AuditedVariable | undefined {
  const sb = secureBootVariable(guid, name);
  if (sb) return sb;
  if (guid === Guids.secureBootEnableDisable && nameKey(name) === 'SecureBootEnable') return 'SecureBootEnable';
  if (guid === Guids.customModeEnable && nameKey(name) === 'CustomMode') return 'CustomMode';
  return undefined;
}

async function sha256(b: Uint8Array | undefined): Promise<string | null> {
  if (!b) return null;
  const copy = new Uint8Array(b); // an ArrayBuffer-backed copy WebCrypto accepts
  return toHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', copy)));
}

/** What is known before the call runs; `finish` completes it with the outcome. */
export interface PendingAudit {
  finish(store: VariableStore, sb: SecureBootState, status: bigint, reason: Reason | undefined): Promise<AuditRecord>;
}

interface Start {
  variable: AuditedVariable; guid: GuidText; name: Uint8Array; source: 'guest' | 'host';
  attributes: number; data: Uint8Array | undefined; store: VariableStore; sb: SecureBootState; customMode: boolean;
}

function begin(st: Start): PendingAudit {
  const time = new Date().toISOString();
  const old = st.store.get(st.guid, st.name)?.data.slice();
  const modeBefore = platformMode(st.sb);
  const authenticated = (st.attributes & Attr.AT) !== 0 && st.data !== undefined;
  const d = authenticated ? parseAuth2(st.data!) : undefined;
  const payload = d && typeof d !== 'string' ? d.payload.slice() : st.data?.slice();
  let signer: AuditSigner;
  if (st.source === 'host') signer = 'host';
  else if (d && typeof d !== 'string') {
    const who = pkcs7Signer(d.certData);
    // edk2: in Setup Mode (non-PK) or Custom Mode the signature is not what authorises the write.
    signer = st.sb.setupMode && st.variable !== 'PK' ? 'setup mode' : st.customMode ? 'custom mode' : (who ?? 'unsigned');
  } else signer = st.sb.setupMode ? 'setup mode' : st.customMode ? 'custom mode' : 'unsigned';
  const operation = !payload || payload.length === 0 ? 'delete' : (st.attributes & Attr.AP) !== 0 ? 'append' : 'write';
  return {
    async finish(store, sb, status, reason) {
      const now = store.get(st.guid, st.name)?.data;
      const modeAfter = platformMode(sb);
      return {
        time, variable: st.variable, guid: st.guid, source: st.source, operation,
        applied: status === 0n,
        oldSha256: await sha256(old), newSha256: await sha256(now),
        payloadSha256: operation === 'delete' ? null : await sha256(payload),
        signer, status: statusName(status), reason: reason ?? null,
        modeBefore, modeAfter,
      };
    },
  };
}

/** A guest SET_VARIABLE message (after the 16-byte function header is checked by the caller), or undefined if not audited. */
export function beginGuestAudit(msg: Uint8Array, store: VariableStore, sb: SecureBootState, customMode: boolean): PendingAudit | undefined {
  const a = accessFieldsOf(msg);
  if (!a) return undefined;
  const { dataSize, nameSize } = a;
  // Names of audited variables are short; anything that does not fit the message is refused anyway.
  if (nameSize > 64 || Access.name + nameSize + dataSize > msg.length) return undefined;
  const guid = guidAt(msg, Access.guid);
  const name = msg.subarray(Access.name, Access.name + nameSize);
  const variable = auditedVariable(guid, name);
  if (!variable) return undefined;
  const data = msg.subarray(Access.name + nameSize, Access.name + nameSize + dataSize);
  return begin({ variable, guid, name: name.slice(), source: 'guest', attributes: a.attributes, data: data.length > 0 ? data : undefined, store, sb, customMode });
}

/** A host write (API, CLI), or undefined if not audited. */
export function beginHostAudit(guid: GuidText, name: Uint8Array, data: Uint8Array | undefined, attributes: number, store: VariableStore, sb: SecureBootState): PendingAudit | undefined {
  const variable = auditedVariable(guid, name);
  if (!variable) return undefined;
  return begin({ variable, guid, name, source: 'host', attributes: attributes & ~Attr.AT, data, store, sb, customMode: false });
}
