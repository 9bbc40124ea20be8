/** Every way a byte buffer can fail to decode. Named so callers map them, never guess. */
export type WireReason =
  | 'truncated'        // a field runs past the end of the buffer
  | 'bad-guid-text'    // a GUID string is not 8-4-4-4-12 hex
  | 'bad-hex'          // a hex string has an odd length or a non-hex digit
  | 'bad-value';       // a field holds a value the structure does not allow

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(readonly reason: WireReason, message: string) {
    super(message);
  }
}
