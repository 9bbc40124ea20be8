/** QEMU JSON store codec (src/persist/json-qemu.ts). See codecs.ts. */
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { timed, fileBound, sharedFiles, readShared } from './harness.js';
import { roundTrip } from './codecs.js';

export function fuzz(data: Uint8Array): Promise<void> {
  return timed(() => roundTrip(data, decodeQemuJson, encodeQemuJson, 'json'), fileBound(data.length));
}

/** Every JSON store of the shared material (trace final states, virt-fw-vars outputs). */
export function seeds(): Uint8Array[] {
  return [...sharedFiles('traces', (n) => n.endsWith('.json') && !n.startsWith('manifest')), ...sharedFiles('vectors/reference/virt-fw-vars', (n) => n.endsWith('.json'))]
    .map(readShared).filter((b) => b.length < 200_000);
}
