/**
 * A reference model of QEMU's variable list discipline, written for the tests
 * straight from QEMU hw/uefi (var-service-vars.c: uefi_vars_find_variable,
 * add_variable, uefi_vars_mm_set_variable, check_update,
 * uefi_vars_mm_get_next_variable; var-service-auth.c: uefi_vars_auth_init,
 * uefi_vars_check_auth_2_sb; var-service-core.c: uefi_vars_hard_reset) and
 * spec §2.5.2, §2.5.3, §3.6, §4.4, §4.5. It imports nothing from src/.
 *
 * One array of records in list order. A SetVariable appends its new record at
 * the tail before any check and drops it again on refusal, so a refusal never
 * moves anything; on success the old record is unlinked, so the variable is now
 * last; after a PK write the auth initialisation rewrites its variables behind
 * it. A record without data is never found by name, but keeps its place.
 *
 * Where uefi-vars answers differently on purpose (docs/deviations.md #3, #4, #5,
 * #8, #11, #12, #13; docs/policy.md P8), the model gives our documented answer; each is either a refusal
 * (nothing moves) or a value rule, never an order rule.
 */

export const G = {
  global: '8be4df61-93ca-11d2-aa0d-00e098032b8c',
  security: 'd719b2cb-3d3a-4596-a3bc-dad00e67656f',
  customMode: 'c076ec0c-7028-4399-a072-71ee5c448b9f',
  sbe: 'f0a30bc7-af08-4556-99c4-001009c93a44',
  test: 'a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70',
  other: '0b6e5233-a65c-44c9-9407-d9ab83bfc8bd',
  sha256: 'c1c41626-504c-4092-aca9-41f936934328',
  sha384: 'ff3e5307-9fd0-48c9-85f1-8ad56c701e01',
  sha512: '093e0fae-a6c4-4f50-9f1b-d41e2b89c19a',
  rsa2048: '3c5766e8-269c-4e34-aa14-ed776e85b3b6',
  x509: 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072',
  owner: '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f',
} as const;

/** EFI status values (UEFI 2.10 Appendix D). */
export const ST = {
  SUCCESS: 0n,
  INVALID_PARAMETER: 0x8000000000000002n,
  UNSUPPORTED: 0x8000000000000003n,
  BUFFER_TOO_SMALL: 0x8000000000000005n,
  WRITE_PROTECTED: 0x8000000000000008n,
  OUT_OF_RESOURCES: 0x8000000000000009n,
  NOT_FOUND: 0x800000000000000En,
  ACCESS_DENIED: 0x800000000000000Fn,
  SECURITY_VIOLATION: 0x800000000000001An,
} as const;

const NV = 1, BS = 2, RT = 4, AT = 0x20, AP = 0x40;
/** NV|BS|RT|HR|AT|APPEND: what check_update lets through. */
const SUPPORTED = 0x6f;
const KEY_DB_ATTRS = NV | BS | RT | AT;

export interface Rec {
  guid: string;
  name: string;
  attrs: number;
  data: Uint8Array;
  /** Timestamp as an ordinal: 0 = the zero EFI_TIME, n = 2026-01-01 00:00:n. */
  time: number;
  /** Signer identity of a private authenticated variable (QEMU's digest). */
  signer?: string | undefined;
  /** SHA-256 entry ids the value holds (key databases written by the model). */
  hashes?: ReadonlySet<number> | undefined;
}

/** A time-based authenticated write as the tests build it. */
export interface AuthWrite {
  guid: string;
  name: string;
  append: boolean;
  time: number;
  /** Key databases: EFI_CERT_SHA256 lists of entry ids; undefined with `bytes`. */
  lists?: number[][];
  /** Private variables (and raw key database values): the payload. Empty = delete. */
  bytes?: Uint8Array;
  /** Who signed: undefined = a descriptor without CertData. */
  signer?: string | undefined;
}

export function ucs2(name: string): Uint8Array {
  const out = new Uint8Array(name.length * 2 + 2);
  for (let i = 0; i < name.length; i++) { out[2 * i] = name.charCodeAt(i) & 0xff; out[2 * i + 1] = name.charCodeAt(i) >> 8; }
  return out;
}

const guidCache = new Map<string, Uint8Array>();

/** EFI GUID byte layout (first three fields little-endian). */
export function guidLe(text: string): Uint8Array {
  let b = guidCache.get(text);
  if (!b) guidCache.set(text, b = guidLeOf(text));
  return b;
}

function guidLeOf(text: string): Uint8Array {
  const h = text.replace(/-/g, '');
  const b = Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
  return Uint8Array.of(b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8));
}

export function efiTime(ordinal: number): Uint8Array {
  const t = new Uint8Array(16);
  if (ordinal === 0) return t;
  t[0] = 2026 & 0xff; t[1] = 2026 >> 8; t[2] = 1; t[3] = 1; t[6] = ordinal;
  return t;
}

/** One EFI_CERT_SHA256 list; entry id n is 32 bytes of n + 1. */
export function sha256List(ids: readonly number[]): Uint8Array {
  const out = new Uint8Array(28 + 48 * ids.length);
  const v = new DataView(out.buffer);
  out.set(guidLe(G.sha256), 0);
  v.setUint32(16, out.length, true);
  v.setUint32(20, 0, true);
  v.setUint32(24, 48, true);
  ids.forEach((id, i) => { out.set(guidLe(G.owner), 28 + 48 * i); out.fill(id + 1, 28 + 48 * i + 16, 28 + 48 * (i + 1)); });
  return out;
}

export function x509List(cert: Uint8Array): Uint8Array {
  const out = new Uint8Array(28 + 16 + cert.length);
  const v = new DataView(out.buffer);
  out.set(guidLe(G.x509), 0);
  v.setUint32(16, out.length, true);
  v.setUint32(24, 16 + cert.length, true);
  out.set(guidLe(G.owner), 28);
  out.set(cert, 44);
  return out;
}

function cat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const READ_ONLY = new Set(['SetupMode', 'SecureBoot', 'SignatureSupport', 'VendorKeys', 'VendorKeysNv', 'AuditMode', 'DeployedMode']);

export function keyDb(guid: string, name: string): 'PK' | 'KEK' | 'db' | 'dbx' | undefined {
  if (guid === G.global && (name === 'PK' || name === 'KEK')) return name;
  if (guid === G.security && (name === 'db' || name === 'dbx')) return name;
  return undefined;
}

const SIGNATURE_SUPPORT = cat([G.sha256, G.sha384, G.sha512, G.rsa2048, G.x509].map(guidLe));

export interface NextAnswer { status: bigint; nameSize?: number; name?: string; guid?: string }

/** sizeof(struct uefi_variable) on LP64 + NameSize + DataSize + digest (spec §3.8). */
function cost(r: Rec | undefined): number {
  return r ? 96 + r.name.length * 2 + 2 + r.data.length + (r.signer !== undefined ? 32 : 0) : 0;
}

export class QemuListModel {
  list: Rec[] = [];
  runtime = false;
  endOfDxe = false;
  /** LOCK_VARIABLE policies (LOCK_NOW, exact name), as "guid/name". */
  locks = new Set<string>();
  /** What the run reached (the test asserts the mix covers the rules). */
  readonly seen = { pkInits: 0, duplicateAppends: 0, shadowedEmpty: 0 };

  /** uefi_vars_json_load: records appended in file order, nothing checked. */
  constructor(loaded: readonly Rec[] = [], readonly maxStorage = 262144) {
    this.list = loaded.map((r) => ({ ...r }));
  }

  get used(): number {
    return this.list.reduce((n, r) => n + cost(r), 0);
  }

  /** uefi_vars_find_variable: the first record of that name that has data. */
  find(guid: string, name: string): Rec | undefined {
    return this.list.find((r) => r.guid === guid && r.name === name && r.data.length > 0);
  }

  private unlink(r: Rec | undefined): void {
    if (r) this.list.splice(this.list.indexOf(r), 1);
  }

  /** uefi_vars_set_variable (internal writes): old out, new at the tail. */
  private internal(guid: string, name: string, attrs: number, data: Uint8Array): void {
    this.unlink(this.find(guid, name));
    this.list.push({ guid, name, attrs, data, time: 0 });
  }

  private accessible(attrs: number): boolean {
    return (attrs & (this.runtime ? RT : BS)) !== 0;
  }

  private flag(guid: string, name: string): boolean {
    return this.find(guid, name)?.data[0] === 1;
  }

  /** uefi_vars_auth_init (AuthVariableLibInitialize): spec §4.5 steps 1-7. */
  authInit(): void {
    const user = this.find(G.global, 'PK') !== undefined;
    this.internal(G.global, 'SetupMode', BS | RT, Uint8Array.of(user ? 0 : 1));
    this.internal(G.global, 'SignatureSupport', BS | RT, SIGNATURE_SUPPORT);
    const sbe = this.find(G.sbe, 'SecureBootEnable');
    let enable = 0;
    if (sbe) {
      if (user) enable = sbe.data[0]!; // kept where it is, never rewritten
    } else if (user) {
      enable = 1;
      this.internal(G.sbe, 'SecureBootEnable', NV | BS, Uint8Array.of(1));
    }
    this.internal(G.global, 'SecureBoot', BS | RT, Uint8Array.of(enable === 1 && user ? 1 : 0));
    this.internal(G.customMode, 'CustomMode', NV | BS, Uint8Array.of(0));
    this.internal(G.global, 'VendorKeysNv', NV | BS | AT, Uint8Array.of(0));
    this.internal(G.global, 'VendorKeys', BS | RT, Uint8Array.of(0));
  }

  /** uefi_vars_hard_reset: phase flags cleared, volatile records gone, auth init. */
  reset(): void {
    this.runtime = false;
    this.endOfDxe = false;
    this.locks.clear();
    this.list = this.list.filter((r) => (r.attrs & NV) !== 0);
    this.authInit();
  }

  exitBootServices(): void { this.runtime = true; }
  signalEndOfDxe(): void { this.endOfDxe = true; }

  /**
   * uefi_vars_mm_lock_variable: a LOCK_NOW policy (spec §2.5.5). QEMU accepts it
   * in every phase; after EndOfDxe we refuse it as edk2 does (docs/policy.md P8).
   */
  lock(guid: string, name: string): bigint {
    if (this.endOfDxe) return ST.ACCESS_DENIED;
    this.locks.add(`${guid}/${name}`);
    return ST.SUCCESS;
  }

  /** A SetVariable without TIME_BASED_AUTHENTICATED_WRITE_ACCESS (data empty = delete). */
  setPlain(guid: string, name: string, attrs: number, data: Uint8Array): bigint {
    if (data.length > this.maxStorage) return ST.OUT_OF_RESOURCES;
    if (guid === G.global && READ_ONLY.has(name)) return ST.WRITE_PROTECTED; // deviation #3
    const old = this.find(guid, name);
    let fresh: Rec | undefined;
    if (data.length > 0) {
      fresh = { guid, name, attrs: attrs & ~AP, data, time: 0 };
    } else if (old && (old.attrs & AT)) {
      // deviation #4: an AT variable needs a signed delete; for a key database edk2 first
      // wants NV and TIME_BASED in the attributes (ProcessVarWithPk/Kek: EFI_INVALID_PARAMETER).
      const keyDatabase = keyDb(guid, name) !== undefined || (guid === G.security && (name === 'dbt' || name === 'dbr'));
      if (keyDatabase && (attrs & (NV | AT)) !== (NV | AT)) return ST.INVALID_PARAMETER;
      return ST.SECURITY_VIOLATION;
    }
    return this.commit(old, fresh, (attrs & AP) !== 0);
  }

  /** A time-based authenticated write (attributes 0x27, or 0x67 with `append`). */
  /**
   * `certifies(signer, list)`: does this signature list hold the signer's certificate
   * (the tests' stand-in for the PKCS#7 check against that trust list)?
   */
  setAuth(w: AuthWrite, certifies: (signer: string, list: Uint8Array | undefined) => boolean, dataSize: number): bigint {
    if (dataSize > this.maxStorage) return ST.OUT_OF_RESOURCES;
    if (w.guid === G.global && READ_ONLY.has(w.name)) return ST.WRITE_PROTECTED;
    const old = this.find(w.guid, w.name);
    const db = keyDb(w.guid, w.name);
    const payload = w.lists ? cat(w.lists.map(sha256List)) : w.bytes!;
    // uefi_vars_check_auth_2 / _sb: who must have signed (spec §4.4).
    if (db) {
      const custom = this.flag(G.customMode, 'CustomMode');
      const setup = this.flag(G.global, 'SetupMode');
      if (!custom && !(setup && db !== 'PK')) {
        if (w.signer === undefined) return ST.SECURITY_VIOLATION;
        // PK and KEK verify against PK, or a PK enrolled in setup mode against its own
        // payload (self-signed); the tests sign db/dbx only in setup/custom mode.
        const pk = this.find(G.global, 'PK');
        const anchors = db === 'PK' && !pk && setup ? payload : pk?.data;
        if (db === 'db' || db === 'dbx' || !certifies(w.signer, anchors)) return ST.SECURITY_VIOLATION;
      }
    } else if (w.signer === undefined) {
      return ST.SECURITY_VIOLATION; // deviation #8: no PKCS#7 at all
    }
    let time = w.time;
    const signer = db ? undefined : w.signer;
    if (old) {
      if (!w.append) {
        if (w.time <= old.time) return ST.SECURITY_VIOLATION; // deviation #11: strictly later
      } else {
        time = Math.max(old.time, w.time); // deviation #12: the later one stays
      }
      if ((old.signer !== undefined || signer !== undefined) && old.signer !== signer) return ST.SECURITY_VIOLATION;
    }
    const fresh: Rec | undefined = payload.length > 0
      ? { guid: w.guid, name: w.name, attrs: (w.append ? 0x67 : 0x27) & ~AP, data: payload, time, signer, hashes: w.lists ? new Set(w.lists.flat()) : undefined }
      : undefined; // descriptor without payload: delete
    return this.commit(old, fresh, w.append);
  }

  /** From "delete nothing" on: check_update, append, commit, auth init after PK. */
  private commit(old: Rec | undefined, fresh: Rec | undefined, append: boolean): bigint {
    if (!old && !fresh) return ST.SUCCESS;
    if (old && !this.accessible(old.attrs)) return ST.ACCESS_DENIED;
    if (fresh) {
      if (fresh.attrs & ~SUPPORTED) return ST.UNSUPPORTED;
      if (!this.accessible(fresh.attrs)) return ST.ACCESS_DENIED;
    }
    if (old && fresh && old.attrs !== fresh.attrs) return ST.INVALID_PARAMETER;
    const target = (fresh ?? old)!;
    const db = keyDb(target.guid, target.name);
    // uefi_vars_policy_check: enforced from EndOfDxe on (spec §5.5).
    if (this.endOfDxe && this.locks.has(`${target.guid}/${target.name}`)) return ST.WRITE_PROTECTED;
    if (db && target.attrs !== KEY_DB_ATTRS) return ST.INVALID_PARAMETER;
    if (append && old && fresh) {
      if (!db) return ST.UNSUPPORTED;
      const before = fresh.data.length;
      fresh = mergeAppend(old, fresh); // deviation #13: edk2's duplicate filter
      if (fresh.data.length === old.data.length && before > 0) this.seen.duplicateAppends++;
    }
    // Storage (deviation #5: only a write that grows usage can exceed the limit).
    const grow = cost(fresh) - cost(old);
    if (grow > 0 && this.used + grow > this.maxStorage) return ST.OUT_OF_RESOURCES;
    // All checks passed: the new record (already at the tail in QEMU) stays, the old goes.
    this.unlink(old);
    if (fresh) {
      if (!old && this.list.some((r) => r.guid === fresh!.guid && r.name === fresh!.name)) this.seen.shadowedEmpty++;
      this.list.push(fresh);
    }
    if (fresh && db === 'PK') { this.seen.pkInits++; this.authInit(); }
    return ST.SUCCESS;
  }

  /** GetNextVariableName with edk2's sizing: MessageLength = 40 + max(capacity, StrSize(current)). */
  next(name: string, guid: string, capacity: number): NextAnswer {
    let i: number;
    if (name === '') {
      i = -1;
    } else {
      const cur = this.find(guid, name);
      if (!cur) return { status: ST.INVALID_PARAMETER };
      i = this.list.indexOf(cur);
    }
    let n: Rec | undefined;
    for (let j = i + 1; j < this.list.length; j++) if (this.accessible(this.list[j]!.attrs)) { n = this.list[j]; break; }
    if (!n) return { status: ST.NOT_FOUND };
    const nameSize = n.name.length * 2 + 2;
    const room = Math.max(capacity, name.length * 2 + 2);
    if (room < nameSize) return { status: ST.BUFFER_TOO_SMALL, nameSize };
    return { status: ST.SUCCESS, nameSize, name: n.name, guid: n.guid };
  }

  /** A full walk from the start with a large buffer, as "name@guid", then the status that ended it. */
  walk(): string[] {
    const out: string[] = [];
    let name = '', guid = G.test as string;
    for (;;) {
      const a = this.next(name, guid, 1024);
      if (a.status !== ST.SUCCESS) { out.push(`end ${a.status.toString(16)}`); return out; }
      out.push(`${a.name!}@${a.guid!}`);
      name = a.name!; guid = a.guid!;
    }
  }
}

/**
 * edk2 FilterSignatureList on SHA-256 lists of one owner: entries already in the
 * old value are dropped, what is left of each list is appended under its own header.
 */
function mergeAppend(old: Rec, fresh: Rec): Rec {
  const have = old.hashes ?? new Set<number>();
  const lists = parseSha256Lists(fresh.data);
  const kept = lists.map((ids) => ids.filter((id) => !have.has(id))).filter((ids) => ids.length > 0);
  const hashes = new Set([...have, ...kept.flat()]);
  return { ...fresh, data: cat([old.data, ...kept.map(sha256List)]), hashes };
}

function parseSha256Lists(b: Uint8Array): number[][] {
  const out: number[][] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let o = 0; o + 28 <= b.length;) {
    const size = v.getUint32(o + 16, true);
    const ids: number[] = [];
    for (let e = o + 28; e + 48 <= o + size; e += 48) ids.push(b[e + 16]! - 1);
    out.push(ids);
    o += size;
  }
  return out;
}
