import type { GuidText } from '../wire/guid.js';
import { type Variable, variableKey, keyAt } from './variable.js';
import { variableCost } from './quota.js';

interface Node {
  v: Variable;
  key: string;
  prev: Node | undefined;
  next: Node | undefined;
}

/**
 * The variable list: one insertion-ordered list over every GUID, volatile and NV
 * alike (spec §3.6). A write removes the old record and appends the new one at
 * the end, so enumeration order follows QEMU's. O(1) lookup, insert, remove and next.
 * No UEFI rules here: callers (service/) decide what may be written.
 */
export class VariableStore {
  private readonly byKey = new Map<string, Node>();
  private head: Node | undefined;
  private tail: Node | undefined;
  private used = 0;

  constructor(initial: Iterable<Variable> = []) {
    for (const v of initial) this.put(v);
  }

  get size(): number { return this.byKey.size; }
  /** Sum of variableCost over every variable (spec §3.8). */
  get usedStorage(): number { return this.used; }

  /**
   * Lookup by GUID + name. A record without data (only a loaded store can hold
   * one: DataSize 0 deletes) does not exist for lookups, as in QEMU, though it
   * is still enumerated and accounted (traces/qemu-conformance json-store-load).
   */
  get(guid: GuidText, name: Uint8Array): Variable | undefined {
    return this.getByKey(variableKey(guid, name));
  }

  /** Lookup straight from request bytes (GUID at guidOff, name at nameOff). */
  getAt(b: Uint8Array, guidOff: number, nameOff: number, nameSize: number): Variable | undefined {
    return this.getByKey(keyAt(b, guidOff, b, nameOff, nameSize));
  }

  getByKey(key: string): Variable | undefined {
    const v = this.byKey.get(key)?.v;
    return v && v.data.length > 0 ? v : undefined;
  }

  /** The variable after `key` in store order (or the first when key is undefined). */
  nextAfter(key: string | undefined): Variable | undefined {
    if (key === undefined) return this.head?.v;
    return this.byKey.get(key)?.next?.v;
  }

  /** Remove any variable with the same key and append `v` at the end. */
  put(v: Variable): void {
    const key = variableKey(v.guid, v.name);
    this.removeKey(key);
    const node: Node = { v, key, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = node; else this.head = node;
    this.tail = node;
    this.byKey.set(key, node);
    this.used += variableCost(v);
  }

  removeKey(key: string): Variable | undefined {
    const node = this.byKey.get(key);
    if (!node) return undefined;
    if (node.prev) node.prev.next = node.next; else this.head = node.next;
    if (node.next) node.next.prev = node.prev; else this.tail = node.prev;
    this.byKey.delete(key);
    this.used -= variableCost(node.v);
    return node.v;
  }

  remove(guid: GuidText, name: Uint8Array): Variable | undefined {
    return this.removeKey(variableKey(guid, name));
  }

  /** Variables in store order. */
  *[Symbol.iterator](): IterableIterator<Variable> {
    for (let n = this.head; n; n = n.next) yield n.v;
  }

  list(): Variable[] {
    return [...this];
  }

  /** Drop every variable for which `keep` is false, order otherwise unchanged. */
  retain(keep: (v: Variable) => boolean): void {
    for (let n = this.head; n; n = n.next) if (!keep(n.v)) this.removeKey(n.key);
  }

  clone(): VariableStore {
    return new VariableStore(this);
  }
}
