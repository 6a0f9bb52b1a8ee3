/**
 * One cell of a sweep, run as a child process: `wasmtail train` with the
 * cell's flags and `--out` its folder (`--resume` when a checkpoint is
 * there). A process per cell, rather than train() in this process, because
 * the engine's state (WASM memory, kernel threads, the signal handlers that
 * checkpoint on SIGTERM) is per process: a cell that runs out of memory or
 * diverges takes only itself down, `--jobs` cells run truly side by side,
 * and the cell is exactly the run a user would have started by hand.
 *
 * The cell is claimed first: `.cell-lock` in its folder, taken exclusively
 * with a lease the runner refreshes while the child works, so two runners
 * given the same cell (two array tasks, two machines on one shared folder)
 * never train it twice, and a runner that vanished leaves a claim the next
 * one takes over once its lease runs out. Its state goes to `status.json`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { FolderLock, LockedError, LostLockError, readHolder } from '../train/lock.js';
import { flagsToArgs, type Cell } from './grid.js';

export const CLAIM_FILE = '.cell-lock';
export const STATUS_FILE = 'status.json';
export const LOG_FILE = 'train.log';

/** What status.json says about a cell. */
export interface CellStatus {
  state: 'running' | 'done' | 'failed' | 'interrupted';
  host: string;
  pid: number;
  time: string;
  /** failed: the child's own message (its last "wasmtail: ..." line) or how it ended. */
  reason?: string;
  exitCode?: number | null;
}

export type CellOutcome =
  | { kind: 'done'; skipped: boolean }
  | { kind: 'failed'; reason: string }
  | { kind: 'interrupted'; exitCode: number }
  | { kind: 'held'; by: string };

export interface CellRunOptions {
  /** How to start the CLI: [executable, ...arguments before the command]. */
  command: string[];
  threads: number;
  /** Extra arguments for every cell (--backend, --force-threads). */
  runArgs: string[];
  leaseMs: number;
  /** Each line the child prints (progress parsing). */
  onLine?: (line: string) => void;
  /** Told when the child has started (the runner keeps it to forward signals). */
  onChild?: (pid: number) => void;
}

/** A finished cell: its summary.json is written last, after all of its epochs. */
export function isDone(cellDir: string, epochs: number): boolean {
  const file = join(cellDir, 'summary.json');
  if (!existsSync(file)) return false;
  try {
    const summary = JSON.parse(readFileSync(file, 'utf8')) as { last?: { epoch?: number } };
    return summary.last?.epoch === epochs;
  } catch {
    return false;
  }
}

export async function writeStatus(cellDir: string, status: Omit<CellStatus, 'host' | 'pid' | 'time'>): Promise<void> {
  const full: CellStatus = { ...status, host: hostname(), pid: process.pid, time: new Date().toISOString() };
  await writeFileAtomic(join(cellDir, STATUS_FILE), JSON.stringify(full) + '\n');
}

export function readStatus(cellDir: string): CellStatus | null {
  try {
    return JSON.parse(readFileSync(join(cellDir, STATUS_FILE), 'utf8')) as CellStatus;
  } catch {
    return null;
  }
}

/**
 * A train lock (`.lock`) left by a run that the previous claim holder
 * started on another host: holding the claim proves no one else trains this
 * cell, and a lock from another host cannot be checked by pid, so it goes.
 */
function clearForeignTrainLock(cellDir: string, log: (m: string) => void): void {
  const file = join(cellDir, '.lock');
  const holder = readHolder(file);
  if (holder && holder.host !== hostname()) {
    unlinkSync(file);
    log(`removed ${file} of pid ${holder.pid} on ${holder.host}: this runner holds the cell's claim`);
  }
}

/** Runs one cell to its end (or the child's), claim held throughout. */
export async function runCell(sweepDir: string, cell: Cell, opts: CellRunOptions): Promise<CellOutcome> {
  const cellDir = join(sweepDir, cell.dir);
  if (isDone(cellDir, cell.config.epochs)) return { kind: 'done', skipped: true };
  let claim: FolderLock;
  // Created with the sweep; made again in case it was removed since (a cell started over by hand).
  mkdirSync(cellDir, { recursive: true });
  const logFd = openSync(join(cellDir, LOG_FILE), 'a');
  const log = (m: string) => writeSync(logFd, `wasmtail sweep: ${m}\n`);
  try {
    try {
      claim = FolderLock.acquire(cellDir, {
        fileName: CLAIM_FILE,
        what: `cell ${cell.index} (${cellDir})`,
        purpose: 'wasmtail sweep',
        leaseMs: opts.leaseMs,
        onTakeover: log,
      });
    } catch (e) {
      if (!(e instanceof LockedError)) throw e;
      const h = e.holder;
      return { kind: 'held', by: h ? `pid ${h.pid} on ${h.host}` : 'another runner' };
    }
    // Finished while we were looking (the previous holder completed it).
    if (isDone(cellDir, cell.config.epochs)) {
      claim.release();
      return { kind: 'done', skipped: true };
    }
    let childPid: number | undefined;
    const refresher = setInterval(
      () => {
        try {
          claim.refresh();
        } catch (e) {
          if (e instanceof LostLockError) {
            // Another runner owns the cell now: stop ours (it saves its position) rather than train the cell twice.
            log(`${e.message}; stopping this runner's training of cell ${cell.index}`);
            clearInterval(refresher);
            if (childPid !== undefined) process.kill(childPid, 'SIGTERM');
            return;
          }
          // A shared folder that hiccups: the lease outlives a few missed refreshes.
          log(`could not refresh the claim: ${(e as Error).message}`);
        }
      },
      Math.max(50, opts.leaseMs / 3),
    );
    try {
      clearForeignTrainLock(cellDir, log);
      const resume = existsSync(join(cellDir, 'last.safetensors'));
      const args = [
        ...opts.command.slice(1),
        'train',
        ...flagsToArgs(cell.flags),
        '--out',
        cellDir,
        '--threads',
        String(opts.threads),
        ...opts.runArgs,
        ...(resume ? ['--resume'] : []),
      ];
      log(
        `${new Date().toISOString()} ${resume ? 'resuming' : 'starting'} cell ${cell.index} on ${hostname()} (runner pid ${process.pid})`,
      );
      await writeStatus(cellDir, { state: 'running' });
      const { code, signal, lastMessage } = await runChild(opts.command[0], args, logFd, {
        ...opts,
        onChild: (pid) => {
          childPid = pid;
          opts.onChild?.(pid);
        },
      });
      if (code === 0 && isDone(cellDir, cell.config.epochs)) {
        await writeStatus(cellDir, { state: 'done', exitCode: 0 });
        return { kind: 'done', skipped: false };
      }
      if (code === 143 || code === 130 || signal === 'SIGTERM' || signal === 'SIGINT') {
        await writeStatus(cellDir, { state: 'interrupted', exitCode: code, reason: lastMessage ?? `stopped by ${signal}` });
        return { kind: 'interrupted', exitCode: code ?? 143 };
      }
      const reason = lastMessage ?? (signal ? `killed by ${signal}` : `exit code ${code}`);
      await writeStatus(cellDir, { state: 'failed', exitCode: code, reason });
      log(`cell ${cell.index} failed: ${reason}`);
      return { kind: 'failed', reason };
    } finally {
      clearInterval(refresher);
      claim.release();
    }
  } finally {
    closeSync(logFd);
  }
}

/** The child's output goes to the cell's log; its last "wasmtail: ..." line is the reason it gives when it fails. */
function runChild(
  exe: string,
  args: string[],
  logFd: number,
  opts: CellRunOptions,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; lastMessage: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) opts.onChild?.(child.pid);
    let lastMessage: string | null = null;
    const partial = { stdout: '', stderr: '' };
    const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      writeSync(logFd, chunk);
      const text = partial[stream] + chunk.toString('utf8');
      const lines = text.split(/\r|\n/);
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^wasmtail: (.+)$/.exec(line);
        if (m && !m[1].startsWith('SIGTERM received') && !m[1].startsWith('SIGINT received') && !m[1].startsWith('to continue')) {
          lastMessage = m[1];
        }
        opts.onLine?.(line);
      }
    };
    child.stdout.on('data', take('stdout'));
    child.stderr.on('data', take('stderr'));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lastMessage }));
  });
}
