/**
 * A store file that cannot be read. `where` names the byte offset (`offset 0x48`)
 * or JSON key (`variables[3].data`) so the CLI prints one precise line:
 * `<file>: <where>: <problem>`.
 */
export class StoreFormatError extends Error {
  override readonly name = 'StoreFormatError';
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: ${problem}`);
  }
}
