import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeStore, codecFor } from '../src/persist/formats.js';
import { makeVariable } from '../src/store/variable.js';
import { encodeName } from '../src/wire/ucs2.js';
import { defaultEdk2Geometry, type Edk2Geometry } from '../src/persist/edk2-fd.js';
import { summary, fmt, line, nowNs } from './stats.js';

/** (issue 4, bench) Each Debian store .fd → JSON → .fd, ms per store, and a synthetic 1 MiB store. */
export async function benchConvert(rounds = 20): Promise<void> {
  const dir = resolve(process.cwd(), '../shared/vectors/varstores/ovmf');
  const stores: { name: string; bytes: Uint8Array }[] = readdirSync(dir).filter((f) => f.endsWith('.fd')).sort().map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(dir, f))) }));
  // Synthetic: 1 MiB of variables in an OVMF-like image big enough to hold them.
  const vars = Array.from({ length: 1024 }, (_, i) => makeVariable({ guid: '5d3f6b4e-7a8c-4c2b-9e1f-0a1b2c3d4e5f', name: encodeName(`Var${i}`), attributes: 7, data: new Uint8Array(1000).fill(i & 0xff) }));
  const base = defaultEdk2Geometry('ovmf-4m');
  const big: Edk2Geometry = { ...base, fileSize: 0x240000, fvLength: 0x240000, blockMap: [{ numBlocks: 0x240, length: 0x1000 }], storeSize: 0x200000 - 0x48, ftw: { workingOffset: 0x201000, workingSize: 0x1000, spareOffset: 0x202000, spareSize: 0x3e000 } };
  stores.push({ name: 'synthetic 1 MiB', bytes: await codecFor('edk2').encode(vars, big) });
  for (const s of stores) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = nowNs();
      const d = await decodeStore(s.bytes);
      const json = await codecFor('json').encode(d.variables);
      const back = await decodeStore(json);
      await codecFor('edk2').encode(back.variables, d.layout);
      times.push(Number(nowNs() - a) / 1e6);
    }
    line(`convert ${s.name} .fd -> json -> .fd: ms p50`, fmt(summary(times).p50, 3));
  }
}
