/**
 * Progress on stderr: one live line (\r) with epoch, step, loss, images/s and
 * ETA on a terminal; plain lines every few seconds otherwise (logs, CI).
 */
export class Progress {
  private last = 0;
  private readonly tty: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = 10_000,
  ) {
    this.tty = !!stream.isTTY;
  }

  update(text: string): void {
    const now = Date.now();
    if (this.tty) {
      if (now - this.last < 100) return;
      this.stream.write(`\r\x1b[2K${text}`);
    } else {
      if (now - this.last < this.intervalMs) return;
      this.stream.write(`${text}\n`);
    }
    this.last = now;
  }

  /** A line that stays (end of an epoch). */
  line(text: string): void {
    this.stream.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    this.last = this.tty ? 0 : Date.now();
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
