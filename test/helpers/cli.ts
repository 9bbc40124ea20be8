import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve(process.cwd(), 'dist/src/cli/main.js');
export const SHARED = resolve(process.cwd(), '../shared');

export interface CliResult { code: number; stdout: string; stderr: string; lines: string[] }

/** Run the real CLI in a child process, as a user or script would. */
export function cli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'uefi-vars-test-'));
  // A failing after-hook would skip the ones added later (the kill of a process still writing here).
  t.after(() => { try { rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }); } catch { /* a leftover temp dir */ } });
  return d;
}
