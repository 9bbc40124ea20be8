import { guidAt } from '../wire/guid.js';
import { MM_HEADER_SIZE, PolicyHeader, POLICY_SIGNATURE, POLICY_REVISION, PolicyCommand } from '../wire/mm.js';
import { nameKey } from '../wire/ucs2.js';
import { ENTRY_HEADER_SIZE, EntryField, LockType, STATE_NAME_OFFSET, entrySizeField, framingProblem, nameHasSurrogate } from './entry.js';
import { bestMatch } from './match.js';
import type { PolicyReason } from './reasons.js';
import { addPolicy, tableBytes } from './registry.js';
import { type PolicyContext, type PolicyState, type ResolvedPolicyOptions, interfaceLocked } from './types.js';

/** VAR_CHECK_POLICY_COMM_HEADER and the command ids live in the MM codec (spec §5.1, §5.2). */
export const CommHeader = PolicyHeader;
export const COMM_SIGNATURE = POLICY_SIGNATURE;
export const COMM_REVISION = POLICY_REVISION;
export { PolicyCommand };

/**
 * edk2's fixed buffer arithmetic (VarCheckPolicyMmi.h): the MM buffer is
 * VAR_CHECK_POLICY_MM_COMM_BUFFER_SIZE = max(24 + 20 + 4 KiB, 16 KiB) = 16384 bytes,
 * so a DUMP page carries 16384 − (24 + 20 + 13) bytes and GET_INFO leaves
 * 16384 − (24 + 20 + 68) bytes for the two names. Both commands need a message of
 * 16360 bytes, which is what VariablePolicySmmDxe sends.
 */
export const MM_COMM_BUFFER_SIZE = 16384;
export const DUMP_PARAMS_SIZE = 13;
export const DUMP_PAGE_SIZE = MM_COMM_BUFFER_SIZE - (MM_HEADER_SIZE + CommHeader.size + DUMP_PARAMS_SIZE);
export const GET_INFO_PARAMS_END = 68;
export const GET_INFO_BUFFER_SIZE = MM_COMM_BUFFER_SIZE - (MM_HEADER_SIZE + CommHeader.size + GET_INFO_PARAMS_END);

/** VAR_CHECK_POLICY_COMM_DUMP_PARAMS, offsets in the message. */
export const DumpField = { pageRequested: 20, totalSize: 24, pageSize: 28, hasMore: 32, data: 33 } as const;
/** VAR_CHECK_POLICY_COMM_GET_INFO_PARAMS, offsets in the message. */
export const InfoField = { vendorGuid: 20, inputNameSize: 36, outputNameSize: 40, policyEntry: 44, inputName: 88 } as const;

interface Io {
  readonly msg: Uint8Array;
  readonly view: DataView;
}

/**
 * One VarCheckPolicy message (edk2 VarCheckPolicyLibMmiHandler), answered in
 * place. `msg.length` is MessageLength ≥ 20; the Result is always written and
 * the length never changes. Returns the named reason (undefined = EFI_SUCCESS).
 */
export function runPolicyCommand(
  s: PolicyState, o: ResolvedPolicyOptions, msg: Uint8Array, ctx: PolicyContext,
): PolicyReason | undefined {
  const io: Io = { msg, view: new DataView(msg.buffer, msg.byteOffset, msg.byteLength) };
  // edk2 checks Signature and Revision before anything else; every QEMU trace
  // request carries 'VCPC' / 1, so the check costs no replay.
  if (io.view.getUint32(CommHeader.signature, true) !== COMM_SIGNATURE ||
      io.view.getUint32(CommHeader.revision, true) !== COMM_REVISION) {
    return 'bad-signature';
  }
  const command = io.view.getUint32(CommHeader.command, true);
  // A paginated dump is abandoned by any other command (edk2 mPaginationCache).
  if (command !== PolicyCommand.DUMP) s.dumpCache = undefined;
  // QEMU answers EFI_UNSUPPORTED to DISABLE, DUMP and the two GET_INFOs: every answer of ours is P2.
  if (command === PolicyCommand.DISABLE || command === PolicyCommand.DUMP || command === PolicyCommand.GET_INFO || command === PolicyCommand.GET_LOCK_VAR_STATE_INFO) {
    const r = edk2Command(s, o, io, ctx, command);
    s.mark = 'policy-edk2-commands';
    return r;
  }
  switch (command) {
    case PolicyCommand.IS_ENABLED: return isEnabled(s, io);
    case PolicyCommand.REGISTER: return register(s, o, io, ctx);
    // QEMU answers a repeated LOCK with EFI_SUCCESS (trace policy-register seq 19);
    // edk2's LockVariablePolicy would say EFI_WRITE_PROTECTED.
    case PolicyCommand.LOCK: s.locked = true; return undefined;
    default: return 'unknown-command';
  }
}

function edk2Command(s: PolicyState, o: ResolvedPolicyOptions, io: Io, ctx: PolicyContext, command: number): PolicyReason | undefined {
  if (command === PolicyCommand.DISABLE) return disable(s, o, ctx);
  if (command === PolicyCommand.DUMP) return dump(s, io);
  return getInfo(s, io, command === PolicyCommand.GET_INFO);
}

/** edk2 DisableVariablePolicy, in its order. */
function disable(s: PolicyState, o: ResolvedPolicyOptions, ctx: PolicyContext): PolicyReason | undefined {
  if (s.disabled) return 'already-disabled';
  if (interfaceLocked(s, o, ctx)) return 'interface-locked';
  if (!o.allowDisable) return 'disable-not-allowed';
  s.disabled = true;
  return undefined;
}

/** State := 1 while enforced; QEMU's EFI_BAD_BUFFER_SIZE without room for it (trace policy-register seq 2). */
function isEnabled(s: PolicyState, io: Io): PolicyReason | undefined {
  if (io.msg.length < CommHeader.size + 1) return 'is-enabled-too-short';
  io.msg[CommHeader.size] = s.disabled ? 0 : 1;
  return undefined;
}

/**
 * REGISTER: the lock first and then QEMU's framing checks with QEMU's statuses
 * (spec §5.3 steps 1-7; uefi_vars_mm_check_policy_proto tests policy_locked
 * before anything else), then edk2's structure rules and the duplicate test.
 */
function register(s: PolicyState, o: ResolvedPolicyOptions, io: Io, ctx: PolicyContext): PolicyReason | undefined {
  if (interfaceLocked(s, o, ctx)) return 'interface-locked';
  const at = CommHeader.size;
  if (io.msg.length < at + ENTRY_HEADER_SIZE) return 'register-too-short';
  const size = entrySizeField(io.msg, at);
  if (at + size > io.msg.length) return 'entry-past-message';
  if (size < ENTRY_HEADER_SIZE) return 'entry-too-small';
  const raw = io.msg.slice(at, at + size);
  const framing = framingProblem(raw);
  if (framing) return framing;
  if (nameHasSurrogate(raw)) return 'name-surrogate';
  return addPolicy(s, raw);
}

/**
 * DUMP, paginated as edk2 does: page 0 snapshots the table and reports TotalSize
 * (HasMore when it is not empty); pages 1..n carry DUMP_PAGE_SIZE bytes each and
 * the last one drops the snapshot. A page past the end is EFI_INVALID_PARAMETER
 * (TotalSize already written); a page ≥ 1 without a snapshot is EFI_TIMEOUT.
 *
 * edk2 computes the last page's size as TotalSize % DUMP_PAGE_SIZE, which is 0
 * when the table is an exact multiple of the page (its last page then carries no
 * data); we send the full last page.
 */
function dump(s: PolicyState, io: Io): PolicyReason | undefined {
  const { msg, view } = io;
  if (msg.length < DumpField.data + DUMP_PAGE_SIZE) return 'dump-too-short';
  const page = view.getUint32(DumpField.pageRequested, true);
  if (page === 0) {
    const table = tableBytes(s.entries);
    s.dumpCache = table.length > 0 ? table : undefined;
    view.setUint32(DumpField.totalSize, table.length, true);
    view.setUint32(DumpField.pageSize, 0, true);
    msg[DumpField.hasMore] = table.length > 0 ? 1 : 0;
    return undefined;
  }
  const cache = s.dumpCache;
  if (!cache) {
    view.setUint32(DumpField.totalSize, 0, true);
    view.setUint32(DumpField.pageSize, 0, true);
    msg[DumpField.hasMore] = 0;
    return 'dump-expired';
  }
  view.setUint32(DumpField.totalSize, cache.length, true);
  const pages = Math.ceil(cache.length / DUMP_PAGE_SIZE);
  if (page > pages) return 'dump-page-out-of-range';
  const start = (page - 1) * DUMP_PAGE_SIZE;
  const chunk = cache.subarray(start, Math.min(start + DUMP_PAGE_SIZE, cache.length));
  msg.set(chunk, DumpField.data);
  view.setUint32(DumpField.pageSize, chunk.length, true);
  const last = page === pages;
  msg[DumpField.hasMore] = last ? 0 : 1;
  if (last) s.dumpCache = undefined;
  return undefined;
}

/**
 * GET_INFO and GET_LOCK_VAR_STATE_INFO (edk2 VarCheckPolicyLibMmiHandler with
 * GetVariablePolicyInfo / GetLockOnVariableStateVariablePolicyInfo): the best
 * policy for (InputVendorGuid, InputVariableName) is copied to OutputPolicyEntry
 * (its 44-byte header, or for the state variant its 18-byte state policy), and
 * its name (or state variable name) goes right after the input name.
 * OutputVariableNameSize is the guest's capacity on input and the needed size on
 * output; too small → EFI_BUFFER_TOO_SMALL with the entry already filled in.
 *
 * Two guards edk2 lacks: the input name must hold a NUL within
 * InputVariableNameSize (edk2 reads on past it), and the capacity is capped at
 * the room really left in the message (edk2 would copy past its buffer).
 */
function getInfo(s: PolicyState, io: Io, plain: boolean): PolicyReason | undefined {
  const { msg, view } = io;
  if (msg.length < CommHeader.size + GET_INFO_PARAMS_END + GET_INFO_BUFFER_SIZE) return 'info-too-short';
  const inputSize = view.getUint32(InfoField.inputNameSize, true);
  if (inputSize > GET_INFO_BUFFER_SIZE) return 'info-name-size-too-large';
  const room = GET_INFO_BUFFER_SIZE - inputSize;
  const requested = view.getUint32(InfoField.outputNameSize, true);
  msg.fill(0, InfoField.policyEntry, InfoField.inputName);

  let terminated = false;
  for (let o = InfoField.inputName; o + 1 < InfoField.inputName + inputSize; o += 2) {
    if (msg[o] === 0 && msg[o + 1] === 0) { terminated = true; break; }
  }
  if (!terminated) return 'info-name-unterminated';
  const name = nameKey(msg, InfoField.inputName, inputSize);
  const match = bestMatch(s.entries, guidAt(msg, InfoField.vendorGuid), name);
  if (!match) return 'no-matching-policy';
  const e = match.entry;
  const nameOut = InfoField.inputName + inputSize;
  const capacity = Math.min(requested, room);
  const offsetToName = e.raw[EntryField.offsetToName]! | (e.raw[EntryField.offsetToName + 1]! << 8);

  let out: Uint8Array;
  if (plain) {
    msg.set(e.raw.subarray(0, ENTRY_HEADER_SIZE), InfoField.policyEntry);
    if (e.name === undefined) {
      // No name: size 0, and the whole name area zeroed so it reads the same every time.
      view.setUint32(InfoField.outputNameSize, 0, true);
      msg.fill(0, nameOut, nameOut + room);
      return undefined;
    }
    out = e.raw.subarray(offsetToName);
  } else {
    if (e.lockType !== LockType.LOCK_ON_VAR_STATE) return 'not-lock-on-var-state';
    msg.set(e.raw.subarray(ENTRY_HEADER_SIZE, STATE_NAME_OFFSET), InfoField.policyEntry);
    out = e.raw.subarray(STATE_NAME_OFFSET, offsetToName);
  }
  view.setUint32(InfoField.outputNameSize, out.length, true);
  if (capacity < out.length) return 'name-buffer-too-small';
  msg.set(out, nameOut);
  return undefined;
}
