import type { Variable } from '../store/variable.js';
import { variableCost } from '../store/quota.js';
import type { StoreReason as Reason } from '../store/reasons.js';
import type { VariableStore } from '../store/store.js';

/**
 * Per-VM limits an operator sets on top of the device's storage size (issue
 * 16; the daemon's API, PUT /vms/ID/quota, keeps them with the VM). They bound
 * what a hostile guest can make one VM cost the host: its variable count, its
 * bytes and its write rate. Host writes (API, CLI) are not bound by them.
 */
export interface VmQuota {
  /** At most this many variables (every kind, as the storage accounting counts them). */
  maxVariables?: number;
  /** At most this many bytes, accounted as spec §3.8 (96 + name + data + digest per variable). */
  maxBytes?: number;
  /** At most this many writes that change the store per second (one second's worth may come at once). */
  writesPerSecond?: number;
}

const KEYS = ['maxVariables', 'maxBytes', 'writesPerSecond'] as const;

/** A quota from JSON (API body, stored file): the quota, or one line saying what is wrong. */
export function parseVmQuota(x: unknown): VmQuota | string {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'a quota is a JSON object';
  const out: VmQuota = {};
  for (const [k, v] of Object.entries(x)) {
    if (!(KEYS as readonly string[]).includes(k)) return `unknown field ${JSON.stringify(k)} (known: ${KEYS.join(', ')})`;
    if (v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) return `${k} must be a positive integer or null`;
    out[k as (typeof KEYS)[number]] = v;
  }
  return out;
}

/** The quota and its write-rate bucket; lives in the service state. */
export class QuotaState {
  private tokens: number;
  private last: number;

  constructor(readonly limits: Readonly<VmQuota>, private readonly now: () => number = () => performance.now()) {
    this.tokens = limits.writesPerSecond ?? 0;
    this.last = this.now();
  }

  /**
   * Would this change break the quota? Checked in the service queue after the
   * UEFI rules passed and before the commit, so no other write lands between
   * the check and the change. A write that does not grow the store (update in
   * place, shrink, delete) is never refused for count or bytes; every change
   * takes a token of the write rate. Refusals answer EFI_OUT_OF_RESOURCES:
   * UEFI 2.10 §8.2 SetVariable "not enough storage is available to hold the
   * variable and its data", the status spec §3.8 gives for the device's own limit.
   */
  refusal(store: VariableStore, old: Variable | undefined, next: Variable | undefined): Reason | undefined {
    const q = this.limits;
    if (next && !old && q.maxVariables !== undefined && store.size >= q.maxVariables) return 'quota-variables';
    const grow = (next ? variableCost(next) : 0) - (old ? variableCost(old) : 0);
    if (grow > 0 && q.maxBytes !== undefined && store.usedStorage + grow > q.maxBytes) return 'quota-bytes';
    if (q.writesPerSecond !== undefined) {
      const t = this.now();
      this.tokens = Math.min(q.writesPerSecond, this.tokens + ((t - this.last) / 1000) * q.writesPerSecond);
      this.last = t;
      if (this.tokens < 1) return 'quota-write-rate';
      this.tokens -= 1;
    }
    return undefined;
  }
}
