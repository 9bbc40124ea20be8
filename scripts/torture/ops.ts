/**
 * The guest write stream of the crash torture and the model it is checked
 * against. The model holds what the daemon acknowledged: an op changes it only
 * once its reply said EFI_SUCCESS. The store after a kill must equal the model,
 * or the model with the one op that was in flight applied (the daemon may have
 * made it durable and died before answering).
 */
import { setVariableRequest } from '../../src/client/requests.js';
import { Attr } from '../../src/wire/attributes.js';
import { EfiStatus } from '../../src/wire/status.js';
import { signVariable } from '../../src/auth/sign.js';
import { efiTimeOf } from '../../src/auth/auth2-build.js';
import type { GeneratedKey } from '../../src/auth/cert-build.js';
import type { GuidText } from '../../src/wire/guid.js';

export const TORTURE_GUID: GuidText = '6d1c3a9e-4f2b-4e8a-b0c7-5a2e9d8f1b34';
const NV_BS_RT = Attr.NV | Attr.BS | Attr.RT;
const AUTH = NV_BS_RT | Attr.AT;
/** Plain NV names, authenticated names and volatile names the stream reuses: updates and deletes hit live variables. */
const NAMES = 16;
const AUTH_NAMES = 3;
const VOLATILE_NAMES = 3;

export interface ModelVar { attributes: number; data: Uint8Array }
/** NV variables of TORTURE_GUID by name, as the store must hold them. */
export type Model = Map<string, ModelVar>;

export type OpKind = 'set' | 'append' | 'append-refused' | 'delete' | 'delete-missing' | 'volatile'
  | 'auth-set' | 'auth-append' | 'auth-append-refused' | 'auth-delete' | 'auth-unsigned-delete';

export interface Op {
  kind: OpKind;
  name: string;
  request: Uint8Array;
  /** The status the UEFI rules give this op against the acknowledged state. */
  expect: bigint;
  /** The model after this op succeeded. */
  apply(model: Model): Model;
}

/** A small deterministic PRNG (mulberry32): a failing run is re-run from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (random: () => number, n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
/** Mostly small values, now and then a kilobyte or two (more bytes per save, a longer window to die in). */
const size = (random: () => number): number => (random() < 0.15 ? 1024 + Math.floor(random() * 1024) : 1 + Math.floor(random() * 200));

function withVar(model: Model, name: string, v: ModelVar | undefined): Model {
  const next = new Map(model);
  if (v) next.set(name, v); else next.delete(name);
  return next;
}

/** Generates ops against the acknowledged model. Authenticated ops are signed by one key, with strictly increasing times. */
export class OpStream {
  /** Seconds after 2030-01-01 of the next authenticated write: never reused, so a replayed time never fails. */
  private clock = 0;

  constructor(private readonly random: () => number, private readonly signer: GeneratedKey | undefined) {}

  async next(model: Model): Promise<Op> {
    const r = this.random();
    if (this.signer && r < 0.1) return this.authOp(model);
    if (r < 0.15) return this.volatileOp();
    const name = `T${Math.floor(this.random() * NAMES)}`;
    const have = model.get(name);
    const k = this.random();
    if (k < 0.55) {
      const data = bytes(this.random, size(this.random));
      return this.plain('set', name, NV_BS_RT, data, EfiStatus.SUCCESS, (m) => withVar(m, name, { attributes: NV_BS_RT, data }));
    }
    if (k < 0.75) {
      const data = bytes(this.random, size(this.random));
      // APPEND_WRITE to a missing variable creates it; to an existing one that is not a key
      // database it is EFI_UNSUPPORTED and changes nothing (spec §2.5.3 step 9).
      if (have) return this.plain('append-refused', name, NV_BS_RT | Attr.AP, data, EfiStatus.UNSUPPORTED, (m) => m);
      return this.plain('append', name, NV_BS_RT | Attr.AP, data, EfiStatus.SUCCESS, (m) => withVar(m, name, { attributes: NV_BS_RT, data }));
    }
    // DataSize 0 deletes; deleting what is not there succeeds and writes nothing (spec §2.5.3 step 7, §3.3).
    return this.plain(have ? 'delete' : 'delete-missing', name, NV_BS_RT, new Uint8Array(0), EfiStatus.SUCCESS, (m) => withVar(m, name, undefined));
  }

  private plain(kind: OpKind, name: string, attributes: number, data: Uint8Array, expect: bigint, apply: (m: Model) => Model): Op {
    return { kind, name, request: setVariableRequest({ name, guid: TORTURE_GUID, attributes, data }), expect, apply };
  }

  /** Volatile variables never reach the store: the check finds them there as a failure. */
  private volatileOp(): Op {
    const name = `V${Math.floor(this.random() * VOLATILE_NAMES)}`;
    return this.plain('volatile', name, Attr.BS | Attr.RT, bytes(this.random, size(this.random)), EfiStatus.SUCCESS, (m) => m);
  }

  private async authOp(model: Model): Promise<Op> {
    const signer = this.signer!;
    const name = `A${Math.floor(this.random() * AUTH_NAMES)}`;
    const have = model.get(name);
    const k = this.random();
    if (have && k < 0.1) {
      // A bare DataSize 0 on an authenticated variable is refused, not a delete (spec §3.3 [BUG], not replicated).
      return this.plain('auth-unsigned-delete', name, AUTH, new Uint8Array(0), EfiStatus.SECURITY_VIOLATION, (m) => m);
    }
    const kind: OpKind = have && k < 0.35 ? 'auth-delete' : k < 0.5 ? 'auth-append' : 'auth-set';
    const payload = kind === 'auth-delete' ? new Uint8Array(0) : bytes(this.random, 1 + Math.floor(this.random() * 300));
    const attributes = AUTH | (kind === 'auth-append' ? Attr.AP : 0);
    // Every write carries a later time than the last, so the time rule (spec §2.5.3 step 6) never refuses one.
    const time = efiTimeOf(new Date(Date.UTC(2030, 0, 1) + 1000 * this.clock++));
    const data = await signVariable({ name, guid: TORTURE_GUID, attributes, time, payload, signerCert: signer.cert, signerKey: signer.key });
    const request = setVariableRequest({ name, guid: TORTURE_GUID, attributes, data });
    // An authenticated append to an existing private variable is refused like a plain one (step 9).
    if (kind === 'auth-append' && have) return { kind: 'auth-append-refused', name, request, expect: EfiStatus.UNSUPPORTED, apply: (m) => m };
    const apply = (m: Model): Model => withVar(m, name, kind === 'auth-delete' ? undefined : { attributes: AUTH, data: payload });
    return { kind, name, request, expect: EfiStatus.SUCCESS, apply };
  }
}

/** Do two models hold the same variables, attributes and bytes? */
export function sameModel(a: Model, b: Model): boolean {
  if (a.size !== b.size) return false;
  for (const [name, v] of a) {
    const w = b.get(name);
    if (!w || w.attributes !== v.attributes || w.data.length !== v.data.length) return false;
    for (let i = 0; i < v.data.length; i++) if (v.data[i] !== w.data[i]) return false;
  }
  return true;
}

/** One line describing how `got` differs from `want` (first few names). */
export function describeDiff(want: Model, got: Model): string {
  const out: string[] = [];
  for (const [n, v] of want) {
    const w = got.get(n);
    if (!w) out.push(`${n} missing`);
    else if (!sameModel(new Map([[n, v]]), new Map([[n, w]]))) out.push(`${n} differs (want ${v.data.length} B attr 0x${v.attributes.toString(16)}, got ${w.data.length} B attr 0x${w.attributes.toString(16)})`);
  }
  for (const n of got.keys()) if (!want.has(n)) out.push(`${n} unexpected`);
  return out.slice(0, 6).join('; ') + (out.length > 6 ? `; … ${out.length - 6} more` : '');
}
