import type { ServiceOptions } from '../service/options.js';
import { parseCommand, intValue, UsageError, type OptionSpec, type ParsedArgs as CommandArgs } from './command.js';

export { UsageError };

/** What the device options read; parseCommand's ParsedArgs (and the legacy parser's) fit it. */
export interface ParsedArgs {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

const GROUP = 'device options';

/** Device options shared by set, delete, replay and serve (DESIGN.md CLI contract; the switches: docs/deviations.md). */
export const DEVICE_OPTIONS: OptionSpec[] = [
  { name: 'size', type: 'string', value: 'N', group: GROUP, help: 'total variable storage in bytes (default 262144, as QEMU\'s size)' },
  { name: 'buffer-size', type: 'string', value: 'N', group: GROUP, help: 'the negotiated communicate buffer (default 65536, at most 65536)' },
  { name: 'force-secure-boot', type: 'boolean', group: GROUP, help: 'SecureBootEnable may not be turned off (QEMU force-secure-boot)' },
  { name: 'disable-custom-mode', type: 'boolean', group: GROUP, help: 'refuse every write of CustomMode (QEMU disable-custom-mode)' },
  { name: 'allow-unsigned-pk', type: 'boolean', group: GROUP, help: 'a PK enrolled in Setup Mode needs no self-signature (edk2\'s default)' },
  { name: 'allow-pk-signed-db', type: 'boolean', group: GROUP, help: 'db/dbx/dbt/dbr may be signed by PK as well as by KEK' },
  { name: 'allow-kek-signed-kek-append', type: 'boolean', group: GROUP, help: 'a KEK append may be signed by KEK' },
  { name: 'edk2-varcheck', type: 'boolean', group: GROUP, help: 'SMM functions 7, 9, 10 answered as edk2 does' },
];

/** Device options without --buffer-size: serve takes the buffer size from the VMM per request. */
export const SERVE_DEVICE_OPTIONS: OptionSpec[] = DEVICE_OPTIONS.filter((o) => o.name !== 'buffer-size');

/** Legacy names (kept for modules written against the old parser). */
export const DEVICE_VALUE_OPTIONS = DEVICE_OPTIONS.filter((o) => o.type === 'string').map((o) => o.name);
export const DEVICE_FLAG_OPTIONS = DEVICE_OPTIONS.filter((o) => o.type === 'boolean').map((o) => o.name);

/**
 * Legacy entry point: positionals plus `--flag` / `--key value`, now a thin
 * wrapper over parseCommand (so `-h`/`--help` and suggestions work there too).
 * New commands declare a CommandSpec instead.
 */
export function parseArgs(argv: readonly string[], valueOptions: readonly string[], flagOptions: readonly string[]): CommandArgs {
  return parseCommand({
    name: 'command', summary: '', usage: [],
    options: [
      ...valueOptions.map((name): OptionSpec => ({ name, type: 'string', help: '' })),
      ...flagOptions.map((name): OptionSpec => ({ name, type: 'boolean', help: '' })),
    ],
  }, argv);
}

export function intOption(p: ParsedArgs, key: string): number | undefined {
  return intValue({ ...p, lists: new Map(), pairs: new Map() }, key);
}

export interface DeviceOptions {
  size?: number;
  bufferSize: number;
  /** Everything that goes into ServiceOptions. */
  service: Partial<ServiceOptions>;
}

/** ServiceOptions from the device flags (shared by set, delete, replay and serve). */
export function serviceOptions(p: ParsedArgs): Partial<ServiceOptions> {
  const size = intOption(p, 'size');
  return {
    ...(size !== undefined ? { size } : {}),
    forceSecureBoot: p.flags.has('force-secure-boot'),
    disableCustomMode: p.flags.has('disable-custom-mode'),
    requireSelfSignedPk: !p.flags.has('allow-unsigned-pk'),
    allowPkSignedDb: p.flags.has('allow-pk-signed-db'),
    allowKekSignedKekAppend: p.flags.has('allow-kek-signed-kek-append'),
    edk2VarCheck: p.flags.has('edk2-varcheck'),
  };
}

/**
 * `--lenient-json`: a QEMU JSON store is loaded exactly as QEMU loads it (persist/json-lenient.ts),
 * each repaired field one warning on stderr; without it such a store is refused.
 */
export function jsonLoadOptions(p: ParsedArgs): { lenientJson?: boolean; warn?: (line: string) => void } {
  if (!p.flags.has('lenient-json')) return {};
  return { lenientJson: true, warn: (line) => process.stderr.write(`uefi-vars: warning: ${line}\n`) };
}

export function deviceOptions(p: ParsedArgs): DeviceOptions {
  const size = intOption(p, 'size');
  const bufferSize = intOption(p, 'buffer-size') ?? 65536;
  if (bufferSize > 65536) throw new UsageError('--buffer-size is at most 65536 (QEMU clamps it there)');
  return { ...(size !== undefined ? { size } : {}), bufferSize, service: serviceOptions(p) };
}

/** `--json`: the command's report as one JSON document on stdout, schema in docs/cli.md. */
export const JSON_OPTION: OptionSpec = { name: 'json', type: 'boolean', help: 'print the report as JSON (schema: docs/cli.md)' };

/** `--create`: a missing or empty store file starts as an empty store in the format its name says. */
export const CREATE_OPTION: OptionSpec = {
  name: 'create', type: 'boolean',
  help: 'a missing or empty STORE starts empty, in the format its name says (.fd: OVMF 4 MiB layout; else QEMU JSON)',
};
