// `wasmtail fetch` against a loopback HTTP server started here, serving archives in the official layouts
// (checksum table replaced through the API): resume after a cut, 404, redirects, stalls, wrong checksums,
// truncated and escaping tar archives; the final folder only ever appears whole.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { fetchDataset, type DatasetSource } from '../../src/data/fetch.js';
import { loadDataset } from '../../src/data/node.js';

const quiet = { update: () => {}, line: () => {} };

async function tarGz(entries: { header: Headers; body?: Uint8Array }[], cutTarAt?: number): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const { header, body } of entries) {
    if (body) p.entry(header, body);
    else p.entry(header);
  }
  p.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  return gzipSync(cutTarAt === undefined ? tar : tar.subarray(0, cutTarAt));
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** CIFAR-10's binary archive layout, with two records a batch. */
function cifarEntries(): { header: Headers; body?: Uint8Array }[] {
  const record = (label: number) => Uint8Array.from({ length: 3073 }, (_, i) => (i === 0 ? label : (i * 7 + label) & 255));
  const batch = (k: number) => Uint8Array.from([...record(k % 10), ...record((k + 3) % 10)]);
  return [
    { header: { name: 'cifar-10-batches-bin/', type: 'directory' } },
    ...[1, 2, 3, 4, 5].map((k) => ({
      header: { name: `cifar-10-batches-bin/data_batch_${k}.bin`, type: 'file' as const },
      body: batch(k),
    })),
    { header: { name: 'cifar-10-batches-bin/test_batch.bin', type: 'file' }, body: batch(0) },
    {
      header: { name: 'cifar-10-batches-bin/batches.meta.txt', type: 'file' },
      body: Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n'),
    },
  ];
}

const files = new Map<string, Buffer>();
const requests: { path: string; range?: string }[] = [];
let server: Server;
let base = '';
const cutOnce = new Set<string>();

function source(name: string, body: Buffer, folder = 'cifar-10-batches-bin', md5sum = md5(body)): DatasetSource {
  return { baseUrl: `${base}/ok/`, folder, kind: 'tar.gz', files: [{ name, md5: md5sum, sha256: sha256(body) }] };
}

describe('fetch over HTTP', () => {
  before(async () => {
    files.set('cifar-10-binary.tar.gz', await tarGz(cifarEntries()));
    files.set('truncated.tar.gz', await tarGz(cifarEntries(), 3000));
    server = createServer((req, res) => {
      const [, route, name] = (req.url ?? '').split('/');
      requests.push({ path: req.url ?? '', range: req.headers.range });
      const body = files.get(name);
      if (route === 'loop') return res.writeHead(302, { location: `/loop/${name}` }).end();
      if (route === 'moved') return res.writeHead(301, { location: `/ok/${name}` }).end();
      if (!body || route === 'missing') return res.writeHead(404).end('not found');
      if (route === 'stall') {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 100));
        return;
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      if (route === 'cut' && !cutOnce.has(name)) {
        cutOnce.add(name);
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, body.length >> 1), () => res.destroy());
        return;
      }
      if (range)
        res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
      else res.writeHead(200, { 'content-length': body.length });
      res.end(body.subarray(start));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('downloads, verifies, extracts into place; the loader reads it; a second fetch does nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const body = files.get('cifar-10-binary.tar.gz')!;
    const sources = { cifar10: source('cifar-10-binary.tar.gz', body) };
    const folder = await fetchDataset('cifar10', { dir, sources, progress: quiet });
    assert.equal(folder, join(dir, 'cifar-10-batches-bin'));
    const train = loadDataset('cifar10', dir, 'train');
    assert.equal(train.n, 10);
    assert.equal(train.classNames[0], 'airplane');
    const before = requests.length;
    await fetchDataset('cifar10', { dir, sources, progress: quiet });
    assert.equal(requests.length, before);
    assert.deepEqual(readdirSync(dir).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
  });

  it('resumes with a Range request after the connection is cut mid-file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const body = files.get('cifar-10-binary.tar.gz')!;
    const sources = { cifar10: { ...source('cifar-10-binary.tar.gz', body), baseUrl: `${base}/cut/` } };
    await fetchDataset('cifar10', { dir, sources, progress: quiet });
    const cut = requests.filter((r) => r.path === '/cut/cifar-10-binary.tar.gz');
    assert.equal(cut.length, 2);
    assert.equal(cut[0].range, undefined);
    assert.match(cut[1].range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(cut[1].range!)![0]) > 0, 'the second request starts where the first stopped');
    assert.equal(loadDataset('cifar10', dir, 'test').n, 2);
  });

  it('follows a redirect, and gives up on a redirect loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const body = files.get('cifar-10-binary.tar.gz')!;
    await fetchDataset('cifar10', {
      dir,
      sources: { cifar10: { ...source('cifar-10-binary.tar.gz', body), baseUrl: `${base}/moved/` } },
      progress: quiet,
    });
    const loop = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    await assert.rejects(
      fetchDataset('cifar10', {
        dir: loop,
        maxRedirects: 3,
        sources: { cifar10: { ...source('cifar-10-binary.tar.gz', body), baseUrl: `${base}/loop/` } },
        progress: quiet,
      }),
      /more than 3 redirects/,
    );
  });

  it('--mirror: the official file names under another base URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const body = files.get('cifar-10-binary.tar.gz')!;
    const sources = { cifar10: { ...source('cifar-10-binary.tar.gz', body), baseUrl: 'http://127.0.0.1:9/never/' } };
    await fetchDataset('cifar10', { dir, sources, mirror: `${base}/ok`, progress: quiet });
    assert.ok(existsSync(join(dir, 'cifar-10-batches-bin', 'data_batch_5.bin')));
  });

  it('a 404 and an unreachable host: errors naming the URL, the file and where to put it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const body = files.get('cifar-10-binary.tar.gz')!;
    await assert.rejects(
      fetchDataset('cifar10', {
        dir,
        sources: { cifar10: { ...source('cifar-10-binary.tar.gz', body), baseUrl: `${base}/missing/` } },
        progress: quiet,
      }),
      (e: Error) =>
        /missing\/cifar-10-binary\.tar\.gz: HTTP 404/.test(e.message) && e.message.includes(join(dir, 'cifar-10-binary.tar.gz')),
    );
    await assert.rejects(
      fetchDataset('cifar10', {
        dir,
        sources: { cifar10: { ...source('cifar-10-binary.tar.gz', body), baseUrl: 'http://127.0.0.1:9/' } },
        progress: quiet,
      }),
      (e: Error) =>
        /cannot download http:\/\/127\.0\.0\.1:9\/cifar-10-binary\.tar\.gz/.test(e.message) &&
        e.message.includes(`put it at ${join(dir, 'cifar-10-binary.tar.gz')}`),
    );
    assert.ok(!existsSync(join(dir, 'cifar-10-batches-bin')));
  });

  it('a stalled server times out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const body = files.get('cifar-10-binary.tar.gz')!;
    await assert.rejects(
      fetchDataset('cifar10', {
        dir,
        stallMs: 300,
        retries: 1,
        sources: { cifar10: { ...source('cifar-10-binary.tar.gz', body), baseUrl: `${base}/stall/` } },
        progress: quiet,
      }),
      /stalled/,
    );
    assert.ok(!existsSync(join(dir, 'cifar-10-batches-bin')));
  });

  it('a wrong checksum: both named, the file deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const body = files.get('cifar-10-binary.tar.gz')!;
    const sources = { cifar10: source('cifar-10-binary.tar.gz', body, 'cifar-10-batches-bin', '0'.repeat(32)) };
    await assert.rejects(
      fetchDataset('cifar10', { dir, sources, progress: quiet }),
      new RegExp(`checksum mismatch: expected MD5 0{32}, got ${md5(body)} .*the file was deleted`),
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a truncated tar and entries escaping the target are refused; nothing reaches the final folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const truncated = files.get('truncated.tar.gz')!;
    await assert.rejects(
      fetchDataset('cifar10', { dir, sources: { cifar10: source('truncated.tar.gz', truncated) }, progress: quiet }),
      /truncated\.tar\.gz: not a complete \.tar\.gz archive/,
    );
    assert.ok(!existsSync(join(dir, 'cifar-10-batches-bin')));
    const evil: [string, Headers, RegExp][] = [
      ['dotdot', { name: 'cifar-10-batches-bin/../../x', type: 'file' }, /'\.\.' component/],
      ['absolute', { name: '/tmp/wasmtail-evil', type: 'file' }, /absolute path/],
      [
        'symlink',
        { name: 'cifar-10-batches-bin/link', type: 'symlink', linkname: '/etc/passwd' },
        /a symlink entry \(to '\/etc\/passwd'\)/,
      ],
      ['hardlink', { name: 'cifar-10-batches-bin/hard', type: 'link', linkname: '/etc/passwd' }, /a link entry/],
    ];
    for (const [label, header, why] of evil) {
      const name = `${label}.tar.gz`;
      files.set(name, await tarGz([...cifarEntries(), { header, body: header.type === 'file' ? Buffer.from('x') : undefined }]));
      const target = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
      await assert.rejects(
        fetchDataset('cifar10', { dir: target, sources: { cifar10: source(name, files.get(name)!) }, progress: quiet }),
        why,
        label,
      );
      assert.ok(!existsSync(join(target, 'cifar-10-batches-bin')), label);
      assert.ok(!existsSync(join(target, '..', 'x')), label);
      assert.deepEqual(readdirSync(target), [name], `${label}: only the verified archive stays`);
    }
    assert.ok(!existsSync('/tmp/wasmtail-evil'));
  });

  it('Fashion-MNIST: the four .gz files gathered into fashion-mnist/ and read by the loader', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    const idx = (magic: number, dims: number[], data: Uint8Array) => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => {
        header.writeUInt32BE(d, 4 + 4 * i);
      });
      return gzipSync(Buffer.concat([header, data]));
    };
    const bodies: Record<string, Buffer> = {
      'train-images-idx3-ubyte.gz': idx(0x803, [3, 28, 28], new Uint8Array(3 * 784).fill(9)),
      'train-labels-idx1-ubyte.gz': idx(0x801, [3], Uint8Array.of(1, 2, 3)),
      't10k-images-idx3-ubyte.gz': idx(0x803, [1, 28, 28], new Uint8Array(784)),
      't10k-labels-idx1-ubyte.gz': idx(0x801, [1], Uint8Array.of(7)),
    };
    for (const [name, body] of Object.entries(bodies)) files.set(name, body);
    const sources = {
      'fashion-mnist': {
        baseUrl: `${base}/ok/`,
        folder: 'fashion-mnist',
        kind: 'files' as const,
        files: Object.entries(bodies).map(([name, body]) => ({ name, md5: md5(body), sha256: sha256(body) })),
      },
    };
    await fetchDataset('fashion-mnist', { dir, sources, progress: quiet });
    assert.deepEqual([...loadDataset('fashion-mnist', dir, 'train').labels], [1, 2, 3]);
    assert.deepEqual(readdirSync(dir), ['fashion-mnist']);
  });

  it('the CLI: official checksums (a mirror serving other bytes is refused, both MD5s named), usage and offline errors', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stderr: string }>((r) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/cli.ts', ...args],
          { env: { ...process.env, WASMTAIL_MIRROR: '' } },
          (e, _out, stderr) => r({ code: e ? (e.code as number) : 0, stderr }),
        );
      });
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-fetch-'));
    let r = await cli('fetch', 'cifar10', '--dir', dir, '--mirror', `${base}/ok`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`checksum mismatch: expected MD5 c32a1d4ab5d03f1284b67883e8d87530, got ${md5(files.get('cifar-10-binary.tar.gz')!)}`),
    );
    assert.deepEqual(readdirSync(dir), []);
    r = await cli('fetch', 'imagenet');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /fetch needs one data set name: cifar10, cifar100, fashion-mnist/);
    r = await cli('fetch', 'fashion-mnist', '--dir', dir, '--mirror', 'http://127.0.0.1:9/');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /cannot download http:\/\/127\.0\.0\.1:9\/train-images-idx3-ubyte\.gz .*put it at .*train-images-idx3-ubyte\.gz/,
    );
  });
});
