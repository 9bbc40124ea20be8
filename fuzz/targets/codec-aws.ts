/** AWS EC2 UEFI data codec (src/persist/aws.ts: base64, CRC-32C, zlib with dictionary). See codecs.ts. */
import { decodeAws, encodeAws } from '../../src/persist/aws.js';
import { decodeQemuJson } from '../../src/persist/json-qemu.js';
import { timed, fileBound, sharedFiles, readShared } from './harness.js';
import { roundTrip, isFormatRefusal } from './codecs.js';

export function fuzz(data: Uint8Array): Promise<void> {
  return timed(() => roundTrip(data, decodeAws, encodeAws, 'aws'), fileBound(data.length));
}

/** AWS blobs of the shared material, and each JSON store of the traces written as one. */
export async function seedsAsync(): Promise<Uint8Array[]> {
  const out = sharedFiles('vectors', (n) => /aws|\.b64$/i.test(n)).map(readShared).filter((b) => b.length < 200_000);
  for (const f of sharedFiles('traces', (n) => n.endsWith('.final.json'))) {
    try { out.push(await encodeAws(decodeQemuJson(readShared(f)))); } catch (e) { if (!isFormatRefusal(e)) throw e; }
  }
  return out;
}

export function seeds(): Uint8Array[] { return []; }
