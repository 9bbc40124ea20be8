/**
 * Drives a VariableService and the QEMU list model (qemu-list-model.ts) with the
 * same operations, through `handle` with edk2-shaped requests, and compares the
 * answers, the stored list and the GetNextVariableName walk. Signatures are made
 * once per process (pre-signed pool), so a sequence costs crypto only where a
 * write must really be verified.
 */
import { VariableService } from '../../src/service/variable-service.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';
import { setVariableRequest, getNextRequest, eventRequest, lockVariableRequest } from '../../src/client/requests.js';
import { encodeAuthentication2, signVariable } from '../../src/auth/sign.js';
import { makeIdentity, type TestIdentity } from '../helpers/keys.js';
import { G, ST, QemuListModel, type Rec, type AuthWrite, efiTime, sha256List, x509List, ucs2, keyDb } from './qemu-list-model.js';

export type Op =
  | { k: 'plain'; guid: string; name: string; attrs: number; data: Uint8Array }
  | { k: 'auth'; w: AuthWrite }
  | { k: 'reset' }
  | { k: 'ebs' }
  | { k: 'endOfDxe' }
  | { k: 'lock'; guid: string; name: string }
  | { k: 'next'; name: string; guid: string; capacity: number };

const MM = 24;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

function guidText(b: Uint8Array, o: number): string {
  const h = (i: number): string => b[o + i]!.toString(16).padStart(2, '0');
  return `${h(3)}${h(2)}${h(1)}${h(0)}-${h(5)}${h(4)}-${h(7)}${h(6)}-${h(8)}${h(9)}-${[10, 11, 12, 13, 14, 15].map(h).join('')}`;
}

function nameText(b: Uint8Array, o: number, size: number): string {
  let s = '';
  for (let i = 0; i + 1 < size; i += 2) {
    const u = b[o + i]! | (b[o + i + 1]! << 8);
    if (u === 0) break;
    s += String.fromCharCode(u);
  }
  return s;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const status = (reply: Uint8Array): bigint => new DataView(reply.buffer, reply.byteOffset).getBigUint64(MM + 8, true);

/** The pre-signed pool: signers by name, and signed Data buffers by write. */
export interface Pool {
  signers: Map<string, TestIdentity>;
  signed: Map<string, Uint8Array>;
}

const signedKey = (w: AuthWrite, payload: Uint8Array): string => `${w.guid}/${w.name}/${w.append ? 1 : 0}/${w.time}/${w.signer ?? ''}/${hex(payload)}`;

export function payloadOf(w: AuthWrite): Uint8Array {
  return w.lists ? concat(w.lists.map(sha256List)) : w.bytes!;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Sign more writes into an existing pool (writes whose payload needs the pool's certificates). */
export async function addSigned(pool: Pool, writes: readonly AuthWrite[]): Promise<void> {
  await Promise.all(writes.map(async (w) => {
    const id = pool.signers.get(w.signer!)!;
    const payload = payloadOf(w);
    pool.signed.set(signedKey(w, payload), await signVariable({
      name: w.name, guid: w.guid, attributes: w.append ? 0x67 : 0x27, time: efiTime(w.time), payload, signerCert: id.cert, signerKey: id.key,
    }));
  }));
}

export async function makePool(writes: readonly AuthWrite[]): Promise<Pool> {
  // Three RSA-2048 identities (key generation is the slow part): the PK, and two
  // private-variable signers, the second also the rogue KEK signer.
  const [pk, s1, s2] = await Promise.all(['List PK', 'List Signer 1', 'List Signer 2'].map((cn) => makeIdentity({ cn })));
  const signers = new Map<string, TestIdentity>([['PK', pk!], ['S1', s1!], ['S2', s2!], ['rogue', s2!]]);
  const pool: Pool = { signers, signed: new Map() };
  await addSigned(pool, writes);
  return pool;
}

/** A loaded record as both sides see it. */
export function loadedRec(guid: string, name: string, attrs: number, data: Uint8Array, time = 0, hashes?: number[]): Rec {
  return { guid, name, attrs, data, time, hashes: hashes ? new Set(hashes) : undefined };
}

export function toVariable(r: Rec): Variable {
  return makeVariable({ guid: r.guid, name: ucs2(r.name), attributes: r.attrs, data: r.data, time: efiTime(r.time) });
}

export function pkRec(pool: Pool, signer: string): Rec {
  return loadedRec(G.global, 'PK', 0x27, x509List(pool.signers.get(signer)!.cert), 1);
}

export class Pair {
  /** The EFI status of the last request a step sent (undefined for reset and events). */
  lastStatus: bigint | undefined;

  private constructor(readonly svc: VariableService, readonly model: QemuListModel, private readonly pool: Pool) {}

  /**
   * QEMU: uefi_vars_realize loads the store, the machine-start hard reset runs
   * the auth init once. We: create() (load + that reset), and, when
   * `vmmReset`, the VMM's own reset at machine start (a pcap's leading record).
   */
  static async start(pool: Pool, loaded: readonly Rec[], vmmReset: boolean, variables?: Variable[], size?: number): Promise<Pair> {
    const svc = await VariableService.create({ variables: variables ?? loaded.map(toVariable), ...(size ? { options: { size } } : {}) });
    if (vmmReset) await svc.reset();
    const model = new QemuListModel(loaded, size);
    model.reset();
    return new Pair(svc, model, pool);
  }

  /** Is this trust list exactly the signer's certificate (spec §4.3)? */
  private certifies = (signer: string, list: Uint8Array | undefined): boolean => {
    const id = this.pool.signers.get(signer);
    return list !== undefined && id !== undefined && sameBytes(list, x509List(id.cert));
  };

  /** Run one operation on both; returns a description of the first difference, or undefined. */
  async step(op: Op): Promise<string | undefined> {
    this.lastStatus = undefined;
    switch (op.k) {
      case 'reset':
        await this.svc.reset();
        this.model.reset();
        return undefined;
      case 'ebs':
        await this.call(eventRequest('exitBootServices'));
        this.model.exitBootServices();
        return undefined;
      case 'endOfDxe':
        await this.call(eventRequest('endOfDxe'));
        this.model.signalEndOfDxe();
        return undefined;
      case 'lock': {
        const got = this.lastStatus = status(await this.call(lockVariableRequest({ name: op.name, guid: op.guid })));
        const want = this.model.lock(op.guid, op.name);
        return got === want ? undefined : `lock status 0x${got.toString(16)}, model 0x${want.toString(16)}`;
      }
      case 'plain': {
        const got = this.lastStatus = status(await this.call(setVariableRequest({ name: op.name, guid: op.guid, attributes: op.attrs, data: op.data })));
        const want = this.model.setPlain(op.guid, op.name, op.attrs, op.data);
        return got === want ? undefined : `status 0x${got.toString(16)}, model 0x${want.toString(16)}`;
      }
      case 'auth': {
        const w = op.w;
        const payload = payloadOf(w);
        const data = w.signer === undefined
          ? encodeAuthentication2(efiTime(w.time), new Uint8Array(0), payload)
          : this.pool.signed.get(signedKey(w, payload));
        if (!data) throw new Error(`not pre-signed: ${signedKey(w, payload)}`);
        const got = this.lastStatus = status(await this.call(setVariableRequest({ name: w.name, guid: w.guid, attributes: w.append ? 0x67 : 0x27, data })));
        const want = this.model.setAuth(w, this.certifies, data.length);
        return got === want ? undefined : `status 0x${got.toString(16)}, model 0x${want.toString(16)}`;
      }
      case 'next': {
        const reply = await this.call(getNextRequest({ name: op.name, guid: op.guid, bufferSize: op.capacity }));
        const want = this.model.next(op.name, op.guid, op.capacity);
        const got = this.lastStatus = status(reply);
        if (got !== want.status) return `GetNext(${op.name}, ${op.capacity}) status 0x${got.toString(16)}, model 0x${want.status.toString(16)}`;
        if (got !== ST.SUCCESS && got !== ST.BUFFER_TOO_SMALL) return undefined;
        const size = Number(new DataView(reply.buffer, reply.byteOffset).getBigUint64(MM + 32, true));
        if (size !== want.nameSize) return `GetNext(${op.name}) NameSize ${size}, model ${want.nameSize}`;
        if (got === ST.SUCCESS) {
          const n = `${nameText(reply, MM + 40, size)}@${guidText(reply, MM + 16)}`;
          if (n !== `${want.name}@${want.guid}`) return `GetNext(${op.name}) gave ${n}, model ${want.name}@${want.guid}`;
        }
        return undefined;
      }
    }
  }

  /** The stored list, field by field, on both sides. */
  lists(): { got: string[]; want: string[] } {
    const got = this.svc.variables().map((v) => `${nameText(v.name, 0, v.name.length)}@${v.guid}/${v.attributes}/${hex(v.data).slice(0, 24)}/${hex(v.time)}/${v.digest ? 'signed' : ''}`);
    const want = this.model.list.map((r) => `${r.name}@${r.guid}/${r.attrs}/${hex(r.data).slice(0, 24)}/${hex(efiTime(r.time))}/${r.signer ? 'signed' : ''}`);
    return { got, want };
  }

  /** One request; synchronous when the service finished it synchronously (most reads do). */
  private async call(request: Uint8Array): Promise<Uint8Array> {
    const r0 = this.svc.processNow(request);
    const r = r0 instanceof Promise ? await r0 : r0;
    if (!r.reply) throw new Error(`no reply (device status ${r.deviceStatus})`);
    return r.reply;
  }

  /** The full GetNextVariableName walk through the service, and the model's. */
  async walks(): Promise<{ got: string[]; want: string[] }> {
    const got: string[] = [];
    let name = '', guid = G.test as string;
    for (let i = 0; i < 200; i++) {
      const r0 = this.svc.processNow(getNextRequest({ name, guid, bufferSize: 64 }));
      const reply = (r0 instanceof Promise ? await r0 : r0).reply!;
      const s = status(reply);
      if (s !== ST.SUCCESS) { got.push(`end ${s.toString(16)}`); break; }
      const size = Number(new DataView(reply.buffer, reply.byteOffset).getBigUint64(MM + 32, true));
      name = nameText(reply, MM + 40, size);
      guid = guidText(reply, MM + 16);
      got.push(`${name}@${guid}`);
    }
    return { got, want: this.model.walk() };
  }

  /** The stored lists agree field by field (checked without building strings: this runs after every step). */
  private sameLists(): boolean {
    const ours = this.svc.variables();
    const model = this.model.list;
    if (ours.length !== model.length) return false;
    for (let i = 0; i < ours.length; i++) {
      const v = ours[i]!, r = model[i]!;
      if (v.guid !== r.guid || v.attributes !== r.attrs || !sameBytes(v.name, ucs2(r.name)) || !sameBytes(v.data, r.data)
        || !sameBytes(v.time, efiTime(r.time)) || (v.digest !== undefined) !== (r.signer !== undefined)) return false;
    }
    return true;
  }

  /** Compare list and walk; a description of the first difference, or undefined. */
  async compare(): Promise<string | undefined> {
    if (!this.sameLists()) {
      const l = this.lists();
      return `store list differs:\n  ours  ${l.got.join('\n        ')}\n  model ${l.want.join('\n        ')}`;
    }
    const w = await this.walks();
    if (w.got.join(',') !== w.want.join(',')) return `walk differs:\n  ours  ${w.got.join(', ')}\n  model ${w.want.join(', ')}`;
    return undefined;
  }
}

export { keyDb };
