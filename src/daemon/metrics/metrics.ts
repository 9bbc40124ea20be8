import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { RequestStats } from './request-stats.js';
import { functionName, isKnownFunction, peekRequest, statusOffsetOf, type RequestPeek } from '../../wire/mm.js';
import { statusName, DeviceStatus } from '../../wire/status.js';
import type { MmResult } from '../../service/mm-handler.js';
import type { VmEntry } from '../server/registry.js';

/**
 * The daemon's Prometheus metrics. Every label value comes from a closed set
 * (function names, status names, the service's named reasons, loaded VM ids):
 * a hostile guest choosing function ids or GUIDs must not be able to grow the
 * series count.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly requests: RequestStats;
  readonly authFailures: Counter<'reason'>;
  readonly resets: Counter;
  readonly connections: Gauge;
  readonly connectionsClosed: Counter<'reason'>;
  readonly throttled: Counter;
  readonly busy: Counter;
  readonly hostWrites: Counter<'op'>;
  readonly storeWriteFailures: Counter<'reason'>;
  /** Audit records (daemon/server/audit-sink.ts): vm from loaded ids, variable from AUDITED_VARIABLES, result applied|refused. */
  readonly auditRecords: Counter<'vm' | 'variable' | 'result'>;
  readonly auditWriteFailures: Counter<'sink'>;

  constructor(vms: () => readonly VmEntry[]) {
    const registers = [this.registry];
    this.requests = new RequestStats(this.registry);
    this.authFailures = new Counter({
      name: 'uefi_vars_auth_failures_total', help: 'Authenticated variable writes refused, by named reason',
      labelNames: ['reason'], registers,
    });
    this.resets = new Counter({ name: 'uefi_vars_resets_total', help: 'Device hard resets requested by VMMs', registers });
    this.connections = new Gauge({ name: 'uefi_vars_connections', help: 'Open data-socket connections', registers });
    this.connectionsClosed = new Counter({
      name: 'uefi_vars_connections_closed_total', help: 'Data-socket connections closed, by named reason',
      labelNames: ['reason'], registers,
    });
    this.throttled = new Counter({ name: 'uefi_vars_throttled_total', help: 'MM operations delayed by the per-VM rate limit', registers });
    this.busy = new Counter({ name: 'uefi_vars_busy_total', help: 'MM operations refused by the per-VM in-flight limit', registers });
    this.hostWrites = new Counter({
      name: 'uefi_vars_host_writes_total', help: 'Host-side variable writes through the management API',
      labelNames: ['op'], registers,
    });
    this.storeWriteFailures = new Counter({
      name: 'uefi_vars_store_write_failures_total', help: 'Store writes that failed (the request was refused and undone), by named reason',
      labelNames: ['reason'], registers,
    });
    this.auditRecords = new Counter({
      name: 'uefi_vars_audit_records_total', help: 'Secure Boot changes audited (docs/audit.md), by VM, variable and result (applied or refused)',
      labelNames: ['vm', 'variable', 'result'], registers,
    });
    this.auditWriteFailures = new Counter({
      name: 'uefi_vars_audit_write_failures_total', help: 'Audit records that could not be written (the store is not affected), by sink (file or postgres)',
      labelNames: ['sink'], registers,
    });
    new Gauge({
      name: 'uefi_vars_storage_used_bytes', help: 'Variable storage in use per VM, accounted as QEMU does (spec 3.8)',
      labelNames: ['vm'], registers,
      collect() { for (const vm of vms()) this.set({ vm: vm.id }, vm.service.usedStorage); },
    });
    new Gauge({
      name: 'uefi_vars_storage_free_bytes', help: 'Variable storage left per VM',
      labelNames: ['vm'], registers,
      collect() { for (const vm of vms()) this.set({ vm: vm.id }, Math.max(0, vm.service.options.size - vm.service.usedStorage)); },
    });
    new Gauge({
      name: 'uefi_vars_vms_loaded', help: 'VMs whose store is loaded', registers,
      collect() { this.set(vms().length); },
    });
    // Prometheus' standard names (process_cpu_seconds_total, process_resident_memory_bytes, ...), as every exporter has them.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Count one answered MM request. `request` is the buffer as the guest sent it. */
  observeRequest(request: Uint8Array, result: MmResult, seconds: number): void {
    this.requests.observe(functionLabel(request), statusLabel(request, result), seconds);
    if (result.reason?.startsWith('auth-')) this.authFailures.inc({ reason: result.reason });
  }
}

const TARGET_LABELS: Record<Exclude<RequestPeek['target'], 'variable'>, string> = {
  short: 'SHORT_BUFFER', unknown: 'UNKNOWN_GUID', policy: 'VAR_CHECK_POLICY',
  endOfDxe: 'EVENT_END_OF_DXE', readyToBoot: 'EVENT_READY_TO_BOOT', exitBootServices: 'EVENT_EXIT_BOOT_SERVICES',
};

/** The bounded label for what a request asked: a variable function, the policy protocol, an event. */
export function functionLabel(request: Uint8Array): string {
  const p = peekRequest(request);
  if (p.target !== 'variable') return TARGET_LABELS[p.target];
  if (p.function === undefined) return 'SHORT_MESSAGE';
  return isKnownFunction(p.function) ? functionName(p.function) : 'UNKNOWN_FUNCTION';
}

const DEVICE_NAMES = new Map<number, string>(Object.entries(DeviceStatus).map(([k, v]) => [v, `DEVICE_${k}`]));

/** The EFI status the guest sees (ReturnStatus / policy Result), or the device status when the transport failed. */
export function statusLabel(request: Uint8Array, result: MmResult): string {
  if (result.deviceStatus !== DeviceStatus.SUCCESS || !result.reply) {
    return DEVICE_NAMES.get(result.deviceStatus) ?? 'DEVICE_OTHER';
  }
  const reply = result.reply;
  // ReturnStatus or the policy header's Result (spec §2.3, §5.1), where the request's target puts it.
  const at = statusOffsetOf(peekRequest(request).target);
  if (at < 0 || reply.length < at + 8) return 'DEVICE_SUCCESS';
  const v = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const lo = v.getUint32(at, true), hi = v.getUint32(at + 4, true);
  // Every named EFI status has a small code with the high bit set (errors) or clear (warnings).
  const table = hi === 0 ? WARNING_LABELS : hi === 0x80000000 ? ERROR_LABELS : undefined;
  if (!table || lo >= table.length) return 'EFI_OTHER';
  return table[lo] ??= efiLabel((BigInt(hi) << 32n) | BigInt(lo));
}

function efiLabel(v: bigint): string {
  const name = statusName(v);
  return name.startsWith('EFI_') ? name : 'EFI_OTHER';
}

/** Label strings by status code, made once each (a request's label is then a constant, not a new string). */
const WARNING_LABELS: (string | undefined)[] = new Array<string | undefined>(64);
const ERROR_LABELS: (string | undefined)[] = new Array<string | undefined>(64);
