import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { browserSkipReason, launchChromium, BROWSER_DIST, SHARED } from '../helpers/browser.js';
import { CLI, tempDir } from '../helpers/cli.js';
import { startDaemon } from '../daemon/helpers.js';
import { parsePcap } from '../../src/wire/pcap.js';
import { decodeStore } from '../../src/persist/formats.js';
import { encodeQemuJson } from '../../src/persist/json-qemu.js';
import { encodeName } from '../../src/wire/ucs2.js';
import type { Variable } from '../../src/store/variable.js';
import type { Page } from 'playwright-core';

const skip = browserSkipReason();
const PAGE = join(BROWSER_DIST, 'inspector.html');
const REF = join(SHARED, 'vectors/reference/virt-fw-vars');

/** Drop files on the page as a person would: a real drop event carrying File objects. */
async function dropFiles(page: Page, files: Array<{ name: string; path: string }>): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, b64: readFileSync(f.path).toString('base64') }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}

/** The PK subject common name as virt-fw-vars printed it for the same store. */
function referencePkCn(base: string): string {
  const m = /^name=PK .*\n(?:[ \t]+.*\n)*?\s+subject CN=(.*)$/m.exec(readFileSync(join(REF, `${base}.print-verbose.txt`), 'utf8'));
  return m![1]!;
}

test('inspector page opened from disk: a dropped OVMF_VARS_4M.ms.fd shows its PK subject and the 2023 verdict', { skip }, async (t) => {
  const dir = tempDir(t);
  const { page } = await launchChromium(t);
  await page.goto(`file://${PAGE}`);
  await dropFiles(page, [{ name: 'OVMF_VARS_4M.ms.fd', path: join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd') }]);
  await page.waitForSelector('[data-testid=verdict]');
  assert.equal(await page.textContent('[data-testid=pk-subject]'), referencePkCn('OVMF_VARS_4M.ms'));
  assert.equal(await page.textContent('[data-testid=verdict]'), 'not 2023-ready');
  const missing = await page.textContent('[data-testid=missing]');
  for (const name of ['KEK 2K CA 2023', 'Windows UEFI CA 2023', 'Microsoft UEFI CA 2023']) assert.ok(missing!.includes(name), name);
  assert.ok(await page.locator('.cert.expired').count() >= 3, 'the 2011 certificates are marked expired');
  await page.screenshot({ path: join(dir, 'store.png') });
  assert.ok(statSync(join(dir, 'store.png')).size > 10_000);
  // Search the variable table.
  await page.fill('[data-testid=var-search]', 'Boot0001');
  assert.equal(await page.locator('table.vars tr.var:visible').count(), 1);

  // A store with every 2023 certificate and Microsoft's full dbx.
  await dropFiles(page, [{ name: 'msall.fd', path: join(REF, 'OVMF_VARS_4M.sb-redhat-msall-dbx.fd') }]);
  await page.waitForFunction(() => document.querySelector('h2')?.textContent?.startsWith('msall.fd'));
  assert.equal(await page.textContent('[data-testid=verdict]'), '2023-ready');
  assert.equal(await page.textContent('[data-testid=pk-subject]'), referencePkCn('OVMF_VARS_4M.sb-redhat-msall-dbx'));
  const info = JSON.parse(readFileSync(join(SHARED, 'vectors/reference/microsoft/dbx_info_msft_latest.json'), 'utf8')) as { images: { x64: Array<{ dateOfAddition: string }> } };
  assert.equal(await page.textContent('[data-testid=dbx-revision]'), info.images.x64.map((i) => i.dateOfAddition).sort().at(-1));
});

/** Start `uefi-vars ui ARGS`, resolve with its URL; killed after the test. */
function startUi(t: { after(fn: () => void): void }, ...args: string[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'ui', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { child.kill('SIGTERM'); });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => { text += c.toString(); const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(text); if (m) resolve(m[0]); });
    child.once('exit', (code) => reject(new Error(`uefi-vars ui exited ${code}`)));
  });
}

function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
  });
}

test('uefi-vars ui serves a trace on loopback behind its URL token; the page replays it with zero mismatches', { skip }, async (t) => {
  const trace = join(SHARED, 'traces/x64-sb-authvars.pcap');
  const url = await startUi(t, trace);
  const u = new URL(url);
  assert.equal(u.hostname, '127.0.0.1');
  assert.equal(await status(`${u.origin}/`), 403, 'no token, no page');
  assert.equal(await status(`${u.origin}/files/0`), 403, 'no token, no file');
  assert.equal(await status(`${u.origin}/files/0?token=wrong${u.searchParams.get('token')}`), 403);
  assert.equal(await status(`${u.origin}/files/0?token=${u.searchParams.get('token')}`), 200);
  const { page } = await launchChromium(t);
  await page.goto(url);
  await page.waitForSelector('[data-testid=trace-requests]', { timeout: 60_000 });
  const requests = parsePcap(new Uint8Array(readFileSync(trace))).filter((r) => r.type === 'request').length;
  assert.equal(await page.textContent('[data-testid=trace-requests]'), String(requests));
  assert.equal(await page.textContent('[data-testid=trace-mismatches]'), '0 mismatches');
  assert.equal(await page.locator('[data-testid=mismatch-row]').count(), 0);
  assert.ok(await page.locator('tr.reset').count() >= 1, 'reset marks shown');
});

test('a trace recorded with size=65536 replays exactly on the page only with its NAME.options (dropped, and beside it for uefi-vars ui)', { skip }, async (t) => {
  const base = join(SHARED, 'traces/qemu-conformance/storage-exhaustion-64k');
  const { page } = await launchChromium(t);
  await page.goto(`file://${PAGE}`);
  const mismatchesAfter = async (files: Array<{ name: string; path: string }>, expectOptions: string): Promise<string | null> => {
    await page.evaluate(() => { document.getElementById('trace-view')!.textContent = ''; });
    await dropFiles(page, files);
    await page.waitForFunction((o) => document.querySelector('[data-testid=trace-options]')?.textContent === o, expectOptions, { timeout: 60_000 });
    return page.textContent('[data-testid=trace-mismatches]');
  };
  // Without its options the recording does not replay exactly (the device had 64 KiB): the view must not hide that.
  assert.notEqual(await mismatchesAfter([{ name: 'storage-exhaustion-64k.pcap', path: `${base}.pcap` }], 'device defaults'), '0 mismatches');
  // Dropped together (in either order), the options file goes with its trace.
  assert.equal(await mismatchesAfter([{ name: 'storage-exhaustion-64k.pcap', path: `${base}.pcap` }, { name: 'storage-exhaustion-64k.options', path: `${base}.options` }], 'size=65536'), '0 mismatches');

  const url = await startUi(t, `${base}.pcap`);
  await page.goto(url);
  await page.waitForSelector('[data-testid=trace-options]', { timeout: 60_000 });
  assert.equal(await page.textContent('[data-testid=trace-options]'), 'size=65536');
  assert.equal(await page.textContent('[data-testid=trace-mismatches]'), '0 mismatches');
});

const variable = (guid: string, name: string, data: Uint8Array, attributes = 0x07): Variable =>
  ({ guid, name: encodeName(name), attributes, data, time: new Uint8Array(16) }) as Variable;

test('the daemon\'s /ui fleet table: one row per VM with mode, 2023 readiness, dbx revision and storage; same token as the API', { skip }, async (t) => {
  const token = 'fleet-test-token-0123456789';
  const d = await startDaemon(t, { apiPort: 0, apiToken: token });
  const vmDir = join(d.dir, 'vms');
  mkdirSync(vmDir, { recursive: true });
  const load = async (p: string): Promise<Variable[]> => (await decodeStore(new Uint8Array(readFileSync(p)))).variables;
  const ready = await load(join(REF, 'OVMF_VARS_4M.sb-redhat-msall-dbx.fd'));
  // An old dbx: only the hashes Microsoft published in 2018, taken from its list.
  const info = JSON.parse(readFileSync(join(SHARED, 'vectors/reference/microsoft/dbx_info_msft_latest.json'), 'utf8')) as { images: { x64: Array<{ authenticodeHash: string; dateOfAddition: string }> } };
  const old2018 = info.images.x64.filter((i) => i.dateOfAddition === '2018-04-01' && i.authenticodeHash.length === 64);
  const esl = Buffer.alloc(28 + old2018.length * 48);
  Buffer.from('2616c4c14c509240aca941f936934328', 'hex').copy(esl, 0);
  esl.writeUInt32LE(esl.length, 16); esl.writeUInt32LE(48, 24);
  old2018.forEach((i, k) => Buffer.from(i.authenticodeHash, 'hex').copy(esl, 28 + k * 48 + 16));
  const oldDbx = ready.map((v) => (v.guid === 'd719b2cb-3d3a-4596-a3bc-dad00e67656f' && Buffer.from(v.name).equals(Buffer.from(encodeName('dbx'))) ? { ...v, data: new Uint8Array(esl) } : v));
  const full = [...(await load(join(SHARED, 'vectors/varstores/ovmf/OVMF_VARS_4M.ms.fd'))), variable('a7a1f0d2-5b3e-4c6a-9f11-2e3d4c5b6a70', 'Ballast', new Uint8Array(225_000))];
  writeFileSync(join(vmDir, 'vm-ready.json'), encodeQemuJson(ready));
  writeFileSync(join(vmDir, 'vm-old-dbx.json'), encodeQemuJson(oldDbx));
  writeFileSync(join(vmDir, 'vm-full.json'), encodeQemuJson(full));
  const origin = `http://127.0.0.1:${d.daemon.apiPort}`;
  assert.equal(await status(`${origin}/ui`), 401, '/ui without the token is refused as the API is');
  assert.equal(await status(`${origin}/ui/fleet.json?token=nope-${token}`), 401);
  assert.equal(await status(`${origin}/ui/fleet.json`, { Authorization: `Bearer ${token}` }), 200);
  assert.equal(await status(`${origin}/vms?token=${token}`), 401, 'the query token is for /ui only');

  const { page, dir } = await launchChromium(t);
  await page.goto(`${origin}/ui?token=${token}`);
  await page.waitForSelector('[data-testid=fleet] tr[data-vm]');
  const rows = await page.$$eval('[data-testid=fleet] tbody tr', (trs) => trs.map((tr) => Object.fromEntries(Array.from(tr.querySelectorAll('td')).map((td) => [td.dataset.col, td.textContent]))));
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  assert.deepEqual(Object.keys(byId).sort(), ['vm-full', 'vm-old-dbx', 'vm-ready']);
  assert.equal(byId['vm-ready']!.ready, '2023-ready');
  assert.equal(byId['vm-ready']!.mode, 'user');
  assert.equal(byId['vm-ready']!.dbxRevision, info.images.x64.map((i) => i.dateOfAddition).sort().at(-1));
  assert.equal(byId['vm-old-dbx']!.dbxRevision, '2018-04-01');
  assert.equal(byId['vm-full']!.ready, 'not ready');
  assert.ok(parseFloat(byId['vm-full']!.storagePercent!) > 90, byId['vm-full']!.storagePercent!);
  assert.ok(parseFloat(byId['vm-ready']!.storagePercent!) < 50);
  // Sort by storage, descending: the nearly full VM comes first.
  await page.click('th[data-sort=storagePercent]');
  await page.click('th[data-sort=storagePercent]');
  assert.equal(await page.getAttribute('[data-testid=fleet] tbody tr:first-child', 'data-vm'), 'vm-full');
  await page.screenshot({ path: join(dir, 'fleet.png') });
  // Filter, then export what is shown as CSV.
  await page.fill('[data-testid=fleet-filter]', '2023-ready');
  assert.equal(await page.locator('[data-testid=fleet] tbody tr').count(), 2);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=csv]')]);
  const csv = readFileSync((await dl.path())!, 'utf8').trim().split('\n');
  assert.equal(csv.length, 3);
  assert.match(csv[0]!, /^VM,mode,2023-ready/);
  // The link opens that VM in the store view.
  await page.click('[data-vm=vm-old-dbx] a');
  await page.waitForSelector('#store-view [data-testid=dbx-revision]');
  assert.equal(await page.textContent('#store-view [data-testid=dbx-revision]'), '2018-04-01');
});
