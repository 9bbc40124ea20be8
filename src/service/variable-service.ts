import { copyBytes } from '../wire/slab.js';
import { MM_HEADER_SIZE, VAR_HEADER_SIZE, POLICY_HEADER_SIZE, VarFunction, MessageView, messageLengthOf, mmTargetOf } from '../wire/mm.js';
import { DeviceStatus, EfiStatus } from '../wire/status.js';
import { Attr } from '../wire/attributes.js';
import { VariableStore } from '../store/store.js';
import type { Variable } from '../store/variable.js';
import { phaseOf, type Phase, type PhaseFlags } from '../store/access.js';
import { initializeAuthVariables } from '../auth/init.js';
import type { SecureBootState } from '../auth/secure-boot.js';
import type { AuthVerifier } from '../auth/verifier.js';
import { VariablePolicy, type PolicySnapshot } from '../policy/engine.js';
import { type ServiceOptions, resolveOptions, DEFAULT_BUFFER_SIZE } from './options.js';
import type { MmHandler, MmResult } from './mm-handler.js';
import { type Outcome, fail, ok } from './outcome.js';
import type { Reason } from './reasons.js';
import { type ServiceState, policyContext } from './context.js';
import { getVariable, getNextVariableName, queryVariableInfo, getPayloadSize } from './read-functions.js';
import { setVariable, nonVolatile } from './set-variable.js';
import { lockVariable, varCheckFunction, answerPolicyMessage } from './policy-functions.js';
import { type AuditSink, type PendingAudit, beginGuestAudit, beginHostAudit } from './audit.js';
import { customModeOn } from '../auth/secure-boot.js';

import type { StoreBackend } from '../store/backend.js';
import { variableCost } from '../store/quota.js';
import { QuotaState, type VmQuota } from './vm-quota.js';
export type { StoreBackend };

/** What a host write came to: done, or refused because the VM's storage is full (with the bytes it would need). */
export type HostWriteResult = { ok: true } | { ok: false; reason: 'out-of-storage'; needed: number };

export interface ServiceInit {
  /** Variables to start from (e.g. loaded from a store file), in store order. */
  variables?: Iterable<Variable>;
  backend?: StoreBackend;
  options?: Partial<ServiceOptions>;
  /**
   * Where the PKCS#7 and signature-list checks of authenticated writes run
   * (auth/verifier.ts): the daemon passes a worker pool so one VM's expensive
   * write does not hold up the others (issue 18). Not part of a snapshot.
   */
  verifier?: AuthVerifier;
}

/** Everything needed to resume a service elsewhere (migration, spec §1.7). */
export interface ServiceSnapshot {
  readonly variables: readonly Variable[];
  readonly flags: Readonly<PhaseFlags>;
  readonly secureBoot: Readonly<SecureBootState>;
  readonly policy: PolicySnapshot;
  readonly options: Readonly<ServiceOptions>;
}

/**
 * The variable service: MM communicate buffer in → reply out (DESIGN.md). Pure:
 * no I/O except through the StoreBackend. Requests are handled one at a time in
 * arrival order, so an authenticated write that awaits crypto cannot interleave.
 */
export class VariableService implements MmHandler {
  private readonly state: ServiceState;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /**
   * True from the machine-start reset of create() until a request or a host
   * write arrives. QEMU loads the store at realize and runs its auth
   * initialisation only at the machine reset that follows (spec §1.7: "also run
   * once at machine start"); resets a VMM sends before the guest's first request
   * (UefiVarsDevice.hardReset at machine start, a capture's leading reset record,
   * or both) are that same reset, which create() already stood for. Running the
   * auth initialisation again would move SetupMode and SignatureSupport behind
   * the SecureBootEnable the first run created (spec §3.6, §4.5 step 3).
   */
  private atMachineStart = false;
  /** Told about every guest or host change to a Secure Boot variable, applied or refused (service/audit.ts). */
  onAudit: AuditSink | undefined;
  private auditTail: Promise<void> = Promise.resolve();

  private constructor(init: ServiceInit) {
    const options = resolveOptions(init.options);
    const backend = init.backend;
    this.state = {
      store: new VariableStore(init.variables ?? []),
      flags: { endOfDxe: false, readyToBoot: false, exitBootServices: false },
      sb: { setupMode: true, secureBoot: false, auditMode: false, deployedMode: false },
      policy: new VariablePolicy(),
      options,
      bufferSize: DEFAULT_BUFFER_SIZE,
      persist: backend ? (nv) => backend.save(nv) : undefined,
      verifier: init.verifier,
    };
  }

  /** Build a service and run the machine-start hard reset (QEMU realize + reset, spec §1.7). */
  static async create(init: ServiceInit = {}): Promise<VariableService> {
    const svc = new VariableService(init);
    await svc.reset();
    svc.atMachineStart = true;
    return svc;
  }

  /** Resume from a snapshot without a reset (incoming migration). */
  static async restore(snap: ServiceSnapshot, backend?: StoreBackend, verifier?: AuthVerifier): Promise<VariableService> {
    const svc = new VariableService({ variables: snap.variables, options: snap.options, ...(backend ? { backend } : {}), ...(verifier ? { verifier } : {}) });
    svc.state.flags = { ...snap.flags };
    svc.state.sb = { ...snap.secureBoot };
    svc.state.policy = VariablePolicy.restore(snap.policy);
    if (backend) await backend.save(nonVolatile(svc.state)); // QEMU rewrites the file after load (560429fd74)
    return svc;
  }

  get options(): Readonly<ServiceOptions> { return this.state.options; }
  get phase(): Phase { return phaseOf(this.state.flags); }
  get flags(): Readonly<PhaseFlags> { return this.state.flags; }
  get secureBoot(): Readonly<SecureBootState> { return this.state.sb; }
  get usedStorage(): number { return this.state.store.usedStorage; }
  variables(): Variable[] { return this.state.store.list(); }
  nonVolatileVariables(): Variable[] { return nonVolatile(this.state); }

  snapshot(): ServiceSnapshot {
    return {
      variables: this.state.store.list(),
      flags: { ...this.state.flags },
      secureBoot: { ...this.state.sb },
      policy: this.state.policy.snapshot(),
      options: this.state.options,
    };
  }

  /**
   * Device hard reset (spec §1.7): phases cleared, volatile variables and
   * policies dropped, auth variables re-initialised, NV variables made durable.
   */
  reset(): Promise<void> {
    return this.serial(async () => {
      if (this.atMachineStart) return; // the machine-start reset create() ran (above)
      const s = this.state;
      s.flags = { endOfDxe: false, readyToBoot: false, exitBootServices: false };
      s.store.retain((v) => (v.attributes & Attr.NV) !== 0);
      s.policy.reset();
      s.sb = initializeAuthVariables(s.store, { forceSecureBoot: s.options.forceSecureBoot });
      if (s.persist) await s.persist(nonVolatile(s));
    });
  }

  /**
   * A host-side write (management API, CLI tools): stores or deletes a variable
   * directly, bypassing the guest's phase, authentication and policy rules but
   * not durability. Never reachable from the guest.
   */
  hostSetVariable(v: Variable | { guid: string; name: Uint8Array; delete: true }): Promise<HostWriteResult> {
    this.atMachineStart = false;
    return this.serial(async (): Promise<HostWriteResult> => {
      const s = this.state;
      // The quota is checked here, in the queue, so no guest write can land between check and act (spec §3.8).
      if (!('delete' in v)) {
        const old = s.store.get(v.guid, v.name); // what put() replaces (a data-less record stays, spec §3.6)
        const used = s.store.usedStorage - (old ? variableCost(old) : 0) + variableCost(v);
        if (used > s.options.size) return { ok: false, reason: 'out-of-storage', needed: used };
      }
      const audit = this.onAudit
        ? beginHostAudit(v.guid, v.name, 'delete' in v ? undefined : v.data, 'delete' in v ? 0 : v.attributes, s.store, s.sb)
        : undefined;
      const before = s.store.clone();
      if ('delete' in v) s.store.remove(v.guid, v.name); else s.store.put(v);
      if (s.persist) {
        try { await s.persist(nonVolatile(s)); } catch (e) {
          s.store = before;
          if (audit) this.emitAudit(audit, EfiStatus.DEVICE_ERROR, 'persist-failed');
          throw e;
        }
      }
      if (audit) this.emitAudit(audit, EfiStatus.SUCCESS, undefined);
      return { ok: true };
    });
  }

  /** The per-VM quota in force (vm-quota.ts); undefined: none. */
  get quota(): Readonly<VmQuota> | undefined { return this.state.quota?.limits; }

  /** Set or clear the per-VM quota, in the queue: requests before it ran without, requests after run with it. */
  setQuota(q: VmQuota | undefined): Promise<void> {
    return this.serial(async () => {
      this.state.quota = q && Object.keys(q).length > 0 ? new QuotaState({ ...q }) : undefined;
    });
  }

  /** Resolves once every audit record of the requests answered so far has reached onAudit. */
  flushAudit(): Promise<void> { return this.auditTail; }

  /** Read the outcome now (the store as it is after this request), hash and deliver in order. */
  private emitAudit(audit: PendingAudit, status: bigint, reason: Reason | undefined): void {
    const record = audit.finish(this.state.store, this.state.sb, status, reason);
    const sink = this.onAudit;
    this.auditTail = this.auditTail.then(() => record).then((r) => { sink?.(r); }, () => undefined);
  }

  private audited(m: MessageView, run: () => Outcome | Promise<Outcome>): Outcome | Promise<Outcome> {
    const s = this.state;
    const audit = this.onAudit ? beginGuestAudit(m.bytes, s.store, s.sb, customModeOn(s.store)) : undefined;
    const out = run();
    if (!audit) return out;
    if (out instanceof Promise) return out.then((o) => { this.emitAudit(audit, o.status, o.reason); return o; });
    this.emitAudit(audit, out.status, out.reason);
    return out;
  }

  /** DESIGN.md API: the reply buffer (the request echoed when nothing is written back). */
  async handle(request: Uint8Array, bufferSize = DEFAULT_BUFFER_SIZE): Promise<Uint8Array> {
    const r = await this.process(request, bufferSize);
    return r.reply ?? request.slice();
  }

  process(request: Uint8Array, bufferSize = DEFAULT_BUFFER_SIZE): Promise<MmResult> {
    const r = this.processNow(request, bufferSize);
    return r instanceof Promise ? r : Promise.resolve(r);
  }

  /**
   * `process` for transports on a hot path: the result itself when the request
   * finished synchronously (most do: everything but durable writes and
   * signature checks), a promise otherwise. Same ordering as `process`.
   */
  processNow(request: Uint8Array, bufferSize = DEFAULT_BUFFER_SIZE): MmResult | Promise<MmResult> {
    this.atMachineStart = false;
    // The one copy of guest-controlled bytes: everything below parses this copy only.
    const copy = copyBytes(request);
    if (this.pending === 0) {
      let r: MmResult | Promise<MmResult>;
      try { r = this.dispatch(copy, bufferSize); } catch (e) { return Promise.reject(e); }
      return r instanceof Promise ? this.track(r) : r;
    }
    return this.serial(() => this.dispatch(copy, bufferSize));
  }

  /**
   * Run requests one at a time, in arrival order. When nothing is in flight a
   * request runs at once (most requests finish synchronously); otherwise it
   * queues behind the last one.
   */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.pending === 0) {
      let r: Promise<T> | T;
      try { r = fn(); } catch (e) { return Promise.reject(e); }
      return r instanceof Promise ? this.track(r) : Promise.resolve(r);
    }
    return this.track(this.tail.then(fn, fn));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending++;
    const done = (): void => { this.pending--; };
    this.tail = p.then(done, done);
    return p;
  }

  /** spec §1.5 steps 1-3 and 6: size checks, then dispatch on the header GUID. */
  private dispatch(buf: Uint8Array, bufferSize: number): MmResult | Promise<MmResult> {
    if (bufferSize < MM_HEADER_SIZE || buf.length < MM_HEADER_SIZE) {
      return { deviceStatus: DeviceStatus.ERR_BAD_BUFFER_SIZE, reply: undefined, reason: 'no-buffer' };
    }
    const messageLength = messageLengthOf(buf);
    const total = MM_HEADER_SIZE + messageLength;
    if (total > bufferSize || total > buf.length) {
      return { deviceStatus: DeviceStatus.ERR_BAD_BUFFER_SIZE, reply: undefined, reason: 'message-exceeds-buffer' };
    }
    const reply = total === buf.length ? buf : buf.subarray(0, total);
    const s = this.state;
    switch (mmTargetOf(buf)) {
      case 'variable': {
        if (messageLength < VAR_HEADER_SIZE) return { deviceStatus: DeviceStatus.ERR_BAD_BUFFER_SIZE, reply, reason: 'message-too-short' };
        s.bufferSize = bufferSize;
        const m = new MessageView(reply.subarray(MM_HEADER_SIZE));
        const out = this.variableFunction(m);
        return out instanceof Promise ? out.then((o) => finishVariable(m, reply, o)) : finishVariable(m, reply, out);
      }
      case 'policy': {
        if (messageLength < POLICY_HEADER_SIZE) return { deviceStatus: DeviceStatus.ERR_BAD_BUFFER_SIZE, reply, reason: 'message-too-short' };
        const a = answerPolicyMessage(s.policy, reply.subarray(MM_HEADER_SIZE), policyContext(s));
        return { deviceStatus: a.deviceStatus, reply, reason: a.reason, deviation: a.deviation };
      }
      // Boot-phase events (spec §2.2, §3.5): any MessageLength, reply unchanged.
      case 'endOfDxe': s.flags.endOfDxe = true; return { deviceStatus: DeviceStatus.SUCCESS, reply };
      case 'readyToBoot': s.flags.readyToBoot = true; return { deviceStatus: DeviceStatus.SUCCESS, reply };
      case 'exitBootServices': s.flags.exitBootServices = true; return { deviceStatus: DeviceStatus.SUCCESS, reply };
      default:
        return { deviceStatus: DeviceStatus.ERR_NOT_SUPPORTED, reply, reason: 'unknown-mm-guid' };
    }
  }

  /** spec §2.4: dispatch on the function id. */
  private variableFunction(m: MessageView): Outcome | Promise<Outcome> {
    const s = this.state;
    const fn = m.functionId;
    switch (fn) {
      case VarFunction.GET_VARIABLE: return getVariable(s, m);
      case VarFunction.GET_NEXT_VARIABLE_NAME: return getNextVariableName(s, m);
      case VarFunction.SET_VARIABLE: return this.audited(m, () => setVariable(s, m));
      case VarFunction.QUERY_VARIABLE_INFO: return queryVariableInfo(s, m);
      case VarFunction.READY_TO_BOOT: s.flags.readyToBoot = true; return ok(0);
      case VarFunction.EXIT_BOOT_SERVICE: s.flags.exitBootServices = true; return ok(0);
      case VarFunction.LOCK_VARIABLE: return lockVariable(s, m);
      case VarFunction.GET_PAYLOAD_SIZE: return getPayloadSize(s, m);
      case VarFunction.GET_STATISTICS:
      case VarFunction.VAR_CHECK_VARIABLE_PROPERTY_SET:
      case VarFunction.VAR_CHECK_VARIABLE_PROPERTY_GET:
        return s.options.edk2VarCheck ? varCheckFunction(s, fn, m) : fail('function-unsupported');
      default:
        // 12-14 (runtime cache): a host service has no guest-side cache to sync (spec §2.4).
        return fail('function-unsupported');
    }
  }
}

/** spec §2.3: the status goes into ReturnStatus, overridden by BUFFER_TOO_SMALL if MessageLength < L. */
function finishVariable(m: MessageView, reply: Uint8Array, out: Outcome): MmResult {
  const tooSmall = m.length < out.responseLength;
  m.setReturnStatus(tooSmall ? EfiStatus.BUFFER_TOO_SMALL : out.status);
  if (tooSmall) return { deviceStatus: DeviceStatus.SUCCESS, reply, reason: 'buffer-too-small' };
  return { deviceStatus: DeviceStatus.SUCCESS, reply, reason: out.reason, ...(out.deviation ? { deviation: out.deviation } : {}) };
}
