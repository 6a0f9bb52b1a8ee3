/**
 * Regenerates data/fashion-mnist-lt/, the data set shipped with wasmtail:
 * the long-tailed ("exp", rho = 100, seed 0) subset of Fashion-MNIST's 60,000
 * training images, chosen by `longTailIndices` exactly as the reference code
 * (LDAM-DRW / FBL) chooses CIFAR-LT, plus the full balanced 10,000-image test set.
 *
 *     npx tsx scripts/make-fashion-mnist-lt.ts [SOURCE_DIR] [OUT_DIR]
 *
 * SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (Debian package
 * dataset-fashion-mnist), OUT_DIR to data/fashion-mnist-lt. The output is
 * deterministic: the same source files give byte-identical output.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_CLASSES, encodeIdx, loadDataset, longTailDataset } from '../src/data/index.js';

const SOURCE = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const OUT = process.argv[3] ?? 'data/fashion-mnist-lt';
const DEBIAN_COPYRIGHT = '/usr/share/doc/dataset-fashion-mnist/copyright';
const LT = { imbalanceRatio: 100, type: 'exp' as const, seed: 0 };

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const train = loadDataset('fashion-mnist', SOURCE, 'train');
const { dataset: lt, fingerprint } = longTailDataset(train, LT);

mkdirSync(OUT, { recursive: true });
const images = encodeIdx(lt.images, [lt.n, lt.h, lt.w]);
const labels = encodeIdx(Uint8Array.from(lt.labels), [lt.n]);
writeFileSync(join(OUT, 'train-images-idx3-ubyte.gz'), gzipSync(images, { level: 9 }));
writeFileSync(join(OUT, 'train-labels-idx1-ubyte.gz'), gzipSync(labels, { level: 9 }));
for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) copyFileSync(join(SOURCE, f), join(OUT, f));

const source = Object.fromEntries(
  ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map((f) => [
    f,
    sha256(readFileSync(join(SOURCE, f))),
  ]),
);
const manifest = {
  name: 'fashion-mnist-lt',
  source: 'Fashion-MNIST (Zalando Research, MIT), Debian package dataset-fashion-mnist',
  sourceSha256: source,
  longTail: { numClasses: 10, ...LT },
  fingerprint,
  trainImagesSha256Uncompressed: sha256(images),
  trainLabelsSha256Uncompressed: sha256(labels),
  classNames: FASHION_MNIST_CLASSES,
  generator: 'scripts/make-fashion-mnist-lt.ts',
};
writeFileSync(join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

// The licence: Zalando's Expat (MIT) grant, as Debian's copyright file states it.
const copyright = readFileSync(DEBIAN_COPYRIGHT, 'utf8');
const licenceText = copyright
  .slice(copyright.lastIndexOf('License: Expat') + 'License: Expat'.length)
  .split('\n')
  .map((l) => l.replace(/^ /, '').replace(/^\.$/, '').trimEnd())
  .join('\n')
  .trim();
writeFileSync(
  join(OUT, 'LICENSE'),
  `The images and labels in this folder are from Fashion-MNIST
(https://github.com/zalandoresearch/fashion-mnist), as packaged by Debian
(dataset-fashion-mnist). The training files hold a subset of the original
training set; the test files are the originals, unchanged.

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

${licenceText}
`,
);

const group = (lo: number, hi: number) =>
  fingerprint.perClassCounts.flatMap((n, c) => (n >= lo && n <= hi ? [`${c} (${FASHION_MNIST_CLASSES[c]}, ${n})`] : []));
const shotGroups = (
  [
    ['many-shot', group(101, Infinity)],
    ['medium-shot', group(20, 100)],
    ['few-shot', group(0, 19)],
  ] as const
)
  .map(([name, classes]) => `${name}: ${classes.length ? classes.join(', ') : 'none'}`)
  .join('; ');
const rows = fingerprint.perClassCounts.map((n, c) => `| ${c} | ${FASHION_MNIST_CLASSES[c]} | ${n} | 1000 |`).join('\n');
writeFileSync(
  join(OUT, 'README.md'),
  `# Fashion-MNIST-LT (rho = 100)

The data set wasmtail trains on when no \`--data-dir\` is given: a long-tailed
version of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(Zalando Research, MIT licence, see \`LICENSE\`), 28x28 grayscale, 10 classes.

- \`train-images-idx3-ubyte.gz\`, \`train-labels-idx1-ubyte.gz\`: ${fingerprint.total.toLocaleString('en-US')} of the
  60,000 training images, in the order they were kept (class 0 first).
- \`t10k-images-idx3-ubyte.gz\`, \`t10k-labels-idx1-ubyte.gz\`: the full,
  balanced 10,000-image test set, copied unchanged.
- \`manifest.json\`: how it was made, the subset's fingerprint and checksums.

Standard IDX files, gzip-compressed: \`loadDataset('fashion-mnist', 'data/fashion-mnist-lt', 'train')\`
reads them, and so does any MNIST reader.

## How it was made

\`scripts/make-fashion-mnist-lt.ts\` (regenerates this folder byte for byte
from Debian's \`dataset-fashion-mnist\`) applies the CIFAR-LT construction of
the reference code (LDAM-DRW, reused by the Feature-Balanced Loss paper) to
the 60,000 training labels: profile "exp", imbalance ratio 100, so class i
keeps floor(6000 * 0.01^(i/9)) images; which ones is decided by
\`np.random.seed(0)\` and one \`np.random.shuffle\` of each class's indices, in
class order, keeping the first n. wasmtail's \`longTailIndices\` reproduces
that bit for bit (test/data/fixtures/numpy.json holds numpy's own result for
these labels: per-class counts and the FNV-1a 64 hash ${fingerprint.hash} of the kept
indices).

| label | class | train images | test images |
|------:|-------|-------------:|------------:|
${rows}
| | total | ${fingerprint.total} | 10000 |

Many / medium / few-shot (more than 100 / 20 to 100 / fewer than 20 training
images): ${shotGroups}.
`,
);
console.error(
  `wrote ${OUT}: ${fingerprint.total} training images, counts ${fingerprint.perClassCounts.join(', ')}, hash ${fingerprint.hash}`,
);
