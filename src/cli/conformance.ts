/**
 * uefi-vars conformance TARGET [--only PATTERN] [--json] [--junit FILE]:
 * the host-level conformance suite (docs/conformance.md) against
 * inproc, socket:PATH (daemon, raw register mode), socket-mm:PATH (daemon, MM
 * mode), qemu:PATH-TO-QEMU (spawned per case over qtest) or qtest:PATH
 * (attach to a qtest socket that serves a fresh machine per connection).
 */
import { inProcessTarget } from '../client/inproc.js';
import type { Target } from '../client/transport.js';
import { runConformance } from '../conformance/runner.js';
import { formatTable, outcomeLabel, toJUnit, toJson } from '../conformance/report.js';
import { writeFileAtomic } from '../persist/atomic-file.js';
import { intValue, parseCommand, UsageError, type CommandSpec } from './command.js';
import { Exit, err, out } from './io.js';

export const conformanceSpec: CommandSpec = {
  name: 'conformance',
  summary: 'run the uefi-vars conformance suite (spec §8) against an implementation',
  usage: ['conformance TARGET [--only PATTERN] [--json] [--junit FILE] [--jobs N] [--timeout MS]'],
  options: [
    { name: 'only', type: 'string', multiple: true, value: 'PATTERN', help: 'run only cases whose name contains PATTERN, or spec item N (e.g. 21); comma-separated or repeated' },
    { name: 'json', type: 'boolean', help: 'print the report as JSON instead of the table' },
    { name: 'junit', type: 'string', value: 'FILE', help: 'also write a JUnit XML report to FILE' },
    { name: 'jobs', type: 'string', value: 'N', help: 'cases run at once, each on its own target (default 4 for qemu:, else 1)' },
    { name: 'timeout', type: 'string', value: 'MS', help: 'per-case limit before the target counts as hung (default 10000)' },
    { name: 'quiet', short: 'q', type: 'boolean', help: 'no per-case progress on stderr' },
  ],
  details: 'TARGET: inproc | socket:PATH (daemon, raw register mode) | socket-mm:PATH (daemon, MM mode) | '
    + 'qemu:PATH-TO-QEMU (spawned per case: -machine q35 -accel qtest -device uefi-vars-x64) | qtest:PATH (attach).\n'
    + 'Results: pass, FAIL, known QEMU difference ([BUG]/[DIFF] items answered as QEMU does), skipped (not observable '
    + 'on this target), TARGET CRASH / TARGET HANG (with the last request), SUITE ERROR.\n'
    + 'Exit: 0 when nothing failed, crashed, hung or errored; 2 otherwise; 1 on usage or I/O errors.',
};

async function targetFor(spec: string): Promise<Target> {
  if (spec === 'inproc') return inProcessTarget();
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  if (!arg) throw new UsageError(`TARGET ${JSON.stringify(spec)}: expected inproc, socket:PATH, socket-mm:PATH, qemu:PATH or qtest:PATH`);
  const node = await import('../client/node/index.js');
  switch (kind) {
    case 'socket': return node.socketTarget(arg, 'raw');
    case 'socket-mm': return node.socketTarget(arg, 'mm');
    case 'qemu': return node.qemuTarget(arg);
    case 'qtest': return node.qtestAttachTarget(arg);
    default: throw new UsageError(`unknown target kind ${JSON.stringify(kind)} (inproc, socket:, socket-mm:, qemu:, qtest:)`);
  }
}

export async function runConformanceCommand(argv: string[]): Promise<number> {
  const p = parseCommand(conformanceSpec, argv);
  const [spec, ...rest] = p.positional;
  if (!spec || rest.length) throw new UsageError(`usage: uefi-vars ${conformanceSpec.usage[0]}`);
  const target = await targetFor(spec);
  const only = (p.lists.get('only') ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  const jobs = intValue(p, 'jobs') ?? (spec.startsWith('qemu:') ? 4 : 1);
  const timeout = intValue(p, 'timeout') ?? 10_000;
  const quiet = p.flags.has('quiet') || p.flags.has('json');
  const report = await runConformance(target, {
    only, jobs, caseTimeoutMs: timeout,
    onResult: quiet ? undefined : (r) => err(`${outcomeLabel(r.outcome).padEnd(22)} ${r.id}`),
  });
  if (report.results.length === 0) { err(`uefi-vars conformance: no case matches --only ${only.join(',')}`); return Exit.FAILURE; }
  out(p.flags.has('json') ? toJson(report) : formatTable(report, process.stdout.columns || 160));
  const junit = p.values.get('junit');
  if (junit) {
    try { await writeFileAtomic(junit, new TextEncoder().encode(toJUnit(report)), 0o644); } catch (e) {
      err(`uefi-vars conformance: ${junit}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return Exit.FAILURE;
    }
  }
  return report.ok ? Exit.OK : Exit.EFI_ERROR;
}
