/**
 * Extracting a downloaded .tar.gz (tar-stream over node:zlib) into a folder,
 * refusing anything that could write outside it or is not plain data:
 * absolute names, `..` components, symbolic and hard links, devices. A
 * truncated archive (gzip or tar) is an error, not a shorter folder. Node-only.
 */
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

export class UnsafeArchiveError extends Error {
  constructor(archive: string, entry: string, why: string) {
    super(`${archive}: refused entry '${entry}': ${why}; nothing was extracted to the final folder`);
    this.name = 'UnsafeArchiveError';
  }
}

/** Where an entry would land under `target`, or the reason it may not. */
function safeEntryPath(target: string, name: string): string | { refused: string } {
  if (name.length === 0) return { refused: 'an empty name' };
  if (isAbsolute(name) || /^[a-zA-Z]:/.test(name) || name.startsWith('\\')) return { refused: 'an absolute path' };
  if (name.split(/[\\/]/).includes('..')) return { refused: "a '..' component, which would escape the target folder" };
  const path = resolve(target, normalize(name));
  if (path !== target && !path.startsWith(target + sep)) return { refused: 'a path outside the target folder' };
  return path;
}

/** Extracts the .tar.gz `archive` into `target` (created); returns the names of the files written. */
export async function extractTarGz(archive: string, target: string): Promise<string[]> {
  const root = resolve(target);
  mkdirSync(root, { recursive: true });
  const written: string[] = [];
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    const fail = (why: string) => {
      stream.resume();
      next(new UnsafeArchiveError(archive, header.name, why));
    };
    const path = safeEntryPath(root, header.name);
    if (typeof path !== 'string') return fail(path.refused);
    if (header.type === 'directory') {
      mkdirSync(path, { recursive: true });
      stream.resume();
      stream.on('end', () => next());
      return;
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      return fail(
        `a ${header.type ?? 'special'} entry${header.linkname ? ` (to '${header.linkname}')` : ''}; only files and folders are extracted`,
      );
    }
    mkdirSync(join(path, '..'), { recursive: true });
    pipeline(stream, createWriteStream(path, { flags: 'wx' })).then(
      () => {
        written.push(header.name);
        next();
      },
      (e: Error) => next(e),
    );
  });
  try {
    await pipeline(createReadStream(archive), createGunzip(), tar);
  } catch (e) {
    if (e instanceof UnsafeArchiveError) throw e;
    const why = (e as Error).message;
    throw new Error(`${archive}: not a complete .tar.gz archive (${why}); delete it and fetch it again`, { cause: e });
  }
  return written;
}
