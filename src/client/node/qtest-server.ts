/**
 * The server side of QEMU's qtest line protocol and a minimal QMP monitor, in
 * front of a Q35Machine: what `uefi-vars qtest-serve` answers, reply for
 * reply as QEMU's system/qtest.c does (see qtest.ts for the command table).
 * Where QEMU would abort on a malformed number (g_assert), this answers
 * `FAIL` and keeps going.
 */
import type { Socket } from 'node:net';
import type { Q35Machine } from './q35-machine.js';
import type { AccessSize } from '../../device/registers.js';
import { takeLines } from './lines.js';

/** strtoul/strtou64 with base 0: 0x… hex, 0… octal, else decimal. */
export function parseNumber(s: string | undefined): bigint | undefined {
  if (s === undefined) return undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return BigInt(s);
  if (/^0[0-7]*$/.test(s)) return s.length > 1 ? BigInt(`0o${s.slice(1)}`) : 0n;
  if (/^[1-9][0-9]*$/.test(s)) return BigInt(s);
  return undefined;
}

const WIDTH: Record<string, AccessSize> = { b: 1, w: 2, l: 4, q: 8 };
const hex16 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

function nibble(c: string | undefined): number {
  if (c === undefined) return -1;
  const n = parseInt(c, 16);
  return Number.isNaN(n) ? -1 : n;
}

export class QtestSession {
  private buffer = '';
  private chain: Promise<void> = Promise.resolve();
  private clock = 0n;

  constructor(private readonly machine: Q35Machine, private readonly socket: Socket, private readonly log?: (line: string) => void) {
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => this.onData(c));
    socket.on('error', () => undefined);
  }

  private onData(chunk: string): void {
    const { lines, rest } = takeLines(this.buffer, chunk);
    this.buffer = rest;
    for (const line of lines) {
      // Commands run strictly in order; a DMA_MM write completes before the next line is read.
      this.chain = this.chain.then(() => this.process(line)).then((reply) => {
        this.log?.(`${line.slice(0, 120)} -> ${reply.slice(0, 120)}`);
        if (!this.socket.destroyed) this.socket.write(`${reply}\n`);
      });
    }
  }

  /** One command line → one reply line (without the newline). */
  async process(line: string): Promise<string> {
    const w = line.split(' ');
    const cmd = w[0] ?? '';
    const m = this.machine;
    const bad = (): string => `FAIL malformed arguments to '${cmd}'`;
    let r: RegExpExecArray | null;
    if ((r = /^(read|write)([bwlq])$/.exec(cmd))) {
      const width = WIDTH[r[2]!]!;
      const addr = parseNumber(w[1]);
      if (addr === undefined) return bad();
      if (r[1] === 'read') return `OK ${hex16(await m.load(addr, width))}`;
      const value = parseNumber(w[2]);
      if (value === undefined) return bad();
      await m.store(addr, width, BigInt.asUintN(width * 8, value));
      return 'OK';
    }
    if ((r = /^(in|out)([bwl])$/.exec(cmd))) {
      const width = WIDTH[r[2]!]! as 1 | 2 | 4;
      const port = parseNumber(w[1]);
      if (port === undefined || port > 0xffffn) return bad();
      if (r[1] === 'in') return `OK 0x${m.portIn(Number(port), width).toString(16).padStart(4, '0')}`;
      const value = parseNumber(w[2]);
      if (value === undefined) return bad();
      await m.portOut(Number(port), width, Number(BigInt.asUintN(width * 8, value)));
      return 'OK';
    }
    switch (cmd) {
      case 'read': case 'b64read': {
        const addr = parseNumber(w[1]);
        const len = parseNumber(w[2]);
        if (addr === undefined || len === undefined || len === 0n || len > 0x1000000n) return bad();
        const bytes = m.readBytes(addr, Number(len));
        return cmd === 'read' ? `OK 0x${Buffer.from(bytes).toString('hex')}` : `OK ${Buffer.from(bytes).toString('base64')}`;
      }
      case 'write': {
        const addr = parseNumber(w[1]);
        const len = parseNumber(w[2]);
        const data = w[3];
        if (addr === undefined || len === undefined || data === undefined || len > 0x1000000n) return bad();
        if (data.length < 3) return 'ERR invalid argument size';
        // Byte i comes from characters 2+2i, 3+2i after the "0x"; a short string is zero-filled (QEMU qtest.c).
        const out = new Uint8Array(Number(len));
        for (let i = 0; i < out.length; i++) {
          if (i * 2 + 4 <= data.length) out[i] = ((nibble(data[i * 2 + 2]) << 4) | nibble(data[i * 2 + 3])) & 0xff;
        }
        m.writeBytes(addr, out);
        return 'OK';
      }
      case 'b64write': {
        const addr = parseNumber(w[1]);
        const len = parseNumber(w[2]);
        const data = w[3];
        if (addr === undefined || len === undefined || data === undefined || len > 0x1000000n) return bad();
        if (data.length < 3) return 'ERR invalid argument size';
        const decoded = Buffer.from(data, 'base64');
        const out = new Uint8Array(Number(len));
        out.set(decoded.subarray(0, out.length));
        m.writeBytes(addr, out);
        return 'OK';
      }
      case 'memset': {
        const addr = parseNumber(w[1]);
        const len = parseNumber(w[2]);
        const value = parseNumber(w[3]);
        if (addr === undefined || len === undefined || value === undefined || len > 0x1000000n) return bad();
        if (len > 0n) m.writeBytes(addr, new Uint8Array(Number(len)).fill(Number(value & 0xffn)));
        return 'OK';
      }
      case 'endianness': return 'OK little';
      case 'clock_step': {
        const ns = w[1] === undefined ? undefined : parseNumber(w[1]);
        if (ns === undefined) return 'FAIL cannot advance clock to the next deadline because there is no pending deadline';
        this.clock += ns;
        return `OK ${this.clock}`;
      }
      case 'clock_set': {
        const ns = parseNumber(w[1]);
        if (ns === undefined) return bad();
        if (ns > this.clock) this.clock = ns;
        return `${this.clock === ns ? 'OK' : 'FAIL'} ${this.clock}`;
      }
      // The device has no IRQ; intercepting one on the board is harmless.
      case 'irq_intercept_in': case 'irq_intercept_out': case 'set_irq_in': return 'OK';
      default: return `FAIL Unknown command '${cmd}'`;
    }
  }
}

/** A QMP monitor with what a qtest session uses: capabilities, system_reset (+ RESET event), query-status, quit. */
export class QmpSession {
  private buffer = '';
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly machine: Q35Machine, private readonly socket: Socket, private readonly onQuit: () => void) {
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => this.onData(c));
    socket.on('error', () => undefined);
    this.send({ QMP: { version: { qemu: { micro: 0, minor: 2, major: 10 }, package: 'uefi-vars qtest-serve' }, capabilities: ['oob'] } });
  }

  private send(m: unknown): void {
    if (!this.socket.destroyed) this.socket.write(`${JSON.stringify(m)}\r\n`);
  }

  private onData(chunk: string): void {
    const { lines, rest } = takeLines(this.buffer, chunk);
    this.buffer = rest;
    for (const raw of lines) {
      const line = raw.trim();
      if (line) this.chain = this.chain.then(() => this.handle(line));
    }
  }

  private async handle(line: string): Promise<void> {
    let msg: { execute?: unknown; id?: unknown };
    try { msg = JSON.parse(line) as typeof msg; } catch {
      this.send({ error: { class: 'GenericError', desc: 'JSON parse error' } });
      return;
    }
    const id = msg.id !== undefined ? { id: msg.id } : {};
    const now = (): { seconds: number; microseconds: number } => {
      const t = Date.now();
      return { seconds: Math.floor(t / 1000), microseconds: (t % 1000) * 1000 };
    };
    switch (msg.execute) {
      case 'qmp_capabilities': this.send({ return: {}, ...id }); break;
      case 'query-status': this.send({ return: { status: 'running', running: true }, ...id }); break;
      case 'system_reset':
        // QEMU answers first and resets from the main loop; the RESET event follows the reset.
        this.send({ return: {}, ...id });
        await this.machine.reset();
        this.send({ timestamp: now(), event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' } });
        break;
      case 'quit':
        this.send({ return: {}, ...id });
        this.send({ timestamp: now(), event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
        this.onQuit();
        break;
      default:
        this.send({ error: { class: 'CommandNotFound', desc: `The command ${String(msg.execute)} has not been found` }, ...id });
    }
  }
}
