import type { GuidText } from '../wire/guid.js';
import { EfiStatus, DeviceStatus } from '../wire/status.js';
import { validateEntry } from './entry.js';
import { judgeWrite } from './enforce.js';
import { CommHeader, runPolicyCommand } from './mm-handler.js';
import { type PolicyReason, policyReasonStatus, policyReasonDeviation } from './reasons.js';
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
 * PolicyContext. Every public call records its named reason in `lastReason`.
 */
export class VariablePolicy {
  private readonly s: PolicyState = {
    entries: [], locked: false, disabled: false, properties: new PropertyTable(), dumpCache: undefined, mark: undefined,
  };
  private readonly options: ResolvedPolicyOptions;
  private reason: PolicyReason | undefined;
  private deviation: DeviationId | undefined;

  constructor(options: PolicyOptions = {}) {
    this.options = resolvePolicyOptions(options);
  }

  /** The named reason behind the last refusal (undefined after a success); for logs and metrics. */
  get lastReason(): PolicyReason | undefined { return this.reason; }
  /** The documented deviation from QEMU behind the last answer, success or not (store/deviations.ts). */
  get lastDeviation(): DeviationId | undefined { return this.deviation; }
  get policyCount(): number { return this.s.entries.length; }
  get locked(): boolean { return this.s.locked; }
  get enforcing(): boolean { return !this.s.disabled; }

  private answer(r: PolicyReason | undefined): bigint {
    this.reason = r;
    this.deviation = this.s.mark ?? policyReasonDeviation(r);
    this.s.mark = undefined;
    return policyReasonStatus(r);
  }

  /**
   * VarCheckPolicy MM handler; `msg` is the message after the MM header (writable,
   * MessageLength bytes). Writes Result (u64 at offset 12) and any output in place;
   * never changes the length. Returns the device status: always 0x00 once the
   * 20-byte header is there (spec §5.1; the service checks that before calling).
   */
  handleMm(msg: Uint8Array, ctx: PolicyContext): number {
    if (msg.length < CommHeader.size) {
      this.reason = undefined;
      return DeviceStatus.ERR_BAD_BUFFER_SIZE;
    }
    const st = this.answer(runPolicyCommand(this.s, this.options, msg, ctx));
    new DataView(msg.buffer, msg.byteOffset, msg.byteLength).setBigUint64(CommHeader.result, st, true);
    return DeviceStatus.SUCCESS;
  }

  /**
   * SMM variable function 8 (LOCK_VARIABLE): `name` is the raw NameSize bytes,
   * already checked by the service to lie inside the message. edk2 semantics:
   * EFI_ACCESS_DENIED from EndOfDxe on, otherwise a LOCK_NOW policy for the name.
   */
  lockVariable(guid: GuidText, name: Uint8Array, ctx: PolicyContext): bigint {
    return this.answer(lockVariableName(this.s, this.options, guid, name, ctx));
  }

  /** EFI status for a SetVariable under the current properties and policies (EfiStatus.SUCCESS = allowed). */
  checkSetVariable(w: PolicyCheck, ctx: PolicyContext): bigint {
    return this.answer(judgeWrite(this.s, w, ctx));
  }

  /**
   * SMM function 7 (GET_STATISTICS). edk2 answers from gVariableInfo, which exists
   * only with PcdVariableCollectStatistics — a PCD OVMF's QEMU_PV_VARS build asserts
   * to be FALSE (spec §7.4) — so edk2's answer is EFI_UNSUPPORTED (SmmVariableGetStatistics).
   */
  getStatistics(_msg: Uint8Array, _ctx: PolicyContext): FunctionOutcome {
    return { status: this.answer('statistics-not-collected'), responseLength: 16, reason: this.reason, deviation: this.deviation };
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

  /** Dispatch for the service: function 7, 9 or 10 (anything else is EFI_UNSUPPORTED). */
  varCheckFunction(fn: number, msg: Uint8Array, ctx: PolicyContext): FunctionOutcome {
    switch (fn) {
      case 7: return this.getStatistics(msg, ctx);
      case 9: return this.setVariableProperty(msg, ctx);
      case 10: return this.getVariableProperty(msg, ctx);
      default: this.reason = undefined; return { status: EfiStatus.UNSUPPORTED, responseLength: 16, reason: undefined };
    }
  }

  private outcome(r: PolicyReason | undefined, responseLength: number): FunctionOutcome {
    return { status: this.answer(r), responseLength, reason: r, deviation: this.deviation };
  }

  /** Device hard reset: policies and properties dropped, lock and disable released (spec §5.5). */
  reset(): void {
    this.s.entries = [];
    this.s.locked = false;
    this.s.disabled = false;
    this.s.properties.clear();
    this.s.dumpCache = undefined;
    this.reason = undefined;
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
