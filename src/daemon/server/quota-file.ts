import { readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../persist/atomic-file.js';
import { parseVmQuota, type VmQuota } from '../../service/vm-quota.js';
import type { StoreLayout } from './registry.js';

/**
 * Where a VM's quota (PUT /vms/ID/quota) is kept: beside its store file, as
 * `STORE.quota` (with --state-dir `DIR/ID.json.quota`, which the VM listing,
 * looking for `*.json`, never takes for a VM). `memory`: in memory only, like
 * its variables. `postgres`: not kept yet (docs/protocol.md).
 */
export function quotaFilePath(layout: StoreLayout, id: string): string | undefined | 'unsupported' {
  switch (layout.kind) {
    case 'single': return `${resolve(layout.path)}.quota`;
    case 'dir': return join(resolve(layout.dir), `${id}.json.quota`);
    case 'memory': return undefined;
    default: return 'unsupported';
  }
}

/** The stored quota, or undefined when none is stored. A file that does not parse is an error naming it. */
export async function loadQuotaFile(path: string): Promise<VmQuota | undefined> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path}: cannot read the VM's quota (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try { json = JSON.parse(text); } catch { throw new Error(`${path}: the VM's quota is not JSON`); }
  const q = parseVmQuota(json);
  if (typeof q === 'string') throw new Error(`${path}: ${q}`);
  return q;
}

/** Store the quota durably (atomic-file.ts); an empty quota removes the file. */
export async function saveQuotaFile(path: string, q: VmQuota): Promise<void> {
  if (Object.keys(q).length === 0) {
    await unlink(path).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') throw e; });
    return;
  }
  await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(q)}\n`));
}
