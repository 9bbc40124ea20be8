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
 *
 * A record without data (only a loaded store can hold one) is in the list but
 * not in the lookup map: QEMU's uefi_vars_find_variable skips such records, so a
 * write of the same name finds no old record, appends a second one and leaves
 * the empty one where it was (enumerated and accounted, never found).
 */
export class VariableStore {
  private readonly byKey = new Map<string, Node>();
  private head: Node | undefined;
  private tail: Node | undefined;
  private used = 0;
  private count = 0;

  constructor(initial: Iterable<Variable> = []) {
    for (const v of initial) this.put(v);
  }

  /** Records in the list (empty ones included). */
  get size(): number { return this.count; }
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
    return this.byKey.get(key)?.v;
  }

  /**
   * The first record after the one found by `key` (from the start when key is
   * undefined) that `accept` takes, walking the list itself (empty records included).
   */
  nextAfter(key: string | undefined, accept: (v: Variable) => boolean = () => true): Variable | undefined {
    let n = key === undefined ? this.head : this.byKey.get(key)?.next;
    while (n && !accept(n.v)) n = n.next;
    return n?.v;
  }

  /** Remove the variable with the same key, if any, and append `v` at the end. */
  put(v: Variable): void {
    const key = variableKey(v.guid, v.name);
    this.removeKey(key);
    const node: Node = { v, key, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = node; else this.head = node;
    this.tail = node;
    if (v.data.length > 0) this.byKey.set(key, node);
    this.used += variableCost(v);
    this.count++;
  }

  removeKey(key: string): Variable | undefined {
    const node = this.byKey.get(key);
    if (!node) return undefined;
    this.unlink(node);
    return node.v;
  }

  private unlink(node: Node): void {
    if (node.prev) node.prev.next = node.next; else this.head = node.next;
    if (node.next) node.next.prev = node.prev; else this.tail = node.prev;
    if (this.byKey.get(node.key) === node) this.byKey.delete(node.key);
    this.used -= variableCost(node.v);
    this.count--;
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
    for (let n = this.head; n; n = n.next) if (!keep(n.v)) this.unlink(n);
  }

  clone(): VariableStore {
    return new VariableStore(this);
  }
}
