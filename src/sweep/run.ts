/**
 * Runs a sweep's cells on this machine, `jobs` at a time, with one progress
 * display for the whole sweep (done / running / failed / left, ETA) on
 * stderr. Finished cells are skipped and interrupted ones resumed, so the
 * same command again continues a sweep; a failed cell is recorded with its
 * reason and the others go on.
 *
 * Signals: SIGTERM / SIGINT stop starting cells. The running children
 * usually get the same signal themselves (a terminal's Ctrl-C, Slurm's
 * cancel and preemption signal the whole process tree) and save their exact
 * position; a child still running after a grace period is sent it by us
 * (once: a second signal would make it exit without saving).
 */
import { formatDuration } from '../train/progress.js';
import { runCell, type CellOutcome, type CellRunOptions } from './cell.js';
import type { Cell } from './grid.js';

export interface SweepRunOptions extends Omit<CellRunOptions, 'onLine' | 'onChild'> {
  jobs: number;
  stream?: NodeJS.WriteStream;
  /** Milliseconds between progress lines when stderr is not a terminal (default 30 s). */
  intervalMs?: number;
  /** Copy each cell's output to the stream too (one cell of a job array: its output is the task's log). */
  echo?: boolean;
}

export interface SweepResult {
  done: number;
  failed: { cell: Cell; reason: string }[];
  interrupted: number;
  held: number;
  /** The signal that stopped the sweep, if one did. */
  signal: NodeJS.Signals | null;
}

/** Fraction of a cell's epochs done, from the progress lines its train prints (plain lines: its stderr is a pipe). */
function progressOf(line: string): number | null {
  const m = /^epoch (\d+)\/(\d+)(?: step (\d+)\/(\d+))?/.exec(line);
  if (!m) return null;
  const [epoch, epochs] = [Number(m[1]), Number(m[2])];
  const within = m[3] ? Number(m[3]) / Number(m[4]) : /^epoch \d+\/\d+ lr /.test(line) ? 1 : 0;
  return (epoch - 1 + within) / epochs;
}

const GRACE_MS = 3000;

export async function runSweepCells(sweepDir: string, cells: Cell[], opts: SweepRunOptions): Promise<SweepResult> {
  const stream = opts.stream ?? process.stderr;
  const tty = !!stream.isTTY;
  const result: SweepResult = { done: 0, failed: [], interrupted: 0, held: 0, signal: null };
  const fraction = new Map<number, number>();
  const children = new Map<number, number>();
  const queue = [...cells];
  const started = Date.now();
  // Cells found finished: they say nothing about how fast the others go.
  let skipped = 0;
  let lastLine = 0;
  let lastShown = '';

  const status = (): string => {
    const running = fraction.size;
    const left = queue.length;
    const finished = result.done + result.failed.length;
    const progress = finished + [...fraction.values()].reduce((a, b) => a + b, 0);
    const rate = (progress - skipped) / ((Date.now() - started) / 1000);
    const remaining = cells.length - progress;
    const eta = remaining <= 0 ? '0s' : rate > 0 ? formatDuration(remaining / rate) : '?';
    return `sweep: ${result.done} done, ${running} running, ${result.failed.length} failed, ${left} left of ${cells.length}; ETA ${eta}`;
  };
  const show = (force = false) => {
    const now = Date.now();
    if (opts.echo && !force) return;
    if (!force && now - lastLine < (tty ? 200 : (opts.intervalMs ?? 30_000))) return;
    lastShown = status();
    stream.write(tty ? `\r\x1b[2K${lastShown}` : `${lastShown}\n`);
    lastLine = now;
  };
  const say = (text: string) => {
    stream.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    show(true);
  };

  let stopping: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      for (const pid of children.values()) kill(pid, signal);
      return;
    }
    stopping = signal;
    result.signal = signal;
    say(`sweep: ${signal} received: no new cells; running cells save their position (run the same command again to continue)`);
    setTimeout(() => {
      for (const pid of children.values()) kill(pid, signal);
    }, GRACE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const worker = async () => {
    while (!stopping && queue.length > 0) {
      const cell = queue.shift()!;
      fraction.set(cell.index, 0);
      let outcome: CellOutcome;
      try {
        outcome = await runCell(sweepDir, cell, {
          ...opts,
          onLine: (line) => {
            if (opts.echo) stream.write(line + '\n');
            const f = progressOf(line);
            if (f !== null) {
              fraction.set(cell.index, f);
              show();
            }
          },
          onChild: (pid) => children.set(cell.index, pid),
        });
      } catch (e) {
        outcome = { kind: 'failed', reason: (e as Error).message };
      }
      fraction.delete(cell.index);
      children.delete(cell.index);
      const name = `cell ${cell.index} (${cell.dir})`;
      switch (outcome.kind) {
        case 'done':
          result.done++;
          if (outcome.skipped) skipped++;
          else say(`${name}: done`);
          break;
        case 'failed':
          result.failed.push({ cell, reason: outcome.reason });
          say(`${name}: FAILED: ${outcome.reason}`);
          break;
        case 'interrupted':
          result.interrupted++;
          say(`${name}: interrupted, its position saved`);
          break;
        case 'held':
          result.held++;
          say(`${name}: held by ${outcome.by}, left to it`);
          break;
      }
    }
  };
  show(true);
  try {
    await Promise.all(Array.from({ length: Math.min(opts.jobs, cells.length) }, worker));
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
  }
  if (status() !== lastShown) show(true);
  if (tty) stream.write('\n');
  return result;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
