/**
 * The daemon's signature-check threads (src/daemon/server/verify-pool.ts) answer exactly
 * what the in-process checks answer — real Microsoft/OEM payloads accepted,
 * tampered and wrongly anchored ones refused with the same reason — and a thread
 * that dies mid-check costs the caller nothing but time: its check is re-run on
 * the calling thread and the next one gets a new thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { VerifyPool } from '../../src/daemon/server/verify-pool.js';
import { inProcessVerifier } from '../../src/auth/verifier.js';
import { anchorFor, loadSigned, signedData, signedFiles, vector } from '../auth/vectors.js';
import { smallCerts, tlv } from '../helpers/hostile.js';
import { encodeSignatureLists } from '../../src/wire/siglist.js';
import { x509List } from '../../src/auth/esl-build.js';

const OWNER = '11111111-2222-3333-4444-555555555555';

test('the pool\'s answers equal the in-process ones for real payloads, tampered ones and format checks', async (t) => {
  const pool = new VerifyPool(2);
  t.after(() => pool.close());
  const files = signedFiles();
  assert.ok(files.length >= 4, 'the signed vectors are there');
  for (const f of files) {
    const content = signedData(f);
    const anchors = [anchorFor(f)];
    assert.deepEqual(await pool.verifyDetached(f.certData, content, anchors), await inProcessVerifier.verifyDetached(f.certData, content, anchors), f.rel);
    const bent = content.slice();
    bent[bent.length - 1]! ^= 1;
    const refused = await pool.verifyDetached(f.certData, bent, anchors);
    assert.equal(refused.ok, false, `${f.rel} with one content bit flipped`);
    assert.deepEqual(refused, await inProcessVerifier.verifyDetached(f.certData, bent, anchors));
    const wrongAnchor = [vector('certs/distro/RedHatSecureBootPKKEKkey1.der')];
    assert.deepEqual(await pool.verifyDetached(f.certData, content, wrongAnchor), await inProcessVerifier.verifyDetached(f.certData, content, wrongAnchor));
    assert.deepEqual(await pool.verifyPrivate(f.certData, content), await inProcessVerifier.verifyPrivate(f.certData, content));
    assert.deepEqual(await pool.signatureListFormat(f.variable, f.payload), await inProcessVerifier.signatureListFormat(f.variable, f.payload));
  }
  const certs = await smallCerts(3, Uint8Array.of(5), 'pool');
  const good = encodeSignatureLists(certs.map((c) => x509List(OWNER, c)));
  const broken = encodeSignatureLists([x509List(OWNER, tlv(0x30, Uint8Array.of(1, 2, 3)))]);
  for (const [variable, data] of [['db', good], ['PK', good], ['db', broken], ['dbx', good.subarray(0, good.length - 1)]] as const) {
    assert.equal(await pool.signatureListFormat(variable, data), await inProcessVerifier.signatureListFormat(variable, data), `${variable}, ${data.length} bytes`);
  }
  assert.equal(await pool.signatureListFormat('db', good), undefined);
  assert.equal(await pool.signatureListFormat('PK', good), 'pk-multiple');
  assert.equal(await pool.signatureListFormat('db', broken), 'bad-x509');
});

test('a check whose thread dies is re-run here with the same answer; the next check gets a new thread', async (t) => {
  const errors: Error[] = [];
  const pool = new VerifyPool(1, (e) => errors.push(e));
  t.after(() => pool.close());
  const f = loadSigned('dbx/DBXUpdate_amd64.bin');
  const content = signedData(f);
  const anchors = [anchorFor(f)];
  const expected = await inProcessVerifier.verifyDetached(f.certData, content, anchors);
  assert.equal(expected.ok, true);
  pool.warm();
  const slots = (pool as unknown as { slots: { worker: Worker }[] }).slots;
  assert.equal(slots.length, 1);
  const answer = pool.verifyDetached(f.certData, content, anchors);
  await slots[0]!.worker.terminate(); // the thread goes while the check is in flight (or queued on it)
  assert.deepEqual(await answer, expected);
  assert.equal(errors.length, 1, 'the lost thread was reported once');
  assert.deepEqual(await pool.verifyDetached(f.certData, content, anchors), expected);
  assert.equal(slots.length, 1, 'replaced by one new thread');
  await pool.close();
  assert.deepEqual(await pool.verifyDetached(f.certData, content, anchors), expected, 'after close, checks run here');
});
