import { makeVariable, type Variable } from '../store/variable.js';
import { Guids, type GuidText } from '../wire/guid.js';
import { Attr } from '../wire/attributes.js';
import { encodeName, nameKey } from '../wire/ucs2.js';
import { compareTime, isZeroTime } from '../wire/time.js';
import { concatBytes } from '../wire/hex.js';
import {
  INITIAL_TIME, Owners, SHA256_OF_NOTHING, appendCertificate, appendSha256, efiTimeOf,
  externalManagementList, newestNotBefore, sha256List,
} from '../auth/esl-build.js';
import { encodeSignatureLists } from '../wire/siglist.js';

/**
 * The store edits of `uefi-vars enroll`, applied the way virt-fw-vars 24.4
 * applies them to its variable list (virt/firmware/vars.py main and
 * efi/efivar.py EfiVarList/EfiVar): host-side, as the platform owner, no
 * signatures. Variables are found by name alone, as virt-fw-vars' list is
 * keyed; a variable it creates gets virt-fw-vars' default GUID and attributes
 * and goes to the end; a replaced one keeps its place.
 */

/** efivar.py efivar_defaults (and boot_defaults for Boot*): GUID and attributes of a variable created by name. */
const NV_BS = Attr.NV | Attr.BS;
const NV_BS_RT = NV_BS | Attr.RT;
const SIGDB = NV_BS_RT | Attr.AT;
const DEFAULTS: Readonly<Record<string, { guid: GuidText; attributes: number }>> = {
  SecureBoot: { guid: Guids.globalVariable, attributes: Attr.BS | Attr.RT },
  SecureBootEnable: { guid: Guids.secureBootEnableDisable, attributes: NV_BS },
  CustomMode: { guid: Guids.customModeEnable, attributes: NV_BS },
  PK: { guid: Guids.globalVariable, attributes: SIGDB },
  KEK: { guid: Guids.globalVariable, attributes: SIGDB },
  db: { guid: Guids.imageSecurityDatabase, attributes: SIGDB },
  dbx: { guid: Guids.imageSecurityDatabase, attributes: SIGDB },
  MokList: { guid: Guids.shimLock, attributes: NV_BS },
  MokListX: { guid: Guids.shimLock, attributes: NV_BS },
  MokListTrusted: { guid: Guids.shimLock, attributes: NV_BS },
  SbatLevel: { guid: Guids.shimLock, attributes: NV_BS },
  SHIM_DEBUG: { guid: Guids.shimLock, attributes: NV_BS },
  SHIM_VERBOSE: { guid: Guids.shimLock, attributes: NV_BS },
  FALLBACK_VERBOSE: { guid: Guids.shimLock, attributes: NV_BS },
  FB_NO_REBOOT: { guid: Guids.shimLock, attributes: NV_BS_RT },
};

export function defaultsFor(name: string): { guid: GuidText; attributes: number } {
  return Object.hasOwn(DEFAULTS, name) ? DEFAULTS[name]! : name.startsWith('Boot')
    ? { guid: Guids.globalVariable, attributes: NV_BS_RT }
    : { guid: Guids.globalVariable, attributes: NV_BS };
}

export interface OwnedDer { owner: GuidText; der: Uint8Array }

export interface EnrollSteps {
  delete: string[];
  setTrue: string[];
  setFalse: string[];
  bootUri?: string;
  bootFilepaths: string[];
  /** Each --enroll-redhat / --enroll-cert / --enroll-generate: PK+KEK certificate, then the Microsoft KEK and db entries. */
  platforms: Array<{ cert: Uint8Array; kek: OwnedDer[]; db: OwnedDer[] }>;
  distroDb: OwnedDer[];
  setPk?: OwnedDer;
  externalManagement?: GuidText;
  addKek: OwnedDer[];
  addDb: OwnedDer[];
  setDbx?: { data: Uint8Array; time: Uint8Array };
  addDbHash: Array<{ owner: GuidText; hash: Uint8Array }>;
  secureBoot: boolean;
  /** The clock virt-fw-vars reads (datetime.now()) for writes that carry no certificate time. */
  now: () => Date;
}

export class VarList {
  readonly vars: Variable[];
  readonly warnings: string[] = [];
  constructor(vars: readonly Variable[], private readonly now: () => Date) { this.vars = [...vars]; }

  indexOf(name: string): number { return this.vars.findIndex((v) => nameKey(v.name) === name); }
  get(name: string): Variable | undefined { const i = this.indexOf(name); return i < 0 ? undefined : this.vars[i]; }

  /** Replace the named variable in place, or append it. */
  put(name: string, v: Variable): void {
    const i = this.indexOf(name);
    if (i < 0) this.vars.push(v); else this.vars[i] = v;
  }

  /** The variable, or a new empty one with the defaults for its name (EfiVarList.create). */
  getOrCreate(name: string): Variable {
    const old = this.get(name);
    if (old) return old;
    const d = defaultsFor(name);
    const v = makeVariable({ guid: d.guid, name: encodeName(name), attributes: d.attributes, data: new Uint8Array(0) });
    this.vars.push(v);
    return v;
  }

  /** EfiVar.update_time: only time-based authenticated variables have a time, and it only moves forward. */
  static laterTime(v: Variable, ts: Uint8Array): Uint8Array {
    if (!(v.attributes & Attr.AT)) return v.time;
    return isZeroTime(v.time) || compareTime(v.time, ts) < 0 ? ts : v.time;
  }

  /** Write data (and advance the time to `ts`, or to now) keeping GUID and attributes. */
  update(name: string, data: Uint8Array, ts?: Uint8Array): void {
    const v = this.getOrCreate(name);
    const t = ts ?? efiTimeOf(this.now(), { local: true, subSecond: true });
    this.put(name, makeVariable({ ...v, data, time: VarList.laterTime(v, t), digest: v.digest }));
  }

  delete(name: string): void {
    const before = this.vars.length;
    for (let i = this.vars.length - 1; i >= 0; i--) if (nameKey(this.vars[i]!.name) === name) this.vars.splice(i, 1);
    if (this.vars.length === before) this.warnings.push(`variable ${name} not found`);
  }

  setBool(name: string, value: boolean): void { this.update(name, Uint8Array.of(value ? 1 : 0)); }

  /** EfiVarList.add_cert: optionally clear (time 2010-01-01), add unless present, time = newest notBefore. */
  addCert(name: string, c: OwnedDer, replace = false): void {
    if (replace) this.update(name, new Uint8Array(0), INITIAL_TIME);
    const v = this.getOrCreate(name);
    const { data } = appendCertificate(v.data, c.owner, c.der, `${name} in the store`);
    const nb = newestNotBefore(data);
    this.update(name, data, nb ? efiTimeOf(nb) : undefined);
  }

  addHash(name: string, owner: GuidText, hash: Uint8Array): void {
    const v = this.getOrCreate(name);
    this.update(name, appendSha256(v.data, owner, hash, `${name} in the store`).data);
  }

  /** EfiVarList.add_dummy_dbx: only when there is no dbx at all. */
  addDummyDbx(): void {
    if (this.get('dbx')) return;
    this.update('dbx', encodeSignatureLists([sha256List(Owners.ovmfEnrollDefaultKeys, [SHA256_OF_NOTHING])]), INITIAL_TIME);
  }
}

/** UCS-2 with the terminating NUL (ucs16.StringUCS16 bytes). */
function ucs2z(s: string): Uint8Array { return encodeName(s); }

function u16(n: number): Uint8Array { return Uint8Array.of(n & 0xff, n >>> 8); }

/** EFI_DEVICE_PATH_PROTOCOL node (UEFI 2.10 §10.3) followed by the End node 7f ff 0400. */
function devicePath(type: number, subtype: number, data: Uint8Array): Uint8Array {
  const len = 4 + data.length;
  if (len > 0xffff) throw new Error('device path node longer than 65535 bytes');
  return concatBytes([Uint8Array.of(type, subtype), u16(len), data, Uint8Array.of(0x7f, 0xff, 0x04, 0x00)]);
}

/** EFI_LOAD_OPTION (UEFI 2.10 §3.1.3): Attributes, FilePathListLength, Description, FilePathList, OptionalData. */
export function loadOption(title: string, path: Uint8Array, optional?: Uint8Array): Uint8Array {
  const LOAD_OPTION_ACTIVE = 1;
  return concatBytes([Uint8Array.of(LOAD_OPTION_ACTIVE, 0, 0, 0), u16(path.length), ucs2z(title), path, optional ?? new Uint8Array(0)]);
}

/** A URI() messaging node (type 3, subtype 0x18), the URI's bytes without a NUL. */
export function uriDevicePath(uri: string): Uint8Array { return devicePath(0x03, 0x18, new TextEncoder().encode(uri)); }
/** A FilePath() media node (type 4, subtype 4), UCS-2 with NUL. */
export function fileDevicePath(path: string): Uint8Array { return devicePath(0x04, 0x04, ucs2z(path)); }

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** Run the steps in virt-fw-vars 24.4's order (vars.py main). */
export function applyEnroll(vars: readonly Variable[], s: EnrollSteps): VarList {
  const l = new VarList(vars, s.now);
  for (const n of s.delete) l.delete(n);
  for (const n of s.setTrue) l.setBool(n, true);
  for (const n of s.setFalse) l.setBool(n, false);
  if (s.bootUri !== undefined) {
    // once, via BootNext: Boot0099 "netboot <last path segment>"
    const title = `netboot ${s.bootUri.split('/').at(-1)}`;
    l.update('Boot0099', loadOption(title, uriDevicePath(s.bootUri)));
    l.update('BootNext', u16(0x99));
  }
  for (const item of s.bootFilepaths) {
    // permanent, appended to BootOrder: "PATH [OPTDATA]", '/' becomes '\'
    const words = item.replaceAll('/', '\\').split(' ');
    const file = words[0]!;
    const opt = words.length > 1 ? ucs2z(words[1]!) : undefined;
    let index = 0;
    while (index < 0xffff && l.get(`Boot${hex4(index)}`)) index++;
    if (index === 0xffff) { l.warnings.push('no free Boot#### entry'); continue; }
    l.update(`Boot${hex4(index)}`, loadOption(`file ${file.split('\\').at(-1)}`, fileDevicePath(file), opt));
    const order = l.getOrCreate('BootOrder');
    l.update('BootOrder', concatBytes([order.data, u16(index)]));
  }
  for (const p of s.platforms) {
    const own = { owner: Owners.ovmfEnrollDefaultKeys, der: p.cert };
    l.addCert('PK', own, true);
    l.addCert('KEK', own, true);
    for (const k of p.kek) l.addCert('KEK', k);
    l.addDummyDbx();
    for (const d of p.db) l.addCert('db', d);
  }
  for (const d of s.distroDb) l.addCert('db', d);
  if (s.setPk) l.addCert('PK', s.setPk, true);
  if (s.externalManagement) l.update('PK', encodeSignatureLists([externalManagementList(s.externalManagement)]), INITIAL_TIME);
  for (const k of s.addKek) l.addCert('KEK', k);
  for (const d of s.addDb) l.addCert('db', d);
  if (s.setDbx) {
    // a new variable with dbx's defaults and the update's own time, in dbx's place
    const d = defaultsFor('dbx');
    l.put('dbx', makeVariable({ guid: d.guid, name: encodeName('dbx'), attributes: d.attributes, data: s.setDbx.data, time: s.setDbx.time }));
  }
  for (const h of s.addDbHash) l.addHash('db', h.owner, h.hash);
  if (s.secureBoot) {
    l.addDummyDbx();
    l.setBool('SecureBootEnable', true);
    l.setBool('CustomMode', false);
  }
  return l;
}
