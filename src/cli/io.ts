/** Process-facing helpers shared by the commands. Exit codes: docs/cli.md. */
export const Exit = { OK: 0, FAILURE: 1, EFI_ERROR: 2 } as const;

export function out(line: string): void { process.stdout.write(line + '\n'); }
export function err(line: string): void { process.stderr.write(line + '\n'); }
