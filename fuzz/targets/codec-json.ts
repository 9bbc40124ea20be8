/** QEMU JSON store codec (src/persist/json-qemu.ts). See codecs.ts. */
import { decodeQemuJson, encodeQemuJson } from '../../src/persist/json-qemu.js';
import { makeVariable, type Variable } from '../../src/store/variable.js';
import { Attr } from '../../src/wire/attributes.js';
import { timed, fileBound, sharedFiles, readShared } from './harness.js';
import { roundTrip } from './codecs.js';

/**
 * What a JSON store keeps of a variable it read. Spec §6.2: `time` is written only
 * when attr has TIME_BASED (0x20) and `digest` only then too, while the reader
 * accepts both on any variable; so a `time`/`digest` on a variable without 0x20
 * is read and then lost on the next save, as QEMU does — lossy by design, not a
 * finding (fuzz/corpus/codec-json/regress-time-without-at-*).
 */
function kept(v: Variable): Variable {
  if ((v.attributes & Attr.AT) !== 0) return v;
  return makeVariable({ guid: v.guid, name: v.name, attributes: v.attributes, data: v.data });
}

export function fuzz(data: Uint8Array): Promise<void> {
  return timed(() => roundTrip(data, decodeQemuJson, encodeQemuJson, 'json', kept), fileBound(data.length));
}

/** Every JSON store of the shared material (trace final states, virt-fw-vars outputs). */
export function seeds(): Uint8Array[] {
  return [...sharedFiles('traces', (n) => n.endsWith('.json') && !n.startsWith('manifest')), ...sharedFiles('vectors/reference/virt-fw-vars', (n) => n.endsWith('.json'))]
    .map(readShared).filter((b) => b.length < 200_000);
}
