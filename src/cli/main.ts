#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, HelpRequested, helpText, closest, parseCommand, type CommandSpec } from './command.js';
import { StoreFileError } from '../persist/store-file.js';
import { Exit, err, out, quietOnClosedPipe } from './io.js';

export type Run = (argv: string[]) => Promise<number>;
export interface CommandModule { spec: CommandSpec; run: Run }

/**
 * The command table: name -> lazy loader of the command's { spec, run }, so
 * `uefi-vars get` loads get.ts and what it needs, nothing else. Convention:
 * the module src/cli/NAME.ts exports `nameSpec: CommandSpec` and
 * `runName(argv): Promise<number>`, and `run` parses argv with
 * parseCommand(nameSpec, argv). A new command is one line here:
 *   enroll: async () => { const m = await import('./enroll.js'); return { spec: m.enrollSpec, run: m.runEnroll }; },
 * `--help` lists the commands in this order; `uefi-vars completion`,
 * docs/cli.md's option tables and the man page are generated from the specs.
 */
export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  serve: async () => { const m = await import('./serve.js'); return { spec: m.serveSpec, run: m.runServe }; },
  print: async () => {
    // print.ts declares its spec in its own branch (issue 14); until then main checks its options.
    const m: { printSpec?: CommandSpec; runPrint: Run } = await import('./print.js');
    return m.printSpec ? { spec: m.printSpec, run: m.runPrint } : checked(PRINT_SPEC, m.runPrint);
  },
  get: async () => { const m = await import('./get.js'); return { spec: m.getSpec, run: m.runGet }; },
  set: async () => { const m = await import('./set.js'); return { spec: m.setSpec, run: m.runSet }; },
  delete: async () => { const m = await import('./set.js'); return { spec: m.deleteSpec, run: m.runDelete }; },
  convert: async () => { const m = await import('./convert.js'); return { spec: m.convertSpec, run: m.runConvert }; },
  replay: async () => { const m = await import('./replay.js'); return { spec: m.replaySpec, run: m.runReplay }; },
  enroll: async () => { const m = await import('./enroll.js'); return { spec: m.enrollSpec, run: m.runEnroll }; },
  keys: async () => { const m = await import('./keys.js'); return { spec: m.keysSpec, run: m.runKeys }; },
  sign: async () => { const m = await import('./sign.js'); return { spec: m.signSpec, run: m.runSign }; },
  esl: async () => { const m = await import('./esl.js'); return { spec: m.eslSpec, run: m.runEsl }; },
  apply: async () => { const m = await import('./apply.js'); return { spec: m.applySpec, run: m.runApply }; },
  audit: async () => { const m = await import('./audit.js'); return { spec: m.auditSpec, run: m.runAudit }; },
  diff: async () => { const m = await import('./diff.js'); return { spec: m.diffSpec, run: m.runDiff }; },
  conformance: async () => { const m = await import('./conformance.js'); return { spec: m.conformanceSpec, run: m.runConformanceCommand }; },
  'qtest-serve': async () => { const m = await import('./qtest-serve.js'); return { spec: m.qtestServeSpec, run: m.runQtestServe }; },
  ui: async () => { const m = await import('./ui.js'); return { spec: m.UI, run: m.runUi }; },
  api: async () => { const m = await import('./api.js'); return { spec: m.apiSpec, run: m.runApi }; },
  completion: async () => { const m = await import('./completion.js'); return { spec: m.completionSpec, run: m.runCompletion }; },
};

const PRINT_SPEC: CommandSpec = {
  name: 'print', summary: 'list a store\'s variables and its Secure Boot state', usage: ['print STORE [--json] [--verbose]'],
  options: [
    { name: 'json', type: 'boolean', help: 'print the report as JSON (schema: docs/cli.md)' },
    { name: 'verbose', type: 'boolean', help: 'the data of every variable as hex' },
  ],
};

/** A command whose module parses its own argv without a spec: check argv against `spec` first (--help, unknown options). */
function checked(spec: CommandSpec, run: Run): CommandModule {
  return { spec, run: (argv) => { parseCommand(spec, argv); return run(argv); } };
}

export async function loadAllCommands(): Promise<CommandModule[]> {
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

/** The package version, read beside the installed module (dist/src/cli -> the package root). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export function programHelp(commands: readonly CommandModule[]): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length)) + 2;
  return [
    'uefi-vars — UEFI variable service for virtual machines', '',
    'usage: uefi-vars COMMAND [ARGS] [OPTIONS]', '       uefi-vars help COMMAND | COMMAND --help', '       uefi-vars --version', '',
    'commands:',
    ...commands.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    '',
    'STORE: QEMU JSON, edk2 .fd (also .gz), AWS uefi-data, an efivarfs directory (read-only), or postgresql://HOST/DB#VM.',
    'GUID: text form, or the aliases global, security.   ATTRS: 0x67, 7, or NV|BS|RT|HR|AT|AP.',
    'exit codes: 0 success; 1 usage or I/O error; 2 an EFI status other than EFI_SUCCESS or replay mismatches.',
    'See docs/cli.md or man uefi-vars.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V') { out(version()); return Exit.OK; }
  if (!cmd || cmd === '--help' || cmd === '-h' || (cmd === 'help' && rest.length === 0)) {
    out(programHelp(await loadAllCommands()));
    return cmd ? Exit.OK : Exit.FAILURE;
  }
  const name = cmd === 'help' ? rest[0]! : cmd;
  const load = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load || (cmd === 'help' && rest.length > 1)) {
    const near = closest(name, Object.keys(COMMANDS));
    err(`uefi-vars: unknown command ${JSON.stringify(name)}${near ? ` (did you mean ${near}?)` : ''} (try --help)`);
    return Exit.FAILURE;
  }
  // `uefi-vars CMD --version` answers like `uefi-vars --version` (no command takes a --version of its own).
  if (cmd !== 'help' && rest.length === 1 && rest[0] === '--version') { out(version()); return Exit.OK; }
  try {
    const command = await load();
    if (cmd === 'help') { out(helpText(command.spec)); return Exit.OK; }
    return await command.run(rest);
  } catch (e) {
    if (e instanceof HelpRequested) { out(helpText(e.spec)); return Exit.OK; }
    if (e instanceof UsageError) { err(`uefi-vars ${name}: ${e.message}`); return Exit.FAILURE; }
    if (e instanceof StoreFileError) { err(`uefi-vars: ${e.message}`); return Exit.FAILURE; }
    err(`uefi-vars ${name}: ${(e as Error).message}`);
    return Exit.FAILURE;
  }
}

/** Run only as the program (also through npm's bin symlink), not when a test or the docs script imports the table. */
function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try { return realpathSync(arg) === fileURLToPath(import.meta.url); } catch { return false; }
}

if (isEntryPoint()) main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
