/** edk2 flash store codec (src/persist/edk2/): FV header, variable store, records, FTW. See codecs.ts. */
import { decodeEdk2Fd, encodeEdk2Fd } from '../../src/persist/edk2-fd.js';
import type { Edk2Geometry } from '../../src/persist/edk2/layout.js';
import { fvHeaderLength } from '../../src/persist/edk2/layout.js';
import type { Variable } from '../../src/store/variable.js';
import { timed, fileBound, sharedFiles, readShared } from './harness.js';
import { roundTrip, isFormatRefusal } from './codecs.js';

export function fuzz(data: Uint8Array): Promise<void> {
  let geometry: Edk2Geometry | undefined;
  const decode = (b: Uint8Array): Variable[] => { const d = decodeEdk2Fd(b); geometry ??= d.geometry; return d.variables; };
  return timed(() => roundTrip(data, decode, (v) => encodeEdk2Fd(v, geometry!), 'edk2'), fileBound(data.length));
}

/** A 24 KiB image shaped like OVMF's (store, FTW working block, spare), small enough to mutate fast. */
export function smallGeometry(storeFormat: 'authenticated' | 'plain'): Edk2Geometry {
  return {
    fileSize: 0x6000, fvLength: 0x6000, fvAttributes: 0x0004feff, fvRevision: 2,
    blockMap: [{ numBlocks: 6, length: 0x1000 }], storeFormat, storeOffset: fvHeaderLength(1), storeSize: 0x4000 - 0x48,
    ftw: { workingOffset: 0x4000, workingSize: 0x1000, spareOffset: 0x5000, spareSize: 0x1000 }, tailFill: 0xff,
  };
}

/** The variables of each real OVMF store, re-written into the small layout (both record formats). */
export function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of sharedFiles('vectors/varstores/ovmf', (n) => n.endsWith('.fd'))) {
    const vars = decodeEdk2Fd(readShared(f)).variables;
    for (const fmt of ['authenticated', 'plain'] as const) {
      const fit: Variable[] = [];
      for (const v of vars) {
        try { encodeEdk2Fd([...fit, v], smallGeometry(fmt)); fit.push(v); } catch (e) { if (!isFormatRefusal(e)) throw e; }
      }
      out.push(encodeEdk2Fd(fit, smallGeometry(fmt)));
    }
  }
  out.push(encodeEdk2Fd([], smallGeometry('authenticated')));
  return out;
}
