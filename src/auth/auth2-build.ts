import { Guids, type GuidText } from '../wire/guid.js';
import { Attr } from '../wire/attributes.js';
import { encodeTime } from '../wire/time.js';
import { encodeName } from '../wire/ucs2.js';
import { parseAuth2 } from './descriptor.js';
import { verifyDetached } from './pkcs7.js';
import { signedContent, signVariable, type SignOptions } from './sign.js';

/**
 * Signed Secure Boot updates (`uefi-vars sign`, `uefi-vars apply`): the
 * EFI_VARIABLE_AUTHENTICATION_2 payload of UEFI 2.10 §8.2.2 (spec §4.1/§4.2)
 * for a key database, and recognising which variable a vendor update is for.
 */

/** Key databases are written with NV|BS|RT|TIME_BASED_AUTHENTICATED_WRITE_ACCESS (spec §4.6), plus APPEND_WRITE to add (spec §4.7). */
export const KEY_DB_ATTRIBUTES = Attr.NV | Attr.BS | Attr.RT | Attr.AT;

/** EFI_TIME of a UTC instant to the second; Pad1/Nanosecond/TimeZone/Daylight/Pad2 zero, as edk2 requires (spec §4.1). */
export function efiTimeOf(d: Date): Uint8Array {
  return encodeTime({
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(),
    pad1: 0, nanosecond: 0, timeZone: 0, daylight: 0, pad2: 0,
  });
}

/** The vendor GUID a key database lives under (UEFI 2.10 §32.6): PK/KEK global, the rest image security. */
export function keyDatabaseGuid(name: string): GuidText | undefined {
  if (name === 'PK' || name === 'KEK') return Guids.globalVariable;
  if (name === 'db' || name === 'dbx' || name === 'dbt' || name === 'dbr') return Guids.imageSecurityDatabase;
  return undefined;
}

export interface UpdateInput {
  name: string;
  guid: GuidText;
  /** APPEND_WRITE: add to the database rather than replace it. */
  append: boolean;
  time: Uint8Array;
  /** The new value: EFI_SIGNATURE_LISTs (empty: a signed delete). */
  payload: Uint8Array;
  signerCert: Uint8Array;
  signerKey: Uint8Array | string;
}

/**
 * The complete SetVariable Data of a key-database update: bare detached SignedData,
 * SHA-256, signer certificate embedded, no signed attributes — the shape of
 * efitools' sign-efi-sig-list output and of Microsoft's updates.
 */
export function buildUpdate(u: UpdateInput, options: SignOptions = {}): Promise<Uint8Array> {
  const attributes = KEY_DB_ATTRIBUTES | (u.append ? Attr.AP : 0);
  return signVariable({ name: u.name, guid: u.guid, attributes, time: u.time, payload: u.payload, signerCert: u.signerCert, signerKey: u.signerKey }, options);
}

export interface UpdateTarget { name: string; guid: GuidText; attributes: number }

const CANDIDATES: readonly string[] = ['dbx', 'db', 'KEK', 'PK', 'dbt', 'dbr'];

/**
 * Which variable and attributes a signed update was made for. The signed bytes
 * include name, GUID and attributes (spec §4.2) but the file does not, so try
 * each key database with and without APPEND_WRITE: the signature verifies for
 * exactly one. Trust is not judged here (no anchors: 'untrusted' after a good
 * signature check is the hit) — the store being updated judges that.
 */
export async function identifyUpdate(data: Uint8Array): Promise<UpdateTarget | undefined> {
  const d = parseAuth2(data);
  if (typeof d === 'string') return undefined;
  for (const name of CANDIDATES) {
    for (const attributes of [KEY_DB_ATTRIBUTES | Attr.AP, KEY_DB_ATTRIBUTES]) {
      const guid = keyDatabaseGuid(name)!;
      const content = signedContent(name, guid, attributes, d.time, d.payload);
      const r = await verifyDetached(d.certData, content, []);
      if (!r.ok && r.reason === 'untrusted') return { name, guid, attributes };
      if (!r.ok && r.reason !== 'bad-signature') return undefined; // not a signature we can check at all
    }
  }
  return undefined;
}

/** UCS-2 name bytes of a target (with the NUL), for store lookups. */
export function targetName(t: UpdateTarget): Uint8Array { return encodeName(t.name); }
