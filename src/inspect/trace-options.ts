/**
 * A recorded trace's device options: the `NAME.options` file beside a
 * `NAME.pcap` (../shared/traces README: the scenario's options, `size`,
 * `force-secure-boot`, `disable-custom-mode`, `use-pio`). A trace recorded
 * with `size=65536` only replays exactly against a 64 KiB store, so every
 * replayer (the inspector's Trace view, the tests, the bench) reads the file
 * here, once, the same way. Both spellings are accepted: the CLI's
 * (`--size 65536 --force-secure-boot`) and QEMU's device properties
 * (`size=65536,force-secure-boot=on`).
 */
import type { ServiceOptions } from '../service/options.js';

export interface TraceOptions {
  /** What the service must be created with. */
  service: Partial<ServiceOptions>;
  /** The transport QEMU used (PIO instead of DMA); the replayed bytes are the same. */
  usePio: boolean;
}

export class TraceOptionsError extends Error {
  override readonly name = 'TraceOptionsError';
}

const SWITCHES = ['force-secure-boot', 'disable-custom-mode', 'use-pio'] as const;
type Switch = (typeof SWITCHES)[number];
const isSwitch = (s: string): s is Switch => (SWITCHES as readonly string[]).includes(s);

/** QEMU's bool property spellings (qapi: on/off, yes/no, true/false). */
function boolValue(key: string, v: string): boolean {
  if (['on', 'yes', 'true', '1'].includes(v)) return true;
  if (['off', 'no', 'false', '0'].includes(v)) return false;
  throw new TraceOptionsError(`${key}=${v}: expected on or off`);
}

function sizeValue(v: string | undefined): number {
  // QEMU's size property is a byte count; a suffix (k, M) is allowed by QEMU's size parser.
  const m = v === undefined ? null : /^(\d+)([kKmM]?)$/.exec(v);
  if (!m) throw new TraceOptionsError(`size: expected a byte count, got ${JSON.stringify(v ?? '')}`);
  const n = Number(m[1]) * ({ '': 1, k: 1024, K: 1024, m: 1 << 20, M: 1 << 20 } as Record<string, number>)[m[2]!]!;
  if (!Number.isSafeInteger(n) || n <= 0 || n > 0x7fffffff) throw new TraceOptionsError(`size: ${v} is out of range`);
  return n;
}

/** Parse the text of an options file. Unknown options are an error: a silently ignored one would replay against the wrong device. */
export function parseTraceOptions(text: string): TraceOptions {
  const out: TraceOptions = { service: {}, usePio: false };
  const set = (key: Switch, on: boolean): void => {
    if (key === 'use-pio') out.usePio = on;
    else if (key === 'force-secure-boot') out.service.forceSecureBoot = on;
    else out.service.disableCustomMode = on;
  };
  const tokens = text.split(/[\s,]+/).filter((t) => t && !t.startsWith('#'));
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.startsWith('--')) {
      const [key, inline] = t.slice(2).split('=', 2) as [string, string | undefined];
      if (key === 'size') out.service.size = sizeValue(inline ?? tokens[++i]);
      else if (isSwitch(key)) set(key, inline === undefined ? true : boolValue(key, inline));
      else throw new TraceOptionsError(`unknown option --${key}`);
      continue;
    }
    const eq = t.indexOf('=');
    const key = eq < 0 ? t : t.slice(0, eq);
    const value = eq < 0 ? undefined : t.slice(eq + 1);
    if (key === 'uefi-vars-x64' || key === 'uefi-vars-sysbus' || key === '-device') continue; // a pasted -device line
    if (key === 'size') out.service.size = sizeValue(value);
    else if (isSwitch(key)) set(key, value === undefined ? true : boolValue(key, value));
    else throw new TraceOptionsError(`unknown option ${JSON.stringify(t)}`);
  }
  return out;
}

/** The options file that belongs to a trace file name: `x.pcap` or `x.pcap.gz` → `x.options`. */
export function optionsFileFor(traceName: string): string {
  return traceName.replace(/\.pcap(\.gz)?$/i, '') + '.options';
}
