import { mkdtempSync, rmSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { webcrypto } from 'node:crypto';
import { VariableService } from '../src/service/variable-service.js';
import { FileBackend, loadStoreFile, saveStoreFile } from '../src/persist/store-file.js';
import { setVariableRequest, replyStatus } from '../src/client/requests.js';
import { Guids } from '../src/wire/guid.js';
import { summary, fmt, line, nowNs } from './stats.js';

/**
 * (issue 3, bench) Apply signed/dbx/DBXUpdate_amd64.bin to the Debian
 * OVMF_VARS_4M.ms.fd store — verify + filter + durable .fd write — next to one
 * RSA-2048 verification and one durable write of the same store, same run.
 */
export async function benchDbx(rounds = 30): Promise<{ applyMs: number; verifyMs: number; writeMs: number }> {
  const shared = resolve(process.cwd(), '../shared/vectors');
  const dir = mkdtempSync(join(tmpdir(), 'uefi-vars-dbx-'));
  try {
    const src = join(shared, 'varstores/ovmf/OVMF_VARS_4M.ms.fd');
    const payload = new Uint8Array(readFileSync(join(shared, 'signed/dbx/DBXUpdate_amd64.bin')));
    const request = setVariableRequest({ name: 'dbx', guid: Guids.imageSecurityDatabase, attributes: 0x67, data: payload });
    const apply: number[] = [];
    const write: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const path = join(dir, `vars-${i}.fd`);
      copyFileSync(src, path);
      const loaded = await loadStoreFile(path);
      const svc = await VariableService.create({ variables: loaded.variables, backend: FileBackend.for(loaded) });
      const a = nowNs();
      const r = await svc.process(request, 65536);
      apply.push(Number(nowNs() - a) / 1e6);
      if (!r.reply || replyStatus(r.reply) !== 0n) throw new Error('DBX apply failed in bench');
      const vars = svc.nonVolatileVariables();
      const b = nowNs();
      await saveStoreFile(path, 'edk2', vars, loaded.layout);
      write.push(Number(nowNs() - b) / 1e6);
    }
    // One RSA-2048 PKCS#1 v1.5 / SHA-256 verification over data of the payload's size.
    const subtle = webcrypto.subtle;
    const key = await subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    const sig = await subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, payload);
    const verify: number[] = [];
    for (let i = 0; i < rounds * 4; i++) {
      const a = nowNs();
      if (!(await subtle.verify('RSASSA-PKCS1-v1_5', key.publicKey, sig, payload))) throw new Error('verify');
      verify.push(Number(nowNs() - a) / 1e6);
    }
    const s = summary(apply), w = summary(write), v = summary(verify);
    line('DBXUpdate_amd64 apply (verify+filter+durable .fd): ms p50', fmt(s.p50, 3));
    line('one RSA-2048 verify: ms p50', fmt(v.p50, 3));
    line('one durable write of the 4 MiB .fd store: ms p50', fmt(w.p50, 3));
    line('apply / (verify + write)', `${fmt(s.p50 / (v.p50 + w.p50), 2)}x`);
    return { applyMs: s.p50, verifyMs: v.p50, writeMs: w.p50 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
