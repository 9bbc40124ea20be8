/**
 * Progress of a many-store command: a bar redrawn in place (at most 10 times a
 * second) when stderr is a terminal; otherwise, and also on a terminal, each
 * finished item's line goes to stdout as plain text.
 */
export class Progress {
  private n = 0;
  private last = 0;
  private readonly tty: boolean;
  private readonly counts = new Map<string, number>();

  constructor(private readonly total: number, private readonly bar: NodeJS.WriteStream, private readonly lines: boolean) {
    this.tty = bar.isTTY === true;
  }

  done(kind: string, text: string | undefined): void {
    this.n++;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (text !== undefined && this.lines) {
      if (this.tty) this.bar.write('\r\x1b[K');
      process.stdout.write(text + '\n');
    }
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100 && this.n < this.total) return;
    this.last = now;
    const width = 30;
    const filled = this.total ? Math.round((this.n / this.total) * width) : width;
    const tally = [...this.counts].map(([k, v]) => `${k} ${v}`).join(', ');
    this.bar.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.n}/${this.total}  ${tally}`);
  }

  finish(): void {
    if (this.tty) this.bar.write('\r\x1b[K');
  }
}
