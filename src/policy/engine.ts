import type { GuidText } from '../wire/guid.js';
import { validateEntry } from './entry.js';
import { judgeWrite } from './enforce.js';
import { CommHeader, runPolicyCommand } from './mm-handler.js';
import { type PolicyReason, policyReasonDeviation } from './reasons.js';
import type { DeviationId } from '../store/deviations.js';
import { lockVariableName } from './registry.js';
import {
  type PolicyCheck, type PolicyContext, type PolicyOptions, type PolicyState, type ResolvedPolicyOptions,
  resolvePolicyOptions,
} from './types.js';
import {
  type FunctionOutcome, PROPERTY_SIZE, PROPERTY_TABLE_LIMITS, PropertyMsg, PropertyTable, decodeProperty, encodeProperty,
  readPropertyRequest, PROPERTY_REVISION,
} from './var-check.js';

export type { PolicyCheck, PolicyContext, PolicyOptions } from './types.js';
export type { FunctionOutcome } from './var-check.js';
export type { PolicyReason } from './reasons.js';
export { CommHeader } from './mm-handler.js';

/**
 * What the engine decided: the named reason of a refusal (undefined = allowed /
 * done) and the documented deviation from QEMU behind the answer, success or not
 * (store/deviations.ts). The EFI status is the service's to give (service/reasons.ts).
 */
export interface PolicyDecision {
  readonly reason: PolicyReason | undefined;
  readonly deviation: DeviationId | undefined;
}

const ALLOWED: PolicyDecision = Object.freeze({ reason: undefined, deviation: undefined });

/** One VarCheck property in a snapshot: the variable and its 24-byte VAR_CHECK_VARIABLE_PROPERTY. */
export interface PropertySnapshot {
  readonly guid: GuidText;
  /** UCS-2 name bytes including the NUL. */
  readonly name: Uint8Array;
  readonly property: Uint8Array;
}

/**
 * Policy state for migration (not part of the JSON store): the registered entries
 * byte for byte in registration order, the interface flags, and the VarCheck
 * properties. An in-flight DUMP pagination is not carried over (the guest then
 * gets edk2's EFI_TIMEOUT and starts again from page 0).
 */
export interface PolicySnapshot {
  readonly entries: readonly Uint8Array[];
  readonly locked: boolean;
  readonly disabled: boolean;
  readonly properties?: readonly PropertySnapshot[];
}

/** A snapshot that does not decode; `reason` names the first bad entry's problem. */
export class PolicySnapshotError extends Error {
  override readonly name = 'PolicySnapshotError';
  constructor(readonly reason: string, message: string) { super(message); }
}

function ucs2z(s: string): Uint8Array {
  const out = new Uint8Array(2 * s.length + 2);
  for (let i = 0; i < s.length; i++) { out[2 * i] = s.charCodeAt(i) & 0xff; out[2 * i + 1] = s.charCodeAt(i) >>> 8; }
  return out;
}

/**
 * The variable policy engine (spec §5; edk2 VariablePolicyLib + VarCheckPolicyLib
 * + the policy part of VarCheckLib). Pure: all device knowledge comes in through
 * PolicyContext. Every call returns its decision: a named reason, never a status.
 */
export class VariablePolicy {
  private readonly s: PolicyState = {
    entries: [], locked: false, disabled: false, properties: new PropertyTable(), dumpCache: undefined, mark: undefined,
  };
  private readonly options: ResolvedPolicyOptions;

  constructor(options: PolicyOptions = {}) {
    this.options = resolvePolicyOptions(options);
  }

  get policyCount(): number { return this.s.entries.length; }
  get locked(): boolean { return this.s.locked; }
  get enforcing(): boolean { return !this.s.disabled; }

  /** The decision for reason `r`, with the deviation this call marked or the reason always stands for. */
  private decide(r: PolicyReason | undefined): PolicyDecision {
    const deviation = this.s.mark ?? policyReasonDeviation(r);
    this.s.mark = undefined;
    return r === undefined && deviation === undefined ? ALLOWED : { reason: r, deviation };
  }

  /**
   * VarCheckPolicy MM handler; `msg` is the message after the MM header (writable,
   * MessageLength bytes, at least the 20-byte header: the service answers a shorter
   * one with device status 0x12, spec §5.1). Writes any output in place and never
   * changes the length; the service writes the decision's status into Result.
   */
  handleMm(msg: Uint8Array, ctx: PolicyContext): PolicyDecision {
    if (msg.length < CommHeader.size) throw new RangeError(`policy message of ${msg.length} bytes, shorter than its ${CommHeader.size}-byte header`);
    return this.decide(runPolicyCommand(this.s, this.options, msg, ctx));
  }

  /**
   * SMM variable function 8 (LOCK_VARIABLE): `name` is the raw NameSize bytes,
   * already checked by the service to lie inside the message. edk2 semantics:
   * EFI_ACCESS_DENIED from EndOfDxe on, otherwise a LOCK_NOW policy for the name.
   */
  lockVariable(guid: GuidText, name: Uint8Array, ctx: PolicyContext): PolicyDecision {
    return this.decide(lockVariableName(this.s, this.options, guid, name, ctx));
  }

  /** A SetVariable under the current properties and policies: no reason = allowed (spec §5.5). */
  checkSetVariable(w: PolicyCheck, ctx: PolicyContext): PolicyDecision {
    return this.decide(judgeWrite(this.s, w, ctx));
  }

  /**
   * SMM function 7 (GET_STATISTICS). edk2 answers from gVariableInfo, which exists
   * only with PcdVariableCollectStatistics — a PCD OVMF's QEMU_PV_VARS build asserts
   * to be FALSE (spec §7.4) — so edk2's answer is EFI_UNSUPPORTED (SmmVariableGetStatistics).
   */
  getStatistics(_msg: Uint8Array, _ctx: PolicyContext): FunctionOutcome {
    return this.outcome('statistics-not-collected', 16);
  }

  /**
   * SMM function 9 (VAR_CHECK_VARIABLE_PROPERTY_SET): edk2 refuses it from EndOfDxe
   * on (SmmVariableHandler), then VarCheckLibVariablePropertySet wants a non-empty
   * name and revision 1.
   */
  setVariableProperty(msg: Uint8Array, ctx: PolicyContext): FunctionOutcome {
    if (ctx.endOfDxe) return this.outcome('var-check-after-end-of-dxe', 16);
    const req = readPropertyRequest(msg);
    if (typeof req === 'string') return this.outcome(req, 16);
    const property = decodeProperty(msg, PropertyMsg.property);
    if (property.revision !== PROPERTY_REVISION) return this.outcome('var-check-bad-revision', 16);
    const full = this.s.properties.set(req.guid, req.name, property);
    if (full) return this.outcome(full, 16);
    return this.outcome(undefined, PropertyMsg.name + req.nameSize);
  }

  /**
   * SMM function 10 (VAR_CHECK_VARIABLE_PROPERTY_GET): the property of the exact
   * name or of its wildcard slot is written back into the message; EFI_NOT_FOUND
   * when none is set. Allowed in every phase.
   */
  getVariableProperty(msg: Uint8Array, _ctx: PolicyContext): FunctionOutcome {
    const req = readPropertyRequest(msg);
    if (typeof req === 'string') return this.outcome(req, 16);
    const p = this.s.properties.get(req.guid, req.name, true);
    if (!p) return this.outcome('property-not-found', PropertyMsg.name + req.nameSize);
    encodeProperty(p, msg, PropertyMsg.property);
    return this.outcome(undefined, PropertyMsg.name + req.nameSize);
  }

  /** Dispatch for the service: function 7, 9 or 10 (anything else is not a VarCheck function, spec §2.4). */
  varCheckFunction(fn: number, msg: Uint8Array, ctx: PolicyContext): FunctionOutcome {
    switch (fn) {
      case 7: return this.getStatistics(msg, ctx);
      case 9: return this.setVariableProperty(msg, ctx);
      case 10: return this.getVariableProperty(msg, ctx);
      default: return this.outcome('var-check-unknown-function', 16);
    }
  }

  private outcome(r: PolicyReason | undefined, responseLength: number): FunctionOutcome {
    const d = this.decide(r);
    return { responseLength, reason: d.reason, deviation: d.deviation };
  }

  /** Device hard reset: policies and properties dropped, lock and disable released (spec §5.5). */
  reset(): void {
    this.s.entries = [];
    this.s.locked = false;
    this.s.disabled = false;
    this.s.properties.clear();
    this.s.dumpCache = undefined;
  }

  snapshot(): PolicySnapshot {
    return {
      entries: this.s.entries.map((e) => e.raw.slice()),
      locked: this.s.locked,
      disabled: this.s.disabled,
      properties: this.s.properties.records().map((r) => ({
        guid: r.guid, name: ucs2z(r.name), property: encodeProperty(r.property),
      })),
    };
  }

  /** Rebuild from a snapshot; every entry is validated again, so a corrupt one throws PolicySnapshotError. */
  static restore(snap: PolicySnapshot, options: PolicyOptions = {}): VariablePolicy {
    const p = new VariablePolicy(options);
    for (const raw of snap.entries) {
      const e = validateEntry(raw.slice());
      if (typeof e === 'string') throw new PolicySnapshotError(e, `policy snapshot entry ${p.s.entries.length}: ${e}`);
      p.s.entries.push(e);
    }
    for (const rec of snap.properties ?? []) {
      if (rec.property.length !== PROPERTY_SIZE) throw new PolicySnapshotError('property-size', 'policy snapshot property is not 24 bytes');
      let name = '';
      for (let o = 0; o + 1 < rec.name.length; o += 2) {
        const u = rec.name[o]! | (rec.name[o + 1]! << 8);
        if (u === 0) break;
        name += String.fromCharCode(u);
      }
      if (p.s.properties.set(rec.guid, name, decodeProperty(rec.property))) {
        throw new PolicySnapshotError('property-table-full', `policy snapshot holds more properties than ${PROPERTY_TABLE_LIMITS.entries} / ${PROPERTY_TABLE_LIMITS.bytes} bytes`);
      }
    }
    p.s.locked = snap.locked;
    p.s.disabled = snap.disabled;
    return p;
  }
}
