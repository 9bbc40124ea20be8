/**
 * The qtest line protocol as QEMU's system/qtest.c speaks it, on both ends:
 * qtest-serve's replies (formats, zero-fill, errors, the q35 memory map,
 * fw_cfg) and the client's handling of async IRQ lines and FAIL replies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { VariableService } from '../../src/service/variable-service.js';
import { Q35Machine } from '../../src/client/node/q35-machine.js';
import { QtestSession, parseNumber } from '../../src/client/node/qtest-server.js';
import { QtestConnection, QtestError } from '../../src/client/node/qtest.js';
import { parseQemuArgs } from '../../src/cli/qtest-serve.js';
import { UsageError } from '../../src/cli/command.js';
import { tempDir } from '../conformance/helpers.js';

async function session(): Promise<QtestSession> {
  const m = new Q35Machine(await VariableService.create(), { ramSize: 128n << 20n, usePio: false });
  await m.reset();
  // process() is the whole protocol; the socket only carries it.
  return new QtestSession(m, { setEncoding: () => undefined, on: () => undefined } as unknown as Socket);
}

test('qtest-serve answers reads as QEMU does: OK 0x + 16 hex digits for every width, OK 0x%04x for ports', async () => {
  const s = await session();
  assert.equal(await s.process('readw 0xfef10000'), 'OK 0x0000000000000ef1');
  assert.equal(await s.process('readl 0xfef10000'), 'OK 0x0000000000000ef1');
  assert.equal(await s.process('readb 0xfef10000'), 'OK 0x00000000000000f1');
  assert.equal(await s.process('readw 4277207040'), 'OK 0x0000000000000ef1'); // base-0 parsing: decimal
  assert.equal(await s.process('readl 0xfef1001c'), 'OK 0x0000000000000000'); // FLAGS
  assert.equal(await s.process('inw 0x1234'), 'OK 0xffff');
  assert.equal(await s.process('inb 0x80'), 'OK 0x00ff');
});

test('write/read carry hex, zero-fill short data, refuse data under 3 characters; b64write/b64read carry base64', async () => {
  const s = await session();
  assert.equal(await s.process('writel 0x100000 0xdeadbeef'), 'OK');
  assert.equal(await s.process('read 0x100000 4'), 'OK 0xefbeadde');
  assert.equal(await s.process('write 0x100000 3 0x0102'), 'OK');
  assert.equal(await s.process('read 0x100000 4'), 'OK 0x010200de');
  assert.equal(await s.process('write 0x100000 2 0x'), 'ERR invalid argument size');
  assert.equal(await s.process('b64write 0x100010 3 AQID'), 'OK');
  assert.equal(await s.process('b64read 0x100010 3'), 'OK AQID');
  assert.equal(await s.process('readq 0x100010'), 'OK 0x0000000000030201');
  assert.equal(await s.process('frobnicate 1 2'), "FAIL Unknown command 'frobnicate'");
  assert.equal(await s.process('endianness'), 'OK little');
});

test('the q35 map: the legacy hole 0xA0000-0xFFFFF and space past -m are not RAM; fw_cfg lists etc/hardware-info', async () => {
  const s = await session();
  await s.process('writeb 0xa0000 0x55');
  assert.equal(await s.process('readb 0xa0000'), 'OK 0x0000000000000000');
  await s.process('writeb 0x9ffff 0x55');
  assert.equal(await s.process('readb 0x9ffff'), 'OK 0x0000000000000055');
  await s.process('writeb 0x8000000 0x55'); // 128 MiB: just past RAM
  assert.equal(await s.process('readb 0x8000000'), 'OK 0x0000000000000000');
  await s.process('outw 0x510 0x0');
  const sig = [];
  for (let i = 0; i < 4; i++) sig.push(Number((await s.process('inb 0x511')).slice(3)));
  assert.equal(String.fromCharCode(...sig), 'QEMU');
  await s.process('outw 0x510 0x19');
  const dir = [];
  for (let i = 0; i < 4 + 64; i++) dir.push(Number((await s.process('inb 0x511')).slice(3)));
  assert.deepEqual(dir.slice(0, 4), [0, 0, 0, 1]); // one file, count big-endian
  assert.equal(String.fromCharCode(...dir.slice(12, 12 + 17)), 'etc/hardware-info');
});

test('base-0 numbers: hex, octal, decimal; junk is refused', () => {
  assert.equal(parseNumber('0x1F'), 31n);
  assert.equal(parseNumber('017'), 15n);
  assert.equal(parseNumber('0'), 0n);
  assert.equal(parseNumber('42'), 42n);
  assert.equal(parseNumber('0x'), undefined);
  assert.equal(parseNumber('12a'), undefined);
});

test('the client skips async IRQ lines and turns FAIL/ERR into errors', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 's.sock');
  const server = createServer((sock) => {
    sock.setEncoding('latin1');
    let buf = '';
    sock.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('readl')) sock.write('IRQ raise 3\nOK 0x00000000deadbeef\n');
        else if (line.startsWith('read ')) sock.write('OK 0x0a0b');
        else sock.write('FAIL Unknown command \'x\'\n');
        if (line.startsWith('read ')) setTimeout(() => sock.write('0c\nIRQ lower 3\n'), 5); // a reply split across packets
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => { server.close(); });
  const sock = await new Promise<Socket>((r) => { const s = createConnection(path, () => r(s)); });
  const q = new QtestConnection(sock);
  t.after(() => q.close());
  assert.equal(await q.readMem(4, 0xfef10000n), 0xdeadbeefn);
  assert.deepEqual(await q.readBytes(0x100000n, 3), Uint8Array.from([0x0a, 0x0b, 0x0c]));
  await assert.rejects(q.writeMem(2, 0n, 1), QtestError);
  assert.deepEqual(q.irqs, ['IRQ raise 3', 'IRQ lower 3']);
});

test('qtest-serve takes libqtest\'s command line', () => {
  const c = parseQemuArgs(['-qtest', 'unix:/tmp/q.sock', '-qtest-log', '/dev/null', '-chardev', 'socket,path=/tmp/m.sock,id=char0',
    '-mon', 'chardev=char0,mode=control', '-display', 'none', '-machine', 'q35', '-m', '256M', '-nodefaults',
    '-device', 'uefi-vars-x64,jsonfile=/tmp/v.json,use-pio=on,size=65536,force-secure-boot=on', '-accel', 'qtest']);
  assert.equal(c.qtest, '/tmp/q.sock');
  assert.equal(c.qmp, '/tmp/m.sock');
  assert.equal(c.jsonfile, '/tmp/v.json');
  assert.equal(c.ramSize, 256n << 20n);
  assert.deepEqual(c.device, { usePio: true, size: 65536, forceSecureBoot: true });
  assert.throws(() => parseQemuArgs(['-qtest', 'unix:/q', '-device', 'uefi-vars-x64,pcapfile=/x']), UsageError);
  assert.throws(() => parseQemuArgs(['-qtest', 'unix:/q', '-machine', 'virt']), UsageError);
  assert.throws(() => parseQemuArgs(['-device', 'uefi-vars-x64']), UsageError);
});
