/** Conformance-suite test helpers: a qtest-serve stand-in for QEMU, and report checks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import type { ConformanceReport, Outcome } from '../../src/conformance/runner.js';

export const CLI = resolve(process.cwd(), 'dist/src/cli/main.js');

export function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'uefi-vars-conf-'));
  t.after(() => { try { rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }); } catch { /* leftover */ } });
  return d;
}

/** An executable that behaves like qemu-system-x86_64 for qtest: `uefi-vars qtest-serve` with the same arguments. */
export function fakeQemu(dir: string): string {
  const path = join(dir, 'qemu-system-x86_64');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" qtest-serve "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** `uefi-vars qtest-serve --listen PATH [args]`, killed after the test. */
export async function listenQtestServe(t: { after(fn: () => Promise<void> | void): void }, dir: string, args: string[] = []): Promise<{ socket: string; child: ChildProcess }> {
  const socket = join(dir, 'qtest.sock');
  const child = spawn(process.execPath, [CLI, 'qtest-serve', '--listen', socket, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.after(async () => {
    if (child.exitCode === null) { const gone = new Promise((r) => child.once('exit', r)); child.kill('SIGTERM'); await gone; }
  });
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = createConnection(socket);
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (up) break;
    if (i > 200) throw new Error('qtest-serve did not start listening');
    await new Promise((r) => setTimeout(r, 25));
  }
  return { socket, child };
}

/** Every case ran and nothing failed; outcomes limited to `allowed`; the ids in `mustPass` passed. */
export function assertClean(r: ConformanceReport, allowed: readonly Outcome[] = ['pass', 'known-difference', 'skipped']): void {
  const bad = r.results.filter((x) => !allowed.includes(x.outcome));
  assert.deepEqual(bad.map((x) => `${x.id}: ${x.outcome}: ${x.detail}`), []);
  assert.equal(r.ok, true);
}

export function outcomes(r: ConformanceReport): Map<string, Outcome> {
  return new Map(r.results.map((x) => [x.id, x.outcome]));
}
