import { open, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname } from 'node:path';
import { fsyncDir } from './atomic-file.js';

/**
 * The append-only audit file of one store (docs/audit.md): JSON lines beside
 * the store, `STORE.audit.jsonl`, one object per line, each made durable
 * (fsync) before the next is written. Never rewritten, never truncated: a
 * record once written stays. The records are opaque here (persist knows only
 * stores); the daemon and the CLI say what they hold.
 */

/** Where the audit trail of the store at `storePath` lives. */
export function auditFilePath(storePath: string): string {
  return `${storePath}.audit.jsonl`;
}

/**
 * Append one record as one line and fsync it. A file whose last line was cut
 * short (a crash in the middle of a write) gets a newline first, so the torn
 * line stays on its own and the new record is whole. A file this call creates
 * also has its directory fsynced, so the file itself survives a crash.
 */
export async function appendAuditLine(path: string, record: object): Promise<void> {
  const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
  const existed = await stat(path).then((s) => s.size, () => -1);
  const fh = await open(path, 'a+', 0o600);
  try {
    let out = line;
    if (existed > 0) {
      const last = Buffer.alloc(1);
      const { bytesRead } = await fh.read(last, 0, 1, existed - 1);
      if (bytesRead === 1 && last[0] !== 0x0a) out = Buffer.concat([Buffer.from('\n'), line]);
    }
    // O_APPEND: every write lands at the end, whatever another writer did meanwhile.
    let off = 0;
    while (off < out.length) {
      const { bytesWritten } = await fh.write(out, off, out.length - off);
      off += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (existed < 0) await fsyncDir(dirname(path));
}

/** One line of an audit file: the parsed object, or why it is not one. */
export type AuditLine =
  | { line: number; record: Record<string, unknown> }
  | { line: number; problem: string; torn: boolean };

/**
 * The lines of an audit file in order, read as a stream (the file only grows).
 * A missing file has no lines. `torn` marks a line that is the start of a JSON
 * object cut short: the tail of a write a crash interrupted (the next append
 * put it on a line of its own), not damage.
 */
export async function* readAuditFile(path: string): AsyncGenerator<AuditLine> {
  let size: number;
  try { size = (await stat(path)).size; } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (size === 0) return;
  const endsWithNewline = await lastByteIsNewline(path, size);
  // Read only what was there when we started: a record appended meanwhile waits for the next read.
  // (No await between here and the loop: lines readline emits before iteration starts would be lost.)
  const lines = createInterface({ input: createReadStream(path, { start: 0, end: size - 1 }), crlfDelay: Infinity });
  let n = 0;
  let pending: { text: string; line: number } | undefined;
  const parse = (text: string, line: number, last: boolean): AuditLine | undefined => {
    if (text.trim() === '') return undefined;
    try {
      const v: unknown = JSON.parse(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) return { line, record: v as Record<string, unknown> };
      return { line, problem: 'not a JSON object', torn: false };
    } catch (e) {
      const torn = (last || cutShort(text, e as Error)) && text.startsWith('{');
      return { line, problem: torn ? 'cut short (an interrupted write)' : 'not JSON', torn };
    }
  };
  for await (const text of lines) {
    n++;
    if (pending) { const r = parse(pending.text, pending.line, false); if (r) yield r; }
    pending = { text, line: n };
  }
  if (pending) { const r = parse(pending.text, pending.line, !endsWithNewline); if (r) yield r; }
}

/** JSON.parse failed at the very end of the text: a prefix of a document, not a wrong one. */
function cutShort(text: string, e: Error): boolean {
  if (/end of JSON input/i.test(e.message)) return true;
  const at = /at position (\d+)/.exec(e.message);
  return at !== null && Number(at[1]) === text.length;
}

async function lastByteIsNewline(path: string, size: number): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    await fh.close();
  }
}
