/**
 * Just enough QMP (QEMU Machine Protocol) for the conformance suite: the
 * greeting, `qmp_capabilities`, `system_reset` (completes with the RESET
 * event, which QEMU sends after the reset has run) and `quit`.
 */
import type { Socket } from 'node:net';
import { TargetCrashed } from '../transport.js';
import { takeLines } from './lines.js';

type Message = Record<string, unknown>;

export class QmpConnection {
  private buffer = '';
  private readonly waiters: Array<{ match: (m: Message) => boolean; resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => this.onData(c));
    socket.on('error', (e) => this.fail(new TargetCrashed(`QMP socket: ${e.message}`)));
    socket.on('close', () => this.fail(new TargetCrashed('the QMP connection closed')));
  }

  /** Read the greeting and leave capabilities negotiation mode. */
  static async open(socket: Socket): Promise<QmpConnection> {
    const q = new QmpConnection(socket);
    await q.next((m) => 'QMP' in m);
    await q.execute('qmp_capabilities');
    return q;
  }

  async execute(command: string, args?: Message): Promise<unknown> {
    const answer = this.next((m) => 'return' in m || 'error' in m);
    this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    const m = await answer;
    if ('error' in m) throw new Error(`QMP ${command}: ${JSON.stringify(m['error'])}`);
    return m['return'];
  }

  /** system_reset, resolved once QEMU reports the RESET event. */
  async systemReset(): Promise<void> {
    const event = this.next((m) => m['event'] === 'RESET');
    await this.execute('system_reset');
    await event;
  }

  close(): void { this.socket.destroy(); }

  private next(match: (m: Message) => boolean): Promise<Message> {
    return new Promise((resolve, reject) => {
      if (this.failure) { reject(this.failure); return; }
      this.waiters.push({ match, resolve, reject });
    });
  }

  private onData(chunk: string): void {
    const { lines, rest } = takeLines(this.buffer, chunk);
    this.buffer = rest;
    for (const raw of lines) {
      const line = raw.trim();
      if (!line) continue;
      let m: Message;
      try { m = JSON.parse(line) as Message; } catch { continue; }
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }
}
