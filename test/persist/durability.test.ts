import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/protocol/vmm-client.js';
import { atomicFs, removeStaleTemps } from '../../src/persist/atomic-file.js';
import { loadStoreFile } from '../../src/persist/store-file.js';
import { displayName } from '../../src/wire/ucs2.js';
import { startDaemon, setVar, getVar, EFI_SUCCESS, EFI_NOT_FOUND, TEST_GUID } from '../daemon/helpers.js';

/**
 * The disk fails under a running daemon (issue 16, docs/durability.md): a
 * guest write whose save hits ENOSPC or EIO gets EFI_DEVICE_ERROR, the store
 * file stays byte-for-byte the last good one, the service's memory is as
 * before the write, and once the disk works again the next write succeeds.
 */
const EFI_DEVICE_ERROR = 0x8000000000000007n;

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: injected`), { code });

type Fault = 'write' | 'file-sync' | 'dir-sync';

/**
 * Make writeFileAtomic's next file handles fail where `fault` says, with `code`,
 * until the returned function is called. Handles opened for reading pass.
 */
function inject(fault: Fault, code: string): () => void {
  const real = atomicFs.open;
  atomicFs.open = (async (path: string, flags: string, mode?: number): Promise<FileHandle> => {
    const fh = await real(path, flags, mode);
    const isDir = flags === 'r';
    return new Proxy(fh, {
      get(target, p): unknown {
        if (p === 'write' && fault === 'write' && !isDir) return () => Promise.reject(errno(code));
        if (p === 'sync' && ((fault === 'file-sync' && !isDir) || (fault === 'dir-sync' && isDir))) return () => Promise.reject(errno(code));
        const v = Reflect.get(target, p, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }) as typeof atomicFs.open;
  return () => { atomicFs.open = real; };
}

const TEMP = /\.tmp$/;

/** The scenario every fault runs: good writes, a failing update and create, then recovery. */
async function scenario(t: Parameters<typeof startDaemon>[0], storeDir: string, code: string, fail: () => () => void): Promise<void> {
  const path = join(storeDir, 'vars.json');
  const d = await startDaemon(t, { layout: { kind: 'single', path }, rateLimit: { ratePerSecond: 0, burst: 0 } });
  const c = await DaemonClient.connect(d.socket, 'vm');
  t.after(() => c.close());
  assert.equal(await setVar(c, 'Kept', Uint8Array.of(1, 2, 3)), EFI_SUCCESS);
  assert.equal(await setVar(c, 'Updated', Uint8Array.of(9)), EFI_SUCCESS);
  const good = readFileSync(path);

  const restore = fail();
  try {
    assert.equal(await setVar(c, 'Updated', new Uint8Array(3000).fill(7)), EFI_DEVICE_ERROR, 'an update whose save failed');
    assert.equal(await setVar(c, 'Fresh', new Uint8Array(3000).fill(8)), EFI_DEVICE_ERROR, 'a create whose save failed');
    assert.equal(await setVar(c, 'Kept', new Uint8Array(0)), EFI_DEVICE_ERROR, 'a delete whose save failed');
    assert.deepEqual(readFileSync(path), good, 'the store file is the last good one, byte for byte');
    assert.deepEqual(readdirSync(storeDir).filter((f) => TEMP.test(f)), [], 'no temp file is left behind');
    // The service's memory is as it was: the refused writes are not visible to the guest.
    assert.deepEqual((await getVar(c, 'Updated')).data, Uint8Array.of(9));
    assert.equal((await getVar(c, 'Fresh')).status, EFI_NOT_FOUND);
    assert.deepEqual((await getVar(c, 'Kept')).data, Uint8Array.of(1, 2, 3));
    // The operator hears of it: one log line per refused write, naming the error, and a counter.
    const line = await d.logs.waitFor((l) => l.msg === 'store write failed; the request was refused and undone');
    assert.match(String(line.err), new RegExp(`^${path}: cannot write \\(${code}\\)`));
    assert.match(await d.daemon.metrics.registry.getSingleMetricAsString('uefi_vars_store_write_failures_total'), /reason="write-failed"} 3/);
  } finally {
    restore();
  }

  // The disk works again: the next write succeeds and the file holds it and nothing refused.
  assert.equal(await setVar(c, 'After', Uint8Array.of(5)), EFI_SUCCESS);
  const names = new Map((await loadStoreFile(path)).variables.filter((v) => v.guid === TEST_GUID).map((v) => [displayName(v.name), [...v.data]]));
  assert.deepEqual(names, new Map([['Kept', [1, 2, 3]], ['Updated', [9]], ['After', [5]]]));
}

function tempStoreDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-durability-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('ENOSPC on write (injected): EFI_DEVICE_ERROR, the file is the last good one, memory unchanged, the next write after succeeds', async (t) => {
  await scenario(t, tempStoreDir(t), 'ENOSPC', () => inject('write', 'ENOSPC'));
});

test('EIO on the temp file\'s fsync (injected): the same; the rename never happens', async (t) => {
  await scenario(t, tempStoreDir(t), 'EIO', () => inject('file-sync', 'EIO'));
});

test('EIO on the directory\'s fsync (injected), after the rename: the last good store is put back, so disk and memory agree', async (t) => {
  // The put-back is a save too; its own directory fsync fails the same way, but the content it renames into place is the good one.
  await scenario(t, tempStoreDir(t), 'EIO', () => inject('dir-sync', 'EIO'));
});

/** Mount a 64 KiB tmpfs (root only); undefined where the machine does not allow it. */
function mountTmpfs(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-enospc-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) { rmdirSync(dir); return undefined; }
  return dir;
}

test('ENOSPC for real, on a full 64 KiB tmpfs: the same, and writes succeed once space is freed', async (t) => {
  // Mounted here, not at load: a test filtered out must not leave a mount behind.
  const mounted = mountTmpfs();
  if (!mounted) { t.skip('cannot mount a tmpfs here (not root, or no permission)'); return; }
  const dir = mounted;
  // Unmounted after the daemon stopped (startDaemon's hook runs first: hooks run in the order added).
  let filler: string | undefined;
  try {
    await scenario(t, dir, 'ENOSPC', () => {
      filler = join(dir, 'filler');
      writeFileSync(filler, '');
      const chunk = new Uint8Array(1024);
      try { for (;;) appendFileSync(filler, chunk); } catch (e) { assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC'); }
      return () => { rmSync(filler!, { force: true }); };
    });
  } finally {
    t.after(() => {
      const r = spawnSync('umount', [dir], { encoding: 'utf8' });
      if (r.status === 0) rmdirSync(dir);
      else process.stderr.write(`durability.test: umount ${dir}: ${r.stderr}\n`);
    });
  }
});


test('removeStaleTemps takes the temp files of writers that died, not a live writer\'s, not other files', async (t) => {
  const dir = tempStoreDir(t);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  assert.ok(deadPid > 0);
  const files = {
    dead: `.vars.json.${deadPid}.0123abcd.tmp`,
    mine: `.vars.json.${process.pid}.89abcdef.tmp`,
    other: `.other.json.${deadPid}.0123abcd.tmp`,
    store: 'vars.json',
  };
  for (const f of Object.values(files)) writeFileSync(join(dir, f), 'x');
  assert.equal(await removeStaleTemps(join(dir, 'vars.json')), 1);
  assert.deepEqual(readdirSync(dir).sort(), [files.mine, files.other, files.store].sort());
});
