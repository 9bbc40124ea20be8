/**
 * Declarative command specs: one source for parsing, `--help`, docs/cli.md's
 * option tables and shell completion. Parsing is Node's `util.parseArgs`;
 * this file adds what it lacks: options that take two values (virt-fw-vars'
 * `--set-pk GUID CERT`), a suggestion for a misspelt option, and help text.
 */
import { parseArgs as nodeParseArgs } from 'node:util';

export interface OptionSpec {
  /** Long name without the leading `--`. */
  readonly name: string;
  /** One-letter alias without the `-`. */
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** May be given more than once (values collect in `lists` / `pairs`). */
  readonly multiple?: boolean;
  /** A string option followed by two values (`--add-db GUID CERT`); collects in `pairs`. */
  readonly arity?: 2;
  /** Placeholder shown in help: `N`, `FILE`, `GUID CERT`. */
  readonly value?: string;
  readonly help: string;
  /** Help section; options without one are listed under "options". */
  readonly group?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** One line, shown in the program's command list. */
  readonly summary: string;
  /** Usage lines without the leading `uefi-vars `. */
  readonly usage: readonly string[];
  readonly options: readonly OptionSpec[];
  /** Paragraphs after the options (exit codes, notes). */
  readonly details?: string;
}

export interface ParsedArgs {
  positional: string[];
  /** Boolean options that were given. */
  flags: Set<string>;
  /** The last value of each string option. */
  values: Map<string, string>;
  /** Every value of each repeatable string option, in order. */
  lists: Map<string, string[]>;
  /** Every value pair of each two-value option, in order. */
  pairs: Map<string, Array<[string, string]>>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Thrown by parseCommand on `--help`/`-h`; main prints the command's help and exits 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  constructor(readonly spec: CommandSpec) { super(`help for ${spec.name}`); }
}

export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', type: 'boolean', help: 'show this help and exit' };

/** Separator for a two-value option's values inside one util.parseArgs value (never in argv: NUL cannot be). */
const PAIR_SEP = '\u0000';

export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = [...spec.options, HELP_OPTION];
  const byName = new Map(options.map((o) => [o.name, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short!, o]));
  // util.parseArgs takes one value per option: join two-value options first.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { args.push(...argv.slice(i)); break; }
    const o = a.startsWith('--') ? byName.get(a.slice(2)) : a.length === 2 && a[0] === '-' ? byShort.get(a[1]!) : undefined;
    if (o?.arity === 2) {
      const [x, y] = [argv[i + 1], argv[i + 2]];
      if (x === undefined || y === undefined) throw new UsageError(`--${o.name} needs two values (${o.value ?? 'A B'})`);
      args.push(`--${o.name}=${x}${PAIR_SEP}${y}`);
      i += 2;
    } else {
      args.push(a);
    }
  }
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({
      args, allowPositionals: true, strict: true,
      options: Object.fromEntries(options.map((o) => [o.name, {
        type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple || o.arity ? { multiple: true } : {}),
      }])),
    });
  } catch (e) {
    throw new UsageError(explain(e as Error, options));
  }
  if (parsed.values['help'] === true) throw new HelpRequested(spec);
  const out: ParsedArgs = { positional: [...parsed.positionals], flags: new Set(), values: new Map(), lists: new Map(), pairs: new Map() };
  for (const [name, v] of Object.entries(parsed.values)) {
    const o = byName.get(name)!;
    if (o.type === 'boolean') {
      if (v === true || (Array.isArray(v) && v.length)) out.flags.add(name);
    } else if (o.arity === 2) {
      out.pairs.set(name, (v as string[]).map((s) => s.split(PAIR_SEP, 2) as [string, string]));
    } else if (Array.isArray(v)) {
      out.lists.set(name, v as string[]);
      if (v.length) out.values.set(name, v[v.length - 1] as string);
    } else if (typeof v === 'string') {
      out.values.set(name, v);
    }
  }
  return out;
}

/** util.parseArgs' messages, shortened and with a suggestion for a misspelt option. */
function explain(e: Error, options: readonly OptionSpec[]): string {
  const code = (e as { code?: string }).code;
  const m = /'(-{1,2}[^'\s]+)'/.exec(e.message);
  const given = m?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && given) {
    const near = closest(given.replace(/^-+/, '').split('=')[0]!, options.map((o) => o.name));
    return `unknown option ${given}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && given) {
    const o = options.find((x) => `--${x.name}` === given || `-${x.short}` === given);
    return o?.type === 'boolean' ? `${given} takes no value` : `${given} needs a value${o?.value ? ` (${o.value})` : ''}`;
  }
  return e.message.split('\n')[0]!;
}

/** The option name within edit distance 2 of `given` (or that starts with it), if any. */
export function closest(given: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const n of names) {
    const d = n.startsWith(given) && given.length >= 3 ? 1 : editDistance(given, n);
    if (d < bestD) { bestD = d; best = n; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The `--help` text of one command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`uefi-vars ${spec.name} — ${spec.summary}`, '', 'usage:'];
  for (const u of spec.usage) lines.push(`  uefi-vars ${u}`);
  const groups = new Map<string, OptionSpec[]>();
  for (const o of [...spec.options, HELP_OPTION]) {
    const g = o.group ?? 'options';
    groups.set(g, [...(groups.get(g) ?? []), o]);
  }
  for (const [g, opts] of groups) {
    lines.push('', `${g}:`);
    const left = opts.map(optionLabel);
    const width = Math.min(36, Math.max(...left.map((l) => l.length)) + 2);
    opts.forEach((o, i) => {
      const l = left[i]!;
      lines.push(l.length >= width ? `  ${l}\n  ${' '.repeat(width)}${o.help}` : `  ${l.padEnd(width)}${o.help}`);
    });
  }
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n');
}

export function optionLabel(o: OptionSpec): string {
  const names = `${o.short ? `-${o.short}, ` : ''}--${o.name}`;
  const value = o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : '';
  return names + value + (o.multiple ? ' (repeatable)' : '');
}

export function intValue(p: ParsedArgs, key: string): number | undefined {
  const v = p.values.get(key);
  if (v === undefined) return undefined;
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(v)) throw new UsageError(`--${key} must be a number, got ${JSON.stringify(v)}`);
  return Number(v);
}
