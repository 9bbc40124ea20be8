/**
 * uefi-vars qtest-serve: our device model behind QEMU's qtest line protocol,
 * started with the QEMU command line libqtest uses, so that the conformance
 * suite's qtest transport (and any qtest client) can be exercised where no
 * QEMU ≥ 10 with uefi-vars-x64 is installed. `--listen PATH` instead serves a
 * fresh machine on every connection to PATH (no QMP).
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { VariableService } from '../service/variable-service.js';
import { FileBackend, loadStoreFile } from '../persist/store-file.js';
import { jsonCodec } from '../persist/json-qemu.js';
import { serviceOptions } from '../client/inproc.js';
import type { DeviceConfig } from '../client/transport.js';
import { Q35Machine } from '../client/node/q35-machine.js';
import { QmpSession, QtestSession } from '../client/node/qtest-server.js';
import { HelpRequested, UsageError, type CommandSpec } from './command.js';
import { Exit, err } from './io.js';

export const qtestServeSpec: CommandSpec = {
  name: 'qtest-serve',
  summary: 'serve our uefi-vars-x64 device model over QEMU\'s qtest protocol (a QEMU stand-in for tests)',
  usage: [
    'qtest-serve -machine q35 -accel qtest -qtest unix:PATH [-chardev socket,path=QMP,id=ID -mon chardev=ID,mode=control | -qmp unix:QMP] -device uefi-vars-x64[,jsonfile=F][,use-pio=on][,size=N][,force-secure-boot=on][,disable-custom-mode=on] [-m SIZE]',
    'qtest-serve --listen PATH [-device uefi-vars-x64,…]',
  ],
  options: [
    { name: 'listen', type: 'string', value: 'PATH', help: 'listen on PATH; every connection gets a fresh machine and an empty in-memory store' },
  ],
  details: 'QEMU options understood: -machine/-M q35|pc, -accel qtest, -qtest unix:PATH (connect), -qtest-log FILE|none, '
    + '-chardev socket,path=P,id=ID, -mon chardev=ID,mode=control, -qmp unix:PATH, -m SIZE, -device uefi-vars-x64,PROPS, '
    + '-display none, -nodefaults, -nographic, -S. The machine: RAM 0..SIZE (default 128M) minus 0xA0000-0xFFFFF, '
    + 'the device at MMIO 0xFEF10000, fw_cfg I/O ports 0x510/0x511 with etc/hardware-info. Exits when the qtest connection closes. '
    + 'See docs/conformance.md.',
};

interface ServeConfig {
  qtest?: string;
  qmp?: string;
  listen?: string;
  jsonfile?: string;
  device: DeviceConfig;
  ramSize: bigint;
  log?: string;
}

const onOff = (v: string, what: string): boolean => {
  if (['on', 'true', 'yes', 'y'].includes(v)) return true;
  if (['off', 'false', 'no', 'n'].includes(v)) return false;
  throw new UsageError(`${what}: '${v}' is not on/off`);
};

function props(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',').slice(1)) {
    const eq = part.indexOf('=');
    m.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? 'on' : part.slice(eq + 1));
  }
  return m;
}

function ramSize(s: string): bigint {
  const m = /^(\d+)([KMGT]?)B?$/i.exec(s);
  if (!m) throw new UsageError(`-m: cannot parse ${JSON.stringify(s)}`);
  const shift = { '': 20n, K: 10n, M: 20n, G: 30n, T: 40n }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return BigInt(m[1]!) << shift;
}

/** QEMU options qtest-serve takes with a value, and without one (QEMU's own spellings, one dash or two). */
const VALUE_FLAGS = ['-display', '-machine', '-M', '-accel', '-qtest', '-qtest-log', '-chardev', '-mon', '-qmp', '-m', '-device', '-listen'];
const BARE_FLAGS = ['-nodefaults', '-nographic', '-S', '-no-shutdown'];
const KNOWN_FLAGS = new Set([...VALUE_FLAGS, ...BARE_FLAGS]);

export function parseQemuArgs(argv: readonly string[]): ServeConfig {
  const c: ServeConfig = { device: {}, ramSize: 128n << 20n };
  const chardevs = new Map<string, string>();
  let mon: string | undefined;
  let device = false;
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested(qtestServeSpec);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flag = a.replace(/^--?/, '-');
    if (VALUE_FLAGS.includes(flag)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      switch (flag) {
        case '-machine': case '-M': {
          const type = v.split(',')[0]!.replace(/^type=/, '');
          if (type !== 'q35' && type !== 'pc' && !type.startsWith('pc-')) throw new UsageError(`machine '${type}': only q35 and pc carry uefi-vars-x64`);
          break;
        }
        case '-accel': if (v.split(',')[0] !== 'qtest') throw new UsageError(`-accel ${v}: only qtest is emulated`); break;
        case '-display': break;
        case '-qtest': {
          if (!v.startsWith('unix:')) throw new UsageError(`-qtest ${v}: only unix:PATH is supported`);
          c.qtest = v.slice(5).split(',')[0]!;
          break;
        }
        case '-qtest-log': if (v !== 'none' && v !== '/dev/null') c.log = v; break;
        case '-chardev': {
          const [backend] = v.split(',');
          const p = props(v);
          if (backend !== 'socket' || !p.get('path') || !p.get('id')) throw new UsageError(`-chardev ${v}: only socket,path=P,id=ID is supported`);
          chardevs.set(p.get('id')!, p.get('path')!);
          break;
        }
        case '-mon': {
          const p = new Map(v.split(',').map((x) => x.split('=') as [string, string]));
          if (p.get('mode') !== 'control') throw new UsageError(`-mon ${v}: only mode=control is supported`);
          mon = p.get('chardev');
          break;
        }
        case '-qmp': if (!v.startsWith('unix:')) throw new UsageError(`-qmp ${v}: only unix:PATH`); c.qmp = v.slice(5).split(',')[0]!; break;
        case '-m': c.ramSize = ramSize(v.split(',')[0]!.replace(/^size=/, '')); break;
        case '-listen': c.listen = v; break;
        case '-device': {
          const type = v.split(',')[0];
          if (type !== 'uefi-vars-x64') throw new UsageError(`-device ${type}: only uefi-vars-x64 is emulated`);
          if (device) throw new UsageError('only one uefi-vars-x64 device');
          device = true;
          for (const [k, val] of props(v)) {
            switch (k) {
              case 'jsonfile': c.jsonfile = val; break;
              case 'use-pio': c.device.usePio = onOff(val, k); break;
              case 'force-secure-boot': c.device.forceSecureBoot = onOff(val, k); break;
              case 'disable-custom-mode': c.device.disableCustomMode = onOff(val, k); break;
              case 'size': if (!/^\d+$/.test(val)) throw new UsageError(`size=${val}`); c.device.size = Number(val); break;
              default: throw new UsageError(`uefi-vars-x64: no property '${k}'`);
            }
          }
          break;
        }
      }
    } else if (BARE_FLAGS.includes(flag)) {
      // accepted, nothing to do
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a} (QEMU-style options: see --help)`);
    } else {
      const unknown = argv.slice(i + 1).find((x) => x.startsWith('-') && !KNOWN_FLAGS.has(x.replace(/^--?/, '-')));
      throw new UsageError(unknown ? `unknown option ${unknown} (QEMU-style options: see --help)` : `unexpected argument ${a}`);
    }
  }
  if (mon) {
    const path = chardevs.get(mon);
    if (!path) throw new UsageError(`-mon chardev=${mon}: no such chardev`);
    c.qmp = path;
  }
  if (!c.qtest && !c.listen) throw new UsageError('need -qtest unix:PATH or --listen PATH');
  return c;
}

async function machineFor(c: ServeConfig, persistent: boolean): Promise<Q35Machine> {
  let svc: VariableService;
  const options = serviceOptions(c.device);
  if (persistent && c.jsonfile) {
    const loaded = await loadStoreFile(c.jsonfile, { missing: 'empty' });
    svc = await VariableService.create({ variables: loaded.variables, backend: new FileBackend(c.jsonfile, jsonCodec.name), options });
  } else {
    svc = await VariableService.create({ options });
  }
  const m = new Q35Machine(svc, { ramSize: c.ramSize, usePio: c.device.usePio ?? false, onError: (e) => err(`uefi-vars qtest-serve: ${(e as Error).message}`) });
  await m.reset();
  return m;
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

export async function runQtestServe(argv: string[]): Promise<number> {
  const c = parseQemuArgs(argv);
  if (c.listen) {
    const path = c.listen;
    try { rmSync(path, { force: true }); } catch { /* a stale socket */ }
    const server = createServer((sock) => {
      void machineFor(c, false).then((m) => new QtestSession(m, sock), () => sock.destroy());
    });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(path, resolve); });
    await new Promise<void>((resolve) => {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { server.close(); resolve(); });
    });
    return Exit.OK;
  }
  let machine: Q35Machine;
  try {
    machine = await machineFor(c, true);
  } catch (e) {
    // QEMU refuses to start when the jsonfile does not load (spec §6.2).
    err(`uefi-vars qtest-serve: ${(e as Error).message}`);
    return Exit.FAILURE;
  }
  // As QEMU: connect to the test's sockets (qtest first, then the monitor).
  const qtestSock = await connect(c.qtest!);
  new QtestSession(machine, qtestSock);
  let qmpSock: Socket | undefined;
  if (c.qmp) {
    qmpSock = await connect(c.qmp);
    new QmpSession(machine, qmpSock, () => { qtestSock.destroy(); qmpSock?.destroy(); });
  }
  await new Promise<void>((resolve) => {
    qtestSock.once('close', resolve);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, resolve);
  });
  qmpSock?.destroy();
  await machine.device.idle();
  return Exit.OK;
}
