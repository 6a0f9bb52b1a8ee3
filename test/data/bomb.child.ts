// Child process for test/data/bombs.test.ts: reads one hostile file the way
// wasmtail does and reports, as one JSON line, the error it got and the
// process's peak resident memory (so the parent can bound it).
//   idx FILE        loadIdx-style read of an IDX file (gzipped or not)
//   png FILE        the CLI's PNG decoding (node:zlib, bounded)
//   infer-png FILE  wasmtail/infer's decodePng (DecompressionStream, bounded)
//   idx-stream FILE the web page's read of a gzipped IDX file (DecompressionStream, bounded)
import { readFileSync } from 'node:fs';
import { readIdxFile } from '../../src/data/node.js';
import { parseIdx } from '../../src/data/formats.js';
import { decodePng } from '../../src/data/png.js';
import { inflateBounded } from '../../src/data/decompress.js';
import { decodePng as decodePngAsync } from '../../src/infer.js';
import { readIdxStream } from '../../src/data/streams.js';

const [mode, file] = process.argv.slice(2);
let error: string | null = null;
try {
  if (mode === 'idx') parseIdx(readIdxFile(file));
  else if (mode === 'png') decodePng(new Uint8Array(readFileSync(file)), inflateBounded, file);
  else if (mode === 'infer-png') await decodePngAsync(new Uint8Array(readFileSync(file)), file);
  else await readIdxStream(new Blob([readFileSync(file)]).stream().pipeThrough(new DecompressionStream('gzip')), file);
} catch (e) {
  error = (e as Error).message;
}
// maxRSS is in KiB.
process.stdout.write(JSON.stringify({ error, peakMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
