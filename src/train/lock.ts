/**
 * One writer per folder: an exclusive lock file, `DIR/.lock`, created with
 * O_CREAT | O_EXCL (`'wx'`), so of two processes racing for it exactly one
 * wins, on any local file system. It records who holds it (host, pid, start
 * time) and, for holders that promise to refresh it, until when
 * (`expires`): a training run holds its folder until it exits; a sweep's
 * cell can hold a lease that its runner refreshes while it works, so that a
 * cell whose runner vanished (on another machine too) becomes free again.
 *
 * A lock is stale, and taken over with a message, when its holder is on this
 * host and its process no longer exists, or when its lease has expired.
 * Otherwise the second writer is refused with a LockedError naming the
 * holder. Limits: a pid reused by an unrelated process keeps a stale lock
 * alive (remove the file by hand); a holder on another host without a lease
 * cannot be checked, so its lock is never taken over.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** What `.lock` holds (one JSON object). */
export interface LockHolder {
  host: string;
  pid: number;
  /** ISO time the holder took the lock. */
  started: string;
  /** ISO time after which the lock is stale unless refreshed; null: held until the process exits. */
  expires: string | null;
  /** What holds it, for the message a refused writer sees (e.g. "wasmtail train"). */
  purpose: string;
}

/** A held lock was taken over by another holder after its lease ran out. */
export class LostLockError extends Error {
  constructor(
    readonly file: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      `${file}: the lock was taken over ${holder ? `by pid ${holder.pid} on ${holder.host} (${holder.purpose})` : '(the file is gone)'} ` +
        'after its lease ran out',
    );
  }
}

/** The folder is held by another live writer. */
export class LockedError extends Error {
  constructor(
    readonly file: string,
    readonly holder: LockHolder | null,
    what: string,
  ) {
    super(
      `${what} is in use: ${file} is held by ` +
        (holder
          ? `${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.started}` +
            `${holder.expires ? `, lease until ${holder.expires}` : ''})`
          : 'a process whose lock file cannot be read') +
        `; wait for it to finish, or remove ${file} if that process is gone`,
    );
    this.name = 'LockedError';
  }
}

export interface LockOptions {
  /** Names the folder in messages, e.g. "--out runs/x". */
  what?: string;
  purpose?: string;
  /** Lease length in ms: the lock expires unless refresh() is called within it. Absent: held until release or exit. */
  leaseMs?: number;
  /** The lock file's name in the folder (default '.lock', a run's; a sweep's cell claim uses another, so both can be held). */
  fileName?: string;
  /** Told when a stale lock is taken over (default: stderr). */
  onTakeover?: (message: string) => void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** Why a holder's lock no longer counts, or null while it does (also read by `sweep --status`). */
export function staleReason(h: LockHolder, now: number): string | null {
  if (h.expires !== null && Date.parse(h.expires) < now) return `its lease expired at ${h.expires}`;
  if (h.host === hostname() && !alive(h.pid)) return `process ${h.pid} on ${h.host} no longer exists`;
  return null;
}

export class FolderLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly file: string,
    private holder: LockHolder,
    private readonly leaseMs: number | undefined,
  ) {
    process.once('exit', this.onExit);
  }

  /** Takes `dir/.lock` (the folder must exist), or throws LockedError naming the live holder. */
  static acquire(dir: string, opts: LockOptions = {}): FolderLock {
    const file = join(dir, opts.fileName ?? '.lock');
    const what = opts.what ?? dir;
    const holder: LockHolder = {
      host: hostname(),
      pid: process.pid,
      started: new Date().toISOString(),
      expires: opts.leaseMs === undefined ? null : new Date(Date.now() + opts.leaseMs).toISOString(),
      purpose: opts.purpose ?? 'wasmtail',
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        try {
          writeSync(fd, JSON.stringify(holder) + '\n');
        } finally {
          closeSync(fd);
        }
        return new FolderLock(file, holder, opts.leaseMs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${what}: cannot create ${file} (${(e as Error).message})`);
      }
      const current = readHolder(file);
      const reason = current ? staleReason(current, Date.now()) : null;
      if (!current || !reason || attempt > 0) throw new LockedError(file, current, what);
      // Moved aside rather than deleted: of two processes taking over at once, only one renames it; both then race on 'wx'.
      const aside = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, aside);
        unlinkSync(aside);
      } catch {
        continue;
      }
      (opts.onTakeover ?? ((m) => process.stderr.write(m + '\n')))(
        `${what}: taking over the stale lock ${file} of ${current.purpose} (pid ${current.pid} on ${current.host}, since ${current.started}): ${reason}`,
      );
    }
    throw new LockedError(file, readHolder(file), what);
  }

  /**
   * Extends the lease by its length from now (a lock without a lease: nothing
   * to do). Throws LostLockError, leaving the file alone, when another holder
   * took the lock over (our lease ran out while we were paused): writing ours
   * back would let two holders think they own it.
   */
  refresh(): void {
    if (this.released || this.leaseMs === undefined) return;
    const current = readHolder(this.file);
    if (!current || !this.isOurs(current)) throw new LostLockError(this.file, current);
    this.holder = { ...this.holder, expires: new Date(Date.now() + this.leaseMs).toISOString() };
    const tmp = `${this.file}.refresh-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.holder) + '\n');
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }

  private isOurs(h: LockHolder): boolean {
    return h.pid === this.holder.pid && h.host === this.holder.host && h.started === this.holder.started;
  }

  /** When the lease runs out (null: no lease). */
  get expires(): string | null {
    return this.holder.expires;
  }

  /** Removes the lock if it is still ours (idempotent; also runs at process exit). */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const current = readHolder(this.file);
    if (current && this.isOurs(current)) {
      try {
        unlinkSync(this.file);
      } catch {
        // Already gone: nothing to release.
      }
    }
  }
}
