import { Guids, guidBytes, guidEqualsAt } from '../guid.js';
import { u64NumAt } from '../reader.js';
import {
  Access, GetNext, MM_HEADER_SIZE, PolicyHeader, VarHeader, functionIdOf,
} from './layout.js';

/**
 * Zero-copy views of MM messages, for the paths that must be fast (the service,
 * replay, metrics): fields are read in place from a buffer the caller owns
 * (for the service, its own copy of the guest buffer). Every reader checks the
 * length it needs and answers `undefined` when the bytes are not there.
 */

/** The handler an MM header GUID selects (spec §2.2). */
export type MmTarget = 'variable' | 'policy' | 'endOfDxe' | 'readyToBoot' | 'exitBootServices';

const TARGETS: ReadonlyArray<readonly [MmTarget, Uint8Array]> = [
  ['variable', guidBytes(Guids.smmVariable)], ['policy', guidBytes(Guids.varCheckPolicy)],
  ['endOfDxe', guidBytes(Guids.endOfDxe)], ['readyToBoot', guidBytes(Guids.readyToBoot)],
  ['exitBootServices', guidBytes(Guids.exitBootServices)],
];

/** The target of the MM buffer `b`, compared byte-wise; undefined for an unknown GUID or a buffer shorter than the header. */
export function mmTargetOf(b: Uint8Array): MmTarget | undefined {
  if (b.length < MM_HEADER_SIZE) return undefined;
  for (const [name, g] of TARGETS) if (guidEqualsAt(b, 0, g)) return name;
  return undefined;
}

/** What a request asks, read from the buffer as it is (no MessageLength check: labels and logs). */
export interface RequestPeek {
  /** 'short' when the buffer is shorter than the 24-byte MM header; 'unknown' for another GUID. */
  target: MmTarget | 'short' | 'unknown';
  /** Variable protocol, buffer holds the Function field: functionIdOf() of it. */
  function?: number;
  /** VarCheckPolicy, buffer holds the Command field. */
  command?: number;
}

export function peekRequest(b: Uint8Array): RequestPeek {
  if (b.length < MM_HEADER_SIZE) return { target: 'short' };
  const target = mmTargetOf(b) ?? 'unknown';
  if (target === 'variable' && b.length >= MM_HEADER_SIZE + 8) return { target, function: functionIdOf(b, MM_HEADER_SIZE) };
  if (target === 'policy' && b.length >= MM_HEADER_SIZE + PolicyHeader.command + 4) {
    return { target, command: new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(MM_HEADER_SIZE + PolicyHeader.command, true) };
  }
  return { target };
}

/** Where the EFI status of a `target` message sits in the MM buffer, or -1 for messages without one. */
export function statusOffsetOf(target: RequestPeek['target']): number {
  return target === 'variable' ? MM_HEADER_SIZE + VarHeader.returnStatus : target === 'policy' ? MM_HEADER_SIZE + PolicyHeader.result : -1;
}

/**
 * The EFI status a reply carries (ReturnStatus of a variable message, Result of a
 * policy message; spec §2.3, §5.1), or undefined when the buffer has no such field.
 */
export function replyStatusOf(reply: Uint8Array, target: RequestPeek['target'] = mmTargetOf(reply) ?? 'unknown'): bigint | undefined {
  const at = statusOffsetOf(target);
  if (at < 0 || reply.length < at + 8) return undefined;
  return new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getBigUint64(at, true);
}

/** ACCESS_VARIABLE's fixed fields (spec §2.5.1), sizes as doubles (exact to 2^53, monotone above). */
export interface AccessFields { dataSize: number; nameSize: number; attributes: number }
/** GET_NEXT_VARIABLE_NAME / LOCK_VARIABLE's fixed field (spec §2.5.2, §2.5.5). */
export interface NameFields { nameSize: number }

/** `msg` is a variable-protocol message (after the MM header); undefined when shorter than the fixed part. */
export function accessFieldsOf(msg: Uint8Array): AccessFields | undefined {
  if (msg.length < Access.name) return undefined;
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  return { dataSize: u64NumAt(v, Access.dataSize), nameSize: u64NumAt(v, Access.nameSize), attributes: v.getUint32(Access.attributes, true) };
}

export function nameFieldsOf(msg: Uint8Array): NameFields | undefined {
  if (msg.length < GetNext.name) return undefined;
  return { nameSize: u64NumAt(new DataView(msg.buffer, msg.byteOffset, msg.byteLength), GetNext.nameSize) };
}

/**
 * The variable-protocol message being answered, in place: the service owns this
 * copy of the guest buffer. QEMU writes replies into its full internal buffer and
 * then copies back only 24 + MessageLength bytes (spec §1.5 step 8), so every
 * write here is clipped at the message end: the guest sees exactly the part
 * that falls inside its message. The caller has checked length >= 16.
 */
export class MessageView {
  readonly view: DataView;
  readonly length: number;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.length;
  }

  /** spec §2.4: the function id, one rule (functionIdOf). */
  get functionId(): number { return functionIdOf(this.view, VarHeader.function); }
  accessFields(): AccessFields | undefined {
    if (this.length < Access.name) return undefined;
    const v = this.view;
    return { dataSize: u64NumAt(v, Access.dataSize), nameSize: u64NumAt(v, Access.nameSize), attributes: v.getUint32(Access.attributes, true) };
  }
  nameFields(): NameFields | undefined {
    return this.length < GetNext.name ? undefined : { nameSize: u64NumAt(this.view, GetNext.nameSize) };
  }
  setReturnStatus(status: bigint): void { this.setU64(VarHeader.returnStatus, status); }

  /** u64 as a double; caller has checked off + 8 <= length. */
  u64(off: number): number { return u64NumAt(this.view, off); }
  u32(off: number): number { return this.view.getUint32(off, true); }

  setU64(off: number, v: bigint | number): void {
    if (off + 8 <= this.length) { this.view.setBigUint64(off, BigInt(v), true); return; }
    const tmp = new Uint8Array(8);
    new DataView(tmp.buffer).setBigUint64(0, BigInt(v), true);
    this.put(off, tmp);
  }

  setU32(off: number, v: number): void {
    if (off + 4 <= this.length) { this.view.setUint32(off, v >>> 0, true); return; }
    const tmp = new Uint8Array(4);
    new DataView(tmp.buffer).setUint32(0, v >>> 0, true);
    this.put(off, tmp);
  }

  put(off: number, src: Uint8Array): void {
    if (off >= this.length) return;
    const n = Math.min(src.length, this.length - off);
    this.bytes.set(n === src.length ? src : src.subarray(0, n), off);
  }
}
