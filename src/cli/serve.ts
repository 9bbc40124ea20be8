// PLACEHOLDER — the daemon helper replaces this file.
export async function runServe(_args: string[]): Promise<number> {
  process.stderr.write('uefi-vars serve: not implemented yet\n');
  return 1;
}
