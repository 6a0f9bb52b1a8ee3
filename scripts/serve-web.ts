// A static file server for the demo page (dist/web/) on 127.0.0.1, for people
// (`npm run web`: tsx scripts/serve-web.ts [port]) and the browser tests. Files are sent as they are: the data
// set's .gz files stay compressed (no Content-Encoding), the page inflates them.
// Every response carries COOP same-origin and COEP require-corp, which make
// the page cross-origin isolated: only then do browsers give it
// SharedArrayBuffer, and the training workers their thread pools.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.gz': 'application/gzip',
  '.safetensors': 'application/octet-stream',
};

/** The headers that make a page cross-origin isolated (https://web.dev/articles/coop-coep). */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * Serves `dir` on 127.0.0.1:port (0: a free port); resolves to the server and
 * its base URL. `isolated: false` leaves out the isolation headers (the tests
 * check the page's one-thread fallback with it).
 */
export function serveStatic(dir: string, port = 0, { isolated = true } = {}): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    try {
      let path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      if (path !== root && !path.startsWith(root + sep)) throw new Error('outside');
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
      const body = await readFile(path);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
        ...(isolated ? ISOLATION_HEADERS : {}),
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 8080);
  const dir = join(fileURLToPath(import.meta.url), '..', '..', 'dist', 'web');
  const { url } = await serveStatic(dir, port);
  console.log(`the demo page: ${url} (Ctrl-C to stop)`);
}
