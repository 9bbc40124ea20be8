import type { ServiceOptions } from '../service/options.js';
/** Tiny argument parser: positionals plus `--flag` / `--key value` options. */
export interface ParsedArgs {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string>;
}

import { UsageError } from './command.js';
export { UsageError };

export function parseArgs(argv: readonly string[], valueOptions: readonly string[], flagOptions: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { out.positional.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const [key, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (valueOptions.includes(key)) {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new UsageError(`--${key} needs a value`);
        out.values.set(key, v);
      } else if (flagOptions.includes(key)) {
        out.flags.add(key);
      } else {
        throw new UsageError(`unknown option --${key}`);
      }
    } else {
      out.positional.push(a);
    }
  }
  return out;
}

export function intOption(p: ParsedArgs, key: string): number | undefined {
  const v = p.values.get(key);
  if (v === undefined) return undefined;
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(v)) throw new UsageError(`--${key} must be a number, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Device options shared by several commands (DESIGN.md CLI contract). */
export const DEVICE_VALUE_OPTIONS = ['size', 'buffer-size'] as const;
export const DEVICE_FLAG_OPTIONS = [
  'force-secure-boot', 'disable-custom-mode',
  // the contested rules (docs/deviations.md, "Switches")
  'allow-unsigned-pk', 'allow-pk-signed-db', 'allow-kek-signed-kek-append', 'edk2-varcheck',
] as const;

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
