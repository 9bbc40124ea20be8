import { readFile } from 'node:fs/promises';
import { parsePcap } from '../wire/pcap.js';
import { VariableService } from '../service/variable-service.js';
import { replayTrace, describeDifference, type ReplayTarget } from '../replay/replay.js';
import { parseStoreTarget, readTarget } from './store-target.js';
import { deviceOptions, UsageError, DEVICE_OPTIONS, JSON_OPTION, jsonLoadOptions } from './args.js';
import { parseCommand, type CommandSpec } from './command.js';
import { Exit, out, err } from './io.js';
import { deviceReplayTarget } from '../device/replay-target.js';

export const replaySpec: CommandSpec = {
  name: 'replay',
  summary: 'replay a QEMU pcapfile capture and compare every reply byte for byte',
  usage: ['replay TRACE [--store INITIAL] [--via service|dma|pio] [--connect SOCKET [--vm ID]] [--quiet] [--json] [device options]'],
  options: [
    { name: 'store', type: 'string', value: 'INITIAL', help: 'the store the service starts from (default: empty)' },
    { name: 'lenient-json', type: 'boolean', help: 'load a QEMU JSON --store as QEMU does, repairing what it would (one warning per field)' },
    { name: 'via', type: 'string', value: 'service|dma|pio', help: 'feed requests to the service directly, or through the register-level device model' },
    { name: 'connect', type: 'string', value: 'SOCKET', help: 'replay through a running daemon' },
    { name: 'vm', type: 'string', value: 'ID', help: 'the VM id to say HELLO with (with --connect; default "default")' },
    { name: 'quiet', short: 'q', type: 'boolean', help: 'only the summary line' },
    JSON_OPTION, ...DEVICE_OPTIONS,
  ],
  details: 'One line per difference, then "N requests, M mismatches" (documented deviations counted apart). Exit 0 iff M = 0, else 2.',
};

/**
 * uefi-vars replay TRACE [--store INITIAL] [device options] [--via service|dma|pio] [--connect SOCKET [--vm ID]]
 * One line per difference, then `N requests, M mismatches` (documented
 * deviations counted apart); exit 0 iff M = 0.
 */
export async function runReplay(argv: string[]): Promise<number> {
  const p = parseCommand(replaySpec, argv);
  const [trace, ...rest] = p.positional;
  if (!trace || rest.length) throw new UsageError('usage: uefi-vars replay TRACE [--store INITIAL [--lenient-json]] [--size N] [--buffer-size N] [--force-secure-boot] [--disable-custom-mode] [--connect SOCKET]');
  const dev = deviceOptions(p);
  let bytes: Uint8Array;
  try { bytes = await readFile(trace); } catch (e) { err(`uefi-vars: ${trace}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); return Exit.FAILURE; }
  let records;
  try { records = parsePcap(bytes); } catch (e) { err(`uefi-vars: ${trace}: ${(e as Error).message}`); return Exit.FAILURE; }

  let target: ReplayTarget;
  let close = async (): Promise<void> => undefined;
  const socket = p.values.get('connect');
  if (socket) {
    if (p.values.has('store')) throw new UsageError('--store and --connect exclude each other: the daemon owns its store');
    const { connectReplayTarget } = await import('../daemon/protocol/vmm-client.js');
    const t = await connectReplayTarget(socket, p.values.get('vm') ?? 'default');
    target = t; close = () => t.close();
  } else {
    const initial = p.values.get('store');
    const variables = initial ? (await readTarget(parseStoreTarget(initial), jsonLoadOptions(p))).variables : [];
    const svc = await VariableService.create({
      variables,
      options: dev.service,
    });
    const via = p.values.get('via') ?? 'service';
    if (via !== 'service' && via !== 'dma' && via !== 'pio') throw new UsageError(`--via is service, dma or pio, got ${JSON.stringify(via)}`);
    target = via === 'service' ? svc : await deviceReplayTarget(svc, via);
  }
  try {
    const report = await replayTrace(records, target, dev.bufferSize);
    if (p.flags.has('json')) {
      out(JSON.stringify({
        trace, requests: report.requests, mismatches: report.mismatches, followingDeviation: report.followingDeviation,
        unexplained: report.unexplained, deviations: report.deviations,
        differences: p.flags.has('quiet') ? [] : report.differences.map((d) => ({
          index: d.index, function: d.function, variable: d.variable, what: d.what, deviation: d.deviation, reason: d.reason ?? null,
          deviationId: d.deviationId ?? null, follows: d.follows ?? null,
        })),
      }));
      return report.mismatches === 0 ? Exit.OK : Exit.EFI_ERROR;
    }
    if (!p.flags.has('quiet')) {
      for (const d of report.differences) out(`${d.index} ${d.function} ${d.variable}: ${d.what}${describeDifference(d)}`);
    }
    // Mismatches after a state-changing deviation stay mismatches, counted apart from the unexplained ones.
    const apart = report.followingDeviation ? ` (${report.followingDeviation} follow a documented deviation, ${report.unexplained} unexplained)` : '';
    const dev2 = report.deviations ? `, ${report.deviations} documented deviations` : '';
    out(`${report.requests} requests, ${report.mismatches} mismatches${apart}${dev2}`);
    return report.mismatches === 0 ? Exit.OK : Exit.EFI_ERROR;
  } finally {
    await close();
  }
}
