/**
 * Newline-framed text (qtest's line protocol, QMP's JSON lines): the complete
 * lines in `held + chunk`, and what is left for the next chunk.
 */
export function takeLines(held: string, chunk: string): { lines: string[]; rest: string } {
  const text = held + chunk;
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], rest: text };
  return { lines: text.slice(0, end).split('\n'), rest: text.slice(end + 1) };
}
