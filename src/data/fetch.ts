/**
 * `wasmtail fetch` and `--download`: the standard data sets' official files,
 * verified against their published MD5 (the SHA-256 recorded beside each),
 * downloaded under a temporary name with HTTP Range resume, then unpacked
 * into a temporary folder that is renamed into place, so nothing half-made is
 * ever at the final path. Node-only.
 *
 * Checksums: CIFAR's MD5s are those published on
 * https://www.cs.toronto.edu/~kriz/cifar.html; Fashion-MNIST's are
 * torchvision's (`torchvision/datasets/mnist.py`, class FashionMNIST); the
 * SHA-256s are those of the same files as torchvision-ruby records them
 * (`lib/torchvision/datasets/{cifar10,cifar100,fashion_mnist}.rb`).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { basename, join } from 'node:path';
import { extractTarGz } from './untar.js';
import type { DatasetName } from './node.js';

export interface RemoteFile {
  name: string;
  md5: string;
  sha256: string;
}

export interface DatasetSource {
  /** Base URL the file names are appended to. */
  baseUrl: string;
  files: RemoteFile[];
  /** The folder the data set ends up in, under the chosen directory (the folder the loaders look for). */
  folder: string;
  /** 'tar.gz': one archive holding `folder`; 'files': the files themselves, kept as they are. */
  kind: 'tar.gz' | 'files';
}

export const DATASET_SOURCES: Readonly<Record<DatasetName, DatasetSource>> = {
  cifar10: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    folder: 'cifar-10-batches-bin',
    kind: 'tar.gz',
    files: [
      {
        name: 'cifar-10-binary.tar.gz',
        md5: 'c32a1d4ab5d03f1284b67883e8d87530',
        sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
      },
    ],
  },
  cifar100: {
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    folder: 'cifar-100-binary',
    kind: 'tar.gz',
    files: [
      {
        name: 'cifar-100-binary.tar.gz',
        md5: '03b5dce01913d631647c71ecec9e9cb8',
        sha256: '58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec',
      },
    ],
  },
  'fashion-mnist': {
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    folder: 'fashion-mnist',
    kind: 'files',
    files: [
      {
        name: 'train-images-idx3-ubyte.gz',
        md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
        sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
      },
      {
        name: 'train-labels-idx1-ubyte.gz',
        md5: '25c81989df183df01b3e8a0aad5dffbe',
        sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
      },
      {
        name: 't10k-images-idx3-ubyte.gz',
        md5: 'bef4ecab320f06d8554ea6380940ec79',
        sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
      },
      {
        name: 't10k-labels-idx1-ubyte.gz',
        md5: 'bb300cfdad3c16e7a12a480ee83cd310',
        sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
      },
    ],
  },
};

/** Where progress goes: the CLI passes its stderr Progress (a live line on a TTY, lines every 10 s otherwise). */
export interface ProgressSink {
  /** A transient status (bytes, rate, ETA). */
  update(text: string): void;
  /** A line that stays. */
  line(text: string): void;
}

const SILENT: ProgressSink = { update: () => {}, line: () => {} };

export interface FetchOptions {
  /** The folder the data set goes under (as `--data-dir`). */
  dir: string;
  /** A base URL under which the official file names are served (`--mirror`, WASMTAIL_MIRROR). */
  mirror?: string;
  /** Replaces the built-in URLs and checksums (tests; not reachable from the CLI). */
  sources?: Partial<Record<DatasetName, DatasetSource>>;
  /** A connection that sends nothing for this long is abandoned (default 30 s). */
  stallMs?: number;
  /** Redirects followed before giving up (default 5). */
  maxRedirects?: number;
  /** Attempts to resume a download cut short (default 5). */
  retries?: number;
  /** Default: silent. */
  progress?: ProgressSink;
}

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** Streams a file through MD5 and SHA-256. */
async function checksums(file: string): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  for await (const chunk of createReadStream(file)) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

/** One GET, following redirects; resolves with the response whose status is not a redirect. */
function request(
  url: string,
  headers: Record<string, string>,
  opts: Required<Pick<FetchOptions, 'stallMs' | 'maxRedirects'>>,
): Promise<{ res: IncomingMessage; url: string }> {
  return new Promise((resolvePromise, reject) => {
    const go = (current: string, left: number) => {
      const get = current.startsWith('https:') ? httpsGet : httpGet;
      const req = get(current, { headers }, (res) => {
        // From here the body's own stall timer (downloadFile) watches the connection.
        req.setTimeout(0);
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          if (left === 0) return reject(new DownloadError(`${url}: more than ${opts.maxRedirects} redirects`));
          return go(new URL(res.headers.location, current).toString(), left - 1);
        }
        resolvePromise({ res, url: current });
      });
      req.setTimeout(opts.stallMs, () => req.destroy(new DownloadError(`${current}: no response for ${opts.stallMs / 1000} s (stalled)`)));
      req.on('error', reject);
    };
    go(url, opts.maxRedirects);
  });
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

/**
 * Downloads `url` to `dest` through `dest.part`, resuming a partial `.part`
 * with a Range request (also after a connection cut mid-file, up to
 * `retries` times), then checks the MD5: a mismatch deletes the file and
 * names both checksums.
 */
export async function downloadFile(
  url: string,
  dest: string,
  expected: RemoteFile,
  options: Omit<FetchOptions, 'dir'> = {},
): Promise<void> {
  const opts = { stallMs: options.stallMs ?? 30_000, maxRedirects: options.maxRedirects ?? 5 };
  const retries = options.retries ?? 5;
  const progress = options.progress ?? SILENT;
  const part = `${dest}.part`;
  for (let attempt = 0; ; attempt++) {
    const offset = existsSync(part) ? statSync(part).size : 0;
    let res: IncomingMessage;
    try {
      ({ res } = await request(url, offset > 0 ? { Range: `bytes=${offset}-` } : {}, opts));
    } catch (e) {
      if (e instanceof DownloadError && attempt < retries && /stalled/.test(e.message)) continue;
      throw new DownloadError(
        `cannot download ${url} (${(e as Error).message}); ` +
          `fetch it by hand (or from a mirror: --mirror URL) and put it at ${dest}, then run again`,
      );
    }
    const status = res.statusCode ?? 0;
    if (status === 416 && offset > 0) {
      // The part is already whole: the server has nothing past its end.
      res.resume();
      break;
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new DownloadError(
        `${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trim() +
          `; fetch ${basename(dest)} by hand and put it at ${dest}, or use --mirror URL`,
      );
    }
    const resumed = status === 206;
    const total = Number(res.headers['content-length'] ?? NaN) + (resumed ? offset : 0);
    let received = resumed ? offset : 0;
    const started = Date.now();
    const startBytes = received;
    const file = createWriteStream(part, { flags: resumed ? 'a' : 'w' });
    // Whatever arrived is kept in the .part (flushed before a retry), so the next request resumes after it.
    const closeFile = () => new Promise<void>((r) => file.end(() => r()));
    try {
      await new Promise<void>((done, fail) => {
        let stalled: DownloadError | null = null;
        const stall = () => {
          stalled = new DownloadError(`${url}: no data for ${opts.stallMs / 1000} s (stalled)`);
          res.destroy(stalled);
        };
        let timer = setTimeout(stall, opts.stallMs);
        const failWith = (e: Error) => {
          clearTimeout(timer);
          fail(stalled ?? e);
        };
        res.on('data', (chunk: Buffer) => {
          clearTimeout(timer);
          timer = setTimeout(stall, opts.stallMs);
          received += chunk.length;
          if (!file.write(chunk)) {
            res.pause();
            file.once('drain', () => res.resume());
          }
          const rate = (received - startBytes) / Math.max(1e-3, (Date.now() - started) / 1000);
          const filled = Number.isFinite(total) ? Math.round((20 * received) / total) : 0;
          const pct = Number.isFinite(total)
            ? ` [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${((100 * received) / total).toFixed(1)}%`
            : '';
          const eta = Number.isFinite(total) ? ` ETA ${formatSeconds((total - received) / rate)}` : '';
          progress.update(
            `${basename(dest)}${pct} ${formatBytes(received)}${Number.isFinite(total) ? ` of ${formatBytes(total)}` : ''}, ${formatBytes(rate)}/s${eta}`,
          );
        });
        res.on('error', failWith);
        res.on('aborted', () => failWith(new DownloadError(`${url}: connection closed after ${received} bytes`)));
        res.on('end', () => {
          clearTimeout(timer);
          if (Number.isFinite(total) && received < total)
            fail(new DownloadError(`${url}: connection closed after ${received} of ${total} bytes`));
          else done();
        });
      });
      await closeFile();
      break;
    } catch (e) {
      await closeFile();
      if (attempt >= retries) {
        throw new DownloadError(`${(e as Error).message}; gave up after ${retries + 1} attempts (${part} is kept: run again to resume)`);
      }
      progress.line(`${basename(dest)}: ${(e as Error).message}; resuming from byte ${existsSync(part) ? statSync(part).size : 0}`);
    }
  }
  const got = await checksums(part);
  if (got.md5 !== expected.md5) {
    unlinkSync(part);
    throw new DownloadError(
      `${basename(dest)} from ${url}: checksum mismatch: expected MD5 ${expected.md5}, got ${got.md5} ` +
        `(SHA-256 ${got.sha256}, expected ${expected.sha256}); the file was deleted`,
    );
  }
  renameSync(part, dest);
  progress.line(`${basename(dest)}: MD5 ${got.md5} and SHA-256 ${got.sha256} verified`);
}

/** Whether the data set is already in place (the final folder exists: it only ever appears whole). */
export function datasetPresent(name: DatasetName, dir: string, sources: Partial<Record<DatasetName, DatasetSource>> = {}): boolean {
  const source = sources[name] ?? DATASET_SOURCES[name];
  return existsSync(join(dir, source.folder));
}

/**
 * Fetches a standard data set into `dir/<folder>` (cifar-10-batches-bin,
 * cifar-100-binary or fashion-mnist), unless it is already there. Returns the folder.
 */
export async function fetchDataset(name: DatasetName, options: FetchOptions): Promise<string> {
  const source = options.sources?.[name] ?? DATASET_SOURCES[name];
  if (!source) throw new DownloadError(`unknown data set '${name}' (cifar10, cifar100, fashion-mnist)`);
  const final = join(options.dir, source.folder);
  const progress = options.progress ?? SILENT;
  if (existsSync(final)) {
    progress.line(`${name}: already in ${final}`);
    return final;
  }
  mkdirSync(options.dir, { recursive: true });
  const mirror = options.mirror ?? process.env.WASMTAIL_MIRROR;
  const base = mirror ? (mirror.endsWith('/') ? mirror : mirror + '/') : source.baseUrl;
  const staging = join(options.dir, `.${source.folder}.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const file of source.files) {
      const dest = join(options.dir, file.name);
      if (!existsSync(dest)) await downloadFile(base + file.name, dest, file, { ...options, progress });
    }
    mkdirSync(staging, { recursive: true });
    for (const file of source.files) {
      const dest = join(options.dir, file.name);
      if (source.kind === 'files') renameSync(dest, join(staging, file.name));
      else {
        progress.line(`${file.name}: extracting`);
        await extractTarGz(dest, staging);
      }
    }
    // The archive holds the folder itself; plain files were gathered in the staging folder.
    const made = source.kind === 'tar.gz' ? join(staging, source.folder) : staging;
    if (!existsSync(made)) throw new DownloadError(`${source.files[0].name}: the archive holds no ${source.folder}/ folder`);
    renameSync(made, final);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  progress.line(`${name}: ready in ${final}`);
  return final;
}
