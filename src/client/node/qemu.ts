/**
 * The qtest transport: QEMU (or anything speaking for it, e.g. `uefi-vars
 * qtest-serve`) started as libqtest starts it —
 *
 *   QEMU -machine q35 -m 128M -nodefaults -display none
 *        -device uefi-vars-x64,jsonfile=DIR/vars.json[,use-pio=on,…]
 *        -qtest unix:DIR/qtest.sock -qtest-log /dev/null
 *        -chardev socket,path=DIR/qmp.sock,id=char0 -mon chardev=char0,mode=control
 *        -accel qtest
 *
 * — after listening on both sockets (QEMU connects to them as a client).
 * The device's registers are MMIO at 0xFEF10000 (spec §1.1): readw/readl/
 * writew/writel…; the DMA buffer is guest RAM at 0x100000, written and read
 * with write/read (b64write/b64read for large buffers); fw_cfg is read through
 * its x86 I/O ports (outw selector 0x510, inb data 0x511). Hard reset is QMP
 * system_reset. One QEMU process per case; a case that kills QEMU is a target crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reg, X64_MMIO_BASE } from '../../device/registers.js';
import { RegisterDriver } from '../register-driver.js';
import { DEFAULT_BUFFER_ADDRESS } from '../inproc.js';
import { TargetCrashed, type DeviceConfig, type MmExchange, type RegisterAccess, type Target, type Transport, type Width } from '../transport.js';
import { QtestConnection } from './qtest.js';
import { QmpConnection } from './qmp.js';

/** x86 fw_cfg I/O ports and the file directory key (QEMU docs/specs/fw_cfg.rst). */
const FW_CFG_PORT_SEL = 0x510;
const FW_CFG_PORT_DATA = 0x511;
const FW_CFG_FILE_DIR = 0x19;
/** q35 (ICH9) and PIIX reset control register. */
const RESET_CONTROL_PORT = 0xcf9;

export class ResetUnsupported extends Error {
  override readonly name = 'ResetUnsupported';
}

export class QtestTransport implements Transport {
  readonly registers: RegisterAccess;
  /** The QEMU process, when this transport spawned it. */
  pid: number | undefined;
  private readonly driver: RegisterDriver;

  constructor(readonly description: string, readonly qtest: QtestConnection, private readonly qmp: QmpConnection | undefined,
    private readonly cleanup: () => Promise<void>) {
    const at = (offset: number): bigint => X64_MMIO_BASE + BigInt(offset);
    this.registers = {
      bufferAddress: DEFAULT_BUFFER_ADDRESS,
      read: (offset: number, width: Width) => qtest.readMem(width, at(offset)),
      write: (offset: number, width: Width, value: bigint | number) => qtest.writeMem(width, at(offset), value),
      memWrite: (addr, bytes) => qtest.writeBytes(addr, bytes),
      memRead: (addr, length) => qtest.readBytes(addr, length),
      readFwCfgFile: (name) => this.readFwCfgFile(name),
    };
    this.driver = new RegisterDriver(this.registers);
  }

  /** VirtMmCommunicationDxe's init, as firmware does it at boot. */
  init(): Promise<void> { return this.driver.init(); }

  send(request: Uint8Array): Promise<MmExchange> { return this.driver.send(request); }

  /**
   * QMP system_reset when there is a monitor; otherwise the guest's own way:
   * the ICH9 reset control register (I/O port 0xCF9, SYS_RST|RST_CPU = 0x06).
   * QEMU runs that reset from its main loop after the command, so wait until
   * the device's soft reset shows (BUFFER_SIZE back to 0, spec §1.7).
   */
  async hardReset(): Promise<void> {
    if (this.qmp) {
      await this.qmp.systemReset();
    } else {
      await this.registers.write(Reg.BUFFER_SIZE, 4, 0x1000);
      await this.qtest.outPort(1, RESET_CONTROL_PORT, 0x06);
      let n = 0;
      while (Number(await this.registers.read(Reg.BUFFER_SIZE, 4)) !== 0) {
        if (++n > 2000) throw new ResetUnsupported('writing 0x06 to port 0xCF9 did not reset the machine');
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    await this.driver.init();
  }

  close(): Promise<void> { return this.cleanup(); }

  /** Read a fw_cfg file through the I/O port interface, byte by byte. */
  async readFwCfgFile(name: string): Promise<Uint8Array | undefined> {
    const q = this.qtest;
    const bytes = async (n: number): Promise<Uint8Array> => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = await q.inPort(1, FW_CFG_PORT_DATA);
      return out;
    };
    await q.outPort(2, FW_CFG_PORT_SEL, FW_CFG_FILE_DIR);
    const count = new DataView((await bytes(4)).buffer).getUint32(0, false);
    let found: { size: number; select: number } | undefined;
    for (let i = 0; i < Math.min(count, 4096); i++) {
      const e = await bytes(64);
      const v = new DataView(e.buffer);
      const end = e.indexOf(0, 8);
      const entryName = new TextDecoder().decode(e.subarray(8, end < 0 ? 64 : end));
      if (entryName === name) { found = { size: v.getUint32(0, false), select: v.getUint16(4, false) }; break; }
    }
    if (!found) return undefined;
    await q.outPort(2, FW_CFG_PORT_SEL, found.select);
    return bytes(Math.min(found.size, 1 << 20));
  }
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(path, () => { s.off('error', reject); resolve(s); });
  });
}

/**
 * The first connection to `server`, captured from the moment of the call
 * (QEMU may connect its sockets in any order), or an error when QEMU exits
 * or takes longer than `ms` first.
 */
function firstConnection(server: Server, child: ChildProcess, what: string, ms: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => done(new Error(`${what}: QEMU did not connect within ${ms} ms`)), ms);
    const onExit = (code: number | null, sig: string | null): void => done(new Error(`QEMU exited before connecting ${what} (${sig ?? `exit code ${code}`})`));
    const done = (e: Error | undefined, s?: Socket): void => {
      clearTimeout(t);
      child.off('exit', onExit);
      server.off('connection', onConn);
      if (e) reject(e); else resolve(s!);
    };
    const onConn = (s: Socket): void => done(undefined, s);
    server.once('connection', onConn);
    child.once('exit', onExit);
  });
}

/** The `-device` argument for a config (QEMU property names, spec §1.1). */
export function deviceArgument(jsonfile: string, c: DeviceConfig): string {
  const props = [`uefi-vars-x64`, `jsonfile=${jsonfile}`];
  if (c.usePio) props.push('use-pio=on');
  if (c.size !== undefined) props.push(`size=${c.size}`);
  if (c.forceSecureBoot) props.push('force-secure-boot=on');
  if (c.disableCustomMode) props.push('disable-custom-mode=on');
  return props.join(',');
}

export interface QemuTargetOptions {
  /** Extra arguments before `-accel qtest`. */
  extraArgs?: readonly string[];
  /** Treat the binary as QEMU for [BUG]/[DIFF] reporting (default true). */
  isQemu?: boolean;
  /** How long QEMU may take to connect (default 10 s). */
  startTimeoutMs?: number;
}

/** Spawn `binary` as libqtest does, one process per case. */
export function qemuTarget(binary: string, o: QemuTargetOptions = {}): Target {
  return {
    description: `qemu:${binary}`,
    isQemu: o.isQemu ?? true,
    supports: () => true,
    open: (config) => spawnQemu(binary, config, o),
  };
}

export async function spawnQemu(binary: string, config: DeviceConfig, o: QemuTargetOptions = {}): Promise<QtestTransport> {
  const dir = await mkdtemp(join(tmpdir(), 'uefi-vars-qtest-'));
  const qtestPath = join(dir, 'qtest.sock');
  const qmpPath = join(dir, 'qmp.sock');
  const servers = [await listen(qtestPath), await listen(qmpPath)];
  const args = [
    '-machine', 'q35', '-m', '128M', '-nodefaults', '-display', 'none',
    '-device', deviceArgument(join(dir, 'vars.json'), config),
    '-qtest', `unix:${qtestPath}`, '-qtest-log', '/dev/null',
    '-chardev', `socket,path=${qmpPath},id=char0`, '-mon', 'chardev=char0,mode=control',
    ...(o.extraArgs ?? []), '-accel', 'qtest',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => { if (stderr.length < 4000) stderr += c; });
  let exit: string | undefined;
  child.once('exit', (code, sig) => { exit = sig ? `killed by ${sig}` : `exit code ${code}`; });
  const spawned = new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject); });
  const cleanup = async (): Promise<void> => {
    for (const s of servers) s.close();
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 1000);
      await gone;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const ms = o.startTimeoutMs ?? 10_000;
  const connections = [firstConnection(servers[0]!, child, 'the qtest socket', ms), firstConnection(servers[1]!, child, 'the QMP socket', ms)];
  connections.forEach((c) => c.catch(() => undefined));
  try {
    await spawned;
    const qtestSock = await connections[0]!;
    const qtest = new QtestConnection(qtestSock);
    qtest.deathReason = async (cause) => {
      if (!exit) {
        let t: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => { t = setTimeout(r, 1000); })]);
        clearTimeout(t); // else the wait outlives the suite by a second
      }
      const said = stderr.trim() ? `; it said: ${stderr.trim().split('\n').slice(-2).join(' | ')}` : '';
      return exit ? `QEMU died (${exit})${said}` : `${cause}${said}`;
    };
    const qmpSock = await connections[1]!;
    const qmp = await QmpConnection.open(qmpSock);
    const t = new QtestTransport(`qemu:${binary}`, qtest, qmp, async () => { qtest.close(); qmp.close(); await cleanup(); });
    t.pid = child.pid;
    await t.init();
    return t;
  } catch (e) {
    await cleanup();
    if (e instanceof TargetCrashed) throw e;
    throw new Error(`${(e as Error).message}${stderr ? ` — QEMU said: ${stderr.trim().slice(0, 500)}` : ''}`);
  }
}

/**
 * Attach to a qtest socket something already serves (`uefi-vars qtest-serve
 * --listen PATH`, each connection a fresh machine with the server's device
 * properties, given here as `serverConfig`). Without QMP, resets go through
 * port 0xCF9.
 */
export function qtestAttachTarget(socketPath: string, isQemu = false, serverConfig: DeviceConfig = {}): Target {
  return {
    description: `qtest:${socketPath}`,
    isQemu,
    supports: (c) => (c.usePio ?? false) === (serverConfig.usePio ?? false) && c.size === serverConfig.size
      && (c.forceSecureBoot ?? false) === (serverConfig.forceSecureBoot ?? false) && (c.disableCustomMode ?? false) === (serverConfig.disableCustomMode ?? false),
    open: async () => {
      const sock = await new Promise<Socket>((resolve, reject) => {
        const s = createConnection(socketPath);
        s.once('connect', () => { s.off('error', reject); resolve(s); });
        s.once('error', reject);
      });
      const qtest = new QtestConnection(sock);
      const t = new QtestTransport(`qtest:${socketPath}`, qtest, undefined, async () => qtest.close());
      await t.init();
      return t;
    },
  };
}
