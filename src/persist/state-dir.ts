import { join } from 'node:path';
import { jsonCodec } from './json-qemu.js';

/**
 * A daemon's `--state-dir DIR` holds one QEMU JSON store per VM, `DIR/<vm-id>.json`
 * (docs/cli.md, serve): the daemon, `apply --state-dir` and the CLI's StoreTarget
 * name a VM's file the same way.
 */
const EXTENSION = jsonCodec.extensions[0];

export function stateDirStorePath(dir: string, vm: string): string {
  return join(dir, `${vm}${EXTENSION}`);
}

/** The VM id a state directory entry stands for (not checked against the id rule), or undefined. */
export function vmOfStateFile(fileName: string): string | undefined {
  return fileName.endsWith(EXTENSION) ? fileName.slice(0, -EXTENSION.length) : undefined;
}
