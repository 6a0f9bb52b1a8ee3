// The folder lock: one holder at a time, the holder named to a second
// writer, stale locks (dead process on this host, expired lease) taken over,
// leases refreshed.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderLock, LockedError, LostLockError } from '../../src/train/lock.js';

const root = mkdtempSync(join(tmpdir(), 'wasmtail-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const holder = (pid: number, host: string, expires: string | null) =>
  JSON.stringify({ host, pid, started: '2026-01-01T00:00:00.000Z', expires, purpose: 'wasmtail train' });

describe('folder lock', () => {
  it('records host, pid and start time; a second writer is refused naming the holder; release frees it', () => {
    const lock = FolderLock.acquire(root, { what: '--out x' });
    const h = JSON.parse(readFileSync(join(root, '.lock'), 'utf8'));
    assert.deepEqual([h.host, h.pid, h.expires], [hostname(), process.pid, null]);
    assert.ok(Date.parse(h.started) <= Date.now());
    assert.throws(
      () => FolderLock.acquire(root, { what: '--out x' }),
      (e) =>
        e instanceof LockedError &&
        e.message.startsWith(`--out x is in use: ${join(root, '.lock')} is held by wasmtail (pid ${process.pid} on ${hostname()}, since `),
    );
    lock.release();
    assert.ok(!existsSync(join(root, '.lock')));
    FolderLock.acquire(root).release();
  });

  it('a lock left by a dead process on this host is taken over with a message', () => {
    const pid = deadPid();
    writeFileSync(join(root, '.lock'), holder(pid, hostname(), null));
    const said: string[] = [];
    const lock = FolderLock.acquire(root, { what: '--out x', onTakeover: (m) => said.push(m) });
    assert.match(
      said[0],
      new RegExp(`taking over the stale lock .* of wasmtail train \\(pid ${pid} .*process ${pid} on .* no longer exists`),
    );
    assert.equal(JSON.parse(readFileSync(join(root, '.lock'), 'utf8')).pid, process.pid);
    lock.release();
  });

  it("another host's lock is kept while its lease runs and taken over once it expired; refresh() extends a lease", () => {
    writeFileSync(join(root, '.lock'), holder(1, 'elsewhere', new Date(Date.now() + 60_000).toISOString()));
    assert.throws(
      () => FolderLock.acquire(root),
      (e) => e instanceof LockedError && /pid 1 on elsewhere.*lease until/.test(e.message),
    );
    writeFileSync(join(root, '.lock'), holder(1, 'elsewhere', null));
    assert.throws(() => FolderLock.acquire(root), LockedError, 'no lease, another host: cannot be checked, never taken over');
    writeFileSync(join(root, '.lock'), holder(1, 'elsewhere', new Date(Date.now() - 1000).toISOString()));
    const said: string[] = [];
    const lock = FolderLock.acquire(root, { leaseMs: 1000, onTakeover: (m) => said.push(m) });
    assert.match(said[0], /its lease expired at/);
    const first = Date.parse(lock.expires!);
    const wait = Date.now() + 5;
    while (Date.now() < wait);
    lock.refresh();
    assert.ok(Date.parse(lock.expires!) > first);
    assert.equal(JSON.parse(readFileSync(join(root, '.lock'), 'utf8')).expires, lock.expires);
    lock.release();
  });

  it("refresh() after another holder took the lock over: LostLockError naming it, and the new holder's file left as it is", () => {
    const lock = FolderLock.acquire(root, { leaseMs: 1000 });
    const theirs = holder(4242, 'elsewhere', new Date(Date.now() + 60_000).toISOString());
    writeFileSync(join(root, '.lock'), theirs);
    assert.throws(
      () => lock.refresh(),
      (e) => e instanceof LostLockError && /taken over by pid 4242 on elsewhere/.test(e.message),
    );
    assert.equal(readFileSync(join(root, '.lock'), 'utf8'), theirs);
    lock.release();
    assert.equal(readFileSync(join(root, '.lock'), 'utf8'), theirs, 'release leaves a lock that is not ours');
    rmSync(join(root, '.lock'));
  });
});
