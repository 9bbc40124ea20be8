/**
 * Client side of QEMU's qtest line protocol (QEMU system/qtest.c, "QTest
 * Protocol"; tests/qtest/libqtest.c): one command per line, one reply line
 * per command — `OK`, `OK VALUE` or `OK DATA`, or `FAIL …` / `ERR …` — with
 * asynchronous `IRQ raise N` / `IRQ lower N` lines that may arrive at any
 * time and are skipped. Numbers go out as 0x-hex (QEMU parses them with base 0).
 *
 *   readb/readw/readl/readq ADDR     → OK 0x%016x (always 16 digits)
 *   writeb/writew/writel/writeq ADDR VALUE → OK
 *   inb/inw/inl PORT → OK 0x%04x;  outb/outw/outl PORT VALUE → OK
 *   read ADDR SIZE → OK 0x<2·SIZE hex digits>;  write ADDR SIZE 0x<hex> → OK
 *   b64read ADDR SIZE → OK <base64>;  b64write ADDR SIZE <base64> → OK
 */
import type { Socket } from 'node:net';
import { TargetCrashed } from '../transport.js';
import { takeLines } from './lines.js';

export class QtestError extends Error {
  override readonly name = 'QtestError';
}

interface Pending { line: string; resolve: (words: string[]) => void; reject: (e: Error) => void }

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

export class QtestConnection {
  private buffer = '';
  private readonly queue: Pending[] = [];
  private failure: Error | undefined;
  /** IRQ lines seen (libqtest keeps the levels; nothing here intercepts IRQs, so this stays empty in practice). */
  readonly irqs: string[] = [];
  /**
   * What the peer's death looks like in reports; whoever owns the process sets
   * it (and may wait a moment for the exit status, which trails the socket).
   */
  deathReason: (cause: string) => Promise<string> = async (cause) => cause;

  constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    let dying = false;
    const died = (cause: string): void => {
      if (dying) return;
      dying = true;
      void this.deathReason(cause).then((why) => this.fail(new TargetCrashed(why)), () => this.fail(new TargetCrashed(cause)));
    };
    socket.on('error', (e) => died(`qtest socket: ${e.message}`));
    socket.on('close', () => died('the qtest connection closed'));
  }

  /** Send one command line; resolves to the reply's words after `OK`. */
  command(line: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (this.failure) { reject(this.failure); return; }
      this.queue.push({ line, resolve, reject });
      this.socket.write(`${line}\n`);
    });
  }

  async readMem(width: 1 | 2 | 4 | 8, addr: bigint): Promise<bigint> {
    const w = await this.command(`read${'bwlq'[Math.log2(width)]} ${hex(addr)}`);
    return parseValue(w[0], `read${width}`);
  }

  async writeMem(width: 1 | 2 | 4 | 8, addr: bigint, value: bigint | number): Promise<void> {
    const mask = (1n << BigInt(width * 8)) - 1n;
    await this.command(`write${'bwlq'[Math.log2(width)]} ${hex(addr)} ${hex(BigInt(value) & mask)}`);
  }

  async inPort(width: 1 | 2 | 4, port: number): Promise<number> {
    const w = await this.command(`in${'bwl'[Math.log2(width)]} ${hex(port)}`);
    return Number(parseValue(w[0], 'in'));
  }

  async outPort(width: 1 | 2 | 4, port: number, value: number): Promise<void> {
    await this.command(`out${'bwl'[Math.log2(width)]} ${hex(port)} ${hex(value >>> 0)}`);
  }

  /** Bulk write: `write` (hex) for small buffers, `b64write` for large ones; 0 bytes is a no-op (QEMU refuses it). */
  async writeBytes(addr: bigint, bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    if (bytes.length <= 4096) await this.command(`write ${hex(addr)} ${hex(bytes.length)} 0x${Buffer.from(bytes).toString('hex')}`);
    else await this.command(`b64write ${hex(addr)} ${hex(bytes.length)} ${Buffer.from(bytes).toString('base64')}`);
  }

  async readBytes(addr: bigint, length: number): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0);
    if (length <= 4096) {
      const w = await this.command(`read ${hex(addr)} ${hex(length)}`);
      const h = w[0] ?? '';
      if (!/^0x[0-9a-fA-F]*$/.test(h) || h.length !== 2 + 2 * length) throw new QtestError(`read: malformed data (${h.length} chars for ${length} bytes)`);
      return new Uint8Array(Buffer.from(h.slice(2), 'hex'));
    }
    const w = await this.command(`b64read ${hex(addr)} ${hex(length)}`);
    const out = new Uint8Array(Buffer.from(w[0] ?? '', 'base64'));
    if (out.length !== length) throw new QtestError(`b64read: ${out.length} bytes for ${length}`);
    return out;
  }

  close(): void { this.socket.destroy(); }

  private onData(chunk: string): void {
    const { lines, rest } = takeLines(this.buffer, chunk);
    this.buffer = rest;
    for (const line of lines) this.onLine(line);
  }

  private onLine(line: string): void {
    const words = line.split(' ');
    if (words[0] === 'IRQ') { this.irqs.push(line); return; }
    const p = this.queue.shift();
    if (!p) { this.fail(new QtestError(`unexpected qtest line ${JSON.stringify(line)}`)); return; }
    if (words[0] === 'OK') p.resolve(words.slice(1));
    else p.reject(new QtestError(`qtest '${p.line.slice(0, 60)}' answered ${JSON.stringify(line.slice(0, 200))}`));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.queue.splice(0)) p.reject(this.failure);
  }
}

function parseValue(w: string | undefined, what: string): bigint {
  if (!w || !/^0x[0-9a-fA-F]+$/.test(w)) throw new QtestError(`${what}: malformed value ${JSON.stringify(w)}`);
  return BigInt(w);
}
