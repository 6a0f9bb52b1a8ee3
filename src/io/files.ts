/**
 * Node-only file helpers: safetensors files on disk and crash-safe writes.
 * Kept apart from `safetensors.ts` so that the browser build never imports
 * `node:fs`.
 */

import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadSafetensors, saveSafetensors, type SafetensorsContents, type TensorToSave } from './safetensors.js';

/**
 * Replace `path` with `data` so that, whatever happens (an exception, a full
 * disk, SIGKILL, a power cut after this resolves), `path` holds either its
 * previous contents or the new ones in full, never a prefix.
 *
 * The data goes to `${path}.tmp-${pid}-${random}` in the same directory (a
 * rename is only atomic within one file system), is fsynced, renamed over
 * `path`, and then the directory is fsynced so the rename itself is durable
 * (best effort: some platforms cannot open a directory). On any error the
 * temporary file is removed and the error is rethrown with `path` in its
 * message. A process killed between creating and renaming the temporary file
 * leaves it behind; it never replaces `path`.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let created = false;
  try {
    const handle = await open(tmp, 'wx');
    created = true;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    created = false;
  } catch (err) {
    if (created) await unlink(tmp).catch(() => {});
    const cause = err instanceof Error ? err.message : String(err);
    throw new Error(`writing ${path} failed: ${cause}`, { cause: err });
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows and some network file systems refuse to open or fsync a
    // directory; the rename has still happened.
  }
}

/** Read and parse a safetensors file; errors name `path`. */
export async function loadSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot be read (${readError(e)})`, { cause: e });
  }
  return loadSafetensors(bytes, path);
}

/** An fs error in words: "no such file", "a folder, not a file", ... rather than its bare code and message. */
export function readError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EISDIR'
      ? 'it is a folder, not a file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : (e as Error).message;
}

/** Serialise tensors as F32 safetensors and write them to `path` atomically. */
export async function saveSafetensorsFile(
  path: string,
  tensors: Map<string, TensorToSave> | Record<string, TensorToSave>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, saveSafetensors(tensors, metadata));
}
