/**
 * What a conformance case is and what it can do. One case per item of spec
 * §8 (plus the two crashing inputs of §10.1); each runs on a fresh target and
 * asserts exact statuses and bytes. Items the spec marks [BUG]/[DIFF] have two
 * known answers: edk2's passes, QEMU's is recorded as a known QEMU difference
 * (not a failure), anything else fails.
 */
import type { GuestClient } from '../client/guest-client.js';
import type { DeviceConfig, RegisterAccess, Transport } from '../client/transport.js';
import { statusName } from '../wire/status.js';
import { toHex } from '../wire/hex.js';
import type { Keys } from './keys.js';

/** What a target must offer for a case to be observable there. */
export type Need = 'registers' | 'reset' | 'fwcfg';

export interface ConformanceCase {
  /** Stable name, e.g. `get-buffer-too-small`. `--only` matches it. */
  readonly id: string;
  /** Spec reference: `§8.21`, `§10.1`. */
  readonly item: string;
  readonly title: string;
  /** The spec marks the behaviour [BUG] or [DIFF]: QEMU's answer is a known difference. */
  readonly marker?: 'BUG' | 'DIFF';
  readonly config?: DeviceConfig;
  readonly needs?: readonly Need[];
  run(ctx: CaseContext): Promise<void>;
}

/** An assertion did not hold: the case fails with this message. */
export class CaseFailure extends Error {
  override readonly name = 'CaseFailure';
}

/** The case cannot be observed on this target (e.g. registers through the daemon's MM mode). */
export class CaseSkipped extends Error {
  override readonly name = 'CaseSkipped';
}

type Comparable = bigint | number | string | boolean | Uint8Array | readonly Comparable[];

export function show(v: Comparable): string {
  if (typeof v === 'bigint') return v >= 0x8000000000000000n || v === 0n ? statusName(v) : `0x${v.toString(16)}`;
  if (typeof v === 'number') return `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return v.length > 48 ? `${v.length} bytes ${toHex(v.subarray(0, 24))}…` : `[${toHex(v)}]`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return JSON.stringify(v);
}

function same(a: Comparable, b: Comparable): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x as Comparable, b[i] as Comparable));
  }
  return a === b;
}

export class CaseContext {
  /** Known QEMU differences seen so far ("what: edk2 X, got QEMU's Y"). */
  readonly differences: string[] = [];
  readonly notes: string[] = [];

  constructor(
    readonly client: GuestClient,
    readonly transport: Transport,
    private readonly keysFn: () => Promise<Keys>,
  ) {}

  /** The register window, or skip the case where the target has none. */
  get regs(): RegisterAccess {
    const r = this.transport.registers;
    if (!r) throw new CaseSkipped('needs register access (this transport carries MM calls only)');
    return r;
  }

  keys(): Promise<Keys> { return this.keysFn(); }

  /** Exact equality, else the case fails. */
  expect(what: string, actual: Comparable, expected: Comparable): void {
    if (!same(actual, expected)) throw new CaseFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }

  /**
   * A [BUG]/[DIFF] item: edk2's answer passes; QEMU's documented answer is
   * recorded as a known difference; anything else fails. Returns which one.
   */
  either(what: string, actual: Comparable, answers: { edk2: Comparable; qemu: Comparable }): 'edk2' | 'qemu' {
    if (same(actual, answers.edk2)) return 'edk2';
    if (same(actual, answers.qemu)) {
      this.differences.push(`${what}: ${show(actual)} (QEMU) where edk2 gives ${show(answers.edk2)}`);
      return 'qemu';
    }
    throw new CaseFailure(`${what}: expected ${show(answers.edk2)} (edk2) or ${show(answers.qemu)} (QEMU), got ${show(actual)}`);
  }

  note(text: string): void { this.notes.push(text); }
}
