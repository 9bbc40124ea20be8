import { readFile } from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import { closest, parseCommand, UsageError, type CommandSpec, type OptionSpec, type ParsedArgs } from './command.js';

/**
 * serve's settings from three places besides the command line, all with the
 * option names as keys: a `--config FILE` (TOML or JSON: `log-level = "debug"`),
 * `UEFI_VARS_*` environment variables (`UEFI_VARS_LOG_LEVEL=debug`; booleans
 * 1/true/yes or 0/false/no), then the command line. A later source wins for a
 * value; a boolean set anywhere is set. Each source is checked on its own, so
 * an error names where the bad setting came from.
 */
export const CONFIG_OPTION: OptionSpec = { name: 'config', type: 'string', value: 'FILE', help: 'read settings from FILE (TOML or JSON, keys are the option names)' };
export const ENV_PREFIX = 'UEFI_VARS_';

/** The environment variable for an option: `log-level` -> UEFI_VARS_LOG_LEVEL. */
export function envName(option: string): string {
  return ENV_PREFIX + option.toUpperCase().replace(/-/g, '_');
}

const settable = (spec: CommandSpec): OptionSpec[] => spec.options.filter((o) => o.name !== 'config');

export async function mergedServeArgs(spec: CommandSpec, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<ParsedArgs> {
  const cli = parseCommand(spec, argv); // --help and command-line errors first
  const configPath = cli.values.get('config') ?? env[envName('config')];
  const fromConfig = configPath !== undefined ? await configArgs(spec, configPath) : [];
  const fromEnv = envArgs(spec, env);
  try { parseCommand(spec, fromEnv); } catch (e) { throw new UsageError(`environment: ${(e as Error).message}`); }
  return parseCommand(spec, [...fromConfig, ...fromEnv, ...argv]);
}

function envArgs(spec: CommandSpec, env: NodeJS.ProcessEnv): string[] {
  const args: string[] = [];
  for (const o of settable(spec)) {
    const name = envName(o.name);
    const v = env[name];
    if (v === undefined) continue;
    if (o.type === 'boolean') {
      if (/^(1|true|yes|on)$/i.test(v)) args.push(`--${o.name}`);
      else if (!/^(0|false|no|off|)$/i.test(v)) throw new UsageError(`environment: ${name}=${JSON.stringify(v)}: say 1 or 0`);
    } else {
      args.push(`--${o.name}=${v}`);
    }
  }
  return args;
}

async function configArgs(spec: CommandSpec, path: string): Promise<string[]> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) {
    throw new UsageError(`${path}: cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  const json = /\.json$/i.test(path) || (!/\.toml$/i.test(path) && text.trimStart().startsWith('{'));
  try { data = json ? JSON.parse(text) : parseToml(text); } catch (e) {
    throw new UsageError(`${path}: not valid ${json ? 'JSON' : 'TOML'} (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`${path}: must hold a table of settings`);
  const options = new Map(settable(spec).map((o) => [o.name, o]));
  const args: string[] = [];
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const o = options.get(key);
    if (!o) {
      const near = closest(key, [...options.keys()]);
      throw new UsageError(`${path}: unknown setting ${JSON.stringify(key)}${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (o.type === 'boolean') {
      if (typeof value !== 'boolean') throw new UsageError(`${path}: ${key} must be true or false`);
      if (value) args.push(`--${key}`);
    } else {
      if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`${path}: ${key} must be a string or a number`);
      args.push(`--${key}=${String(value)}`);
    }
  }
  return args;
}
