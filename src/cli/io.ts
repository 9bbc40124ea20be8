/** Process-facing helpers shared by the commands. Exit codes: docs/cli.md. */
export const Exit = { OK: 0, FAILURE: 1, EFI_ERROR: 2 } as const;

export function out(line: string): void { process.stdout.write(line + '\n'); }
export function err(line: string): void { process.stderr.write(line + '\n'); }

/** Raw bytes to stdout (get --out -), resolved once written (or the reader has gone). */
export function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => { process.stdout.write(bytes, () => resolve()); });
}

/**
 * A reader that closes the pipe early (`uefi-vars print STORE | head`) is not
 * an error: stop quietly, as cat and ls do, instead of dying on an unhandled
 * EPIPE. Exit 0: the reader got what it wanted. Only reads end this way; a
 * write to a store is atomic and finished before anything is printed.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? Exit.OK);
      throw e;
    });
  }
}
