// A run's output folder: created (with a message naming --out when it cannot
// be) and locked for this one writer until the run ends.
import { mkdirSync, statSync } from 'node:fs';
import { FolderLock } from './lock.js';

/** Creates `out` if needed and takes its lock; errors name --out and the cause, not a bare fs code. */
export function openRunFolder(out: string): FolderLock {
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? isFile(out)
          ? 'it is a file, not a folder'
          : 'a part of its path is a file, not a folder'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (e as Error).message;
    throw new Error(`--out ${out}: cannot create the run folder (${why})`);
  }
  return FolderLock.acquire(out, { what: `--out ${out}`, purpose: 'wasmtail train' });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
