#!/usr/bin/env node
import { UsageError, HelpRequested, helpText } from './command.js';
import { StoreFileError } from '../persist/store-file.js';
import { Exit, err, out } from './io.js';

const HELP = `uefi-vars — UEFI variable service for virtual machines

usage:
  uefi-vars serve  [--store PATH | --state-dir DIR | --postgres URL] [--socket PATH] [--api PATH] [device options]
  uefi-vars print  STORE [--json] [--verbose]
  uefi-vars get    STORE NAME GUID [--out FILE]
  uefi-vars set    STORE NAME GUID ATTRS (--data-file F | --hex H | --empty) [--phase boot|runtime] [device options]
  uefi-vars delete STORE NAME GUID [--phase boot|runtime]
  uefi-vars convert IN OUT [--to json|edk2|aws]
  uefi-vars replay TRACE [--store INITIAL] [--connect SOCKET] [device options]
  uefi-vars keys   generate DIR --cn NAME
  uefi-vars sign   --key KEY --cert CERT NAME GUID (ESL|CERT)... [--append] [--time T] --output UPDATE.auth
  uefi-vars esl    build OUT (CERT|ESL)... [--sha256 HEX] | esl list FILE
  uefi-vars apply  UPDATE STORE... [--state-dir DIR] [--dry-run] [--jobs N] [--json]
  uefi-vars diff   A B [--json]
  uefi-vars ui     [STORE|TRACE…] [--port N]   (inspector page on loopback)

device options: --size N  --buffer-size N  --force-secure-boot  --disable-custom-mode
GUID: text form, or the aliases global, security.   ATTRS: 0x67, 7, or NV|BS|RT|HR|AT|AP.
exit codes: 0 success; 1 usage or I/O error; 2 an EFI status other than EFI_SUCCESS
(set/delete/get) or replay mismatches. See docs/cli.md.`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).runServe,
  print: async () => (await import('./print.js')).runPrint,
  get: async () => (await import('./get.js')).runGet,
  set: async () => (await import('./set.js')).runSet,
  delete: async () => (await import('./set.js')).runDelete,
  convert: async () => (await import('./convert.js')).runConvert,
  enroll: async () => (await import('./enroll.js')).runEnroll,
  replay: async () => (await import('./replay.js')).runReplay,
  keys: async () => (await import('./keys.js')).runKeys,
  sign: async () => (await import('./sign.js')).runSign,
  esl: async () => (await import('./esl.js')).runEsl,
  apply: async () => (await import('./apply.js')).runApply,
  diff: async () => (await import('./diff.js')).runDiff,
  conformance: async () => (await import('./conformance.js')).runConformanceCommand,
  'qtest-serve': async () => (await import('./qtest-serve.js')).runQtestServe,
  ui: async () => (await import('./ui.js')).runUi,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { out(HELP); return cmd ? Exit.OK : Exit.FAILURE; }
  const load = commands[cmd];
  if (!load) { err(`uefi-vars: unknown command ${JSON.stringify(cmd)} (try --help)`); return Exit.FAILURE; }
  try {
    return await (await load())(rest);
  } catch (e) {
    if (e instanceof HelpRequested) { out(helpText(e.spec)); return Exit.OK; }
    if (e instanceof UsageError) { err(`uefi-vars ${cmd}: ${e.message}`); return Exit.FAILURE; }
    if (e instanceof StoreFileError) { err(`uefi-vars: ${e.message}`); return Exit.FAILURE; }
    err(`uefi-vars ${cmd}: ${(e as Error).message}`);
    return Exit.FAILURE;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
