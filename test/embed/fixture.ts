// The embedding tests' shared fixture: a ResNet-32 trained by PyTorch on the
// shipped long-tailed Fashion-MNIST (scripts/torch_resnet.py train-fixture),
// the first 16 test images and PyTorch's logits for them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { loadSafetensors } from '../../src/io/safetensors.js';

export const CHECKPOINT = 'test/embed/fixtures/torch-resnet32-fashion.safetensors';
const expected = loadSafetensors(
  new Uint8Array(readFileSync('test/embed/fixtures/torch-resnet32-fashion.expected.safetensors')),
  'expected',
);

/** The 16 images, normalised NCHW [16, 1, 28, 28] as PyTorch fed them. */
export const X = expected.get('x')!.data;
/** Their pixels, [16, 1, 28, 28] bytes. */
export const PIXELS = Uint8Array.from(expected.get('images')!.data);
export const LABELS = Array.from(expected.get('labels')!.data);
/** PyTorch's eval-mode logits, [16, 10]. */
export const TORCH_LOGITS = expected.get('logits')!.data;
export const CLASSES = 10;
export const TORCH_TOP1 = Array.from({ length: 16 }, (_, i) => argmax(TORCH_LOGITS.subarray(i * CLASSES, (i + 1) * CLASSES)));

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
  return best;
}

/**
 * The same top-1 class as PyTorch for every image, and every logit within
 * 1e-4 relative: |got - want| <= 1e-4 (|want| + max |want of that image|).
 */
export function assertMatchesTorch(logits: ArrayLike<number>, where: string): void {
  assert.equal(logits.length, TORCH_LOGITS.length, `${where}: number of logits`);
  for (let i = 0; i < 16; i++) {
    const want = TORCH_LOGITS.subarray(i * CLASSES, (i + 1) * CLASSES);
    const got = Array.from({ length: CLASSES }, (_, j) => logits[i * CLASSES + j]);
    assert.equal(argmax(got), TORCH_TOP1[i], `${where}: image ${i}: top-1 ${argmax(got)}, PyTorch ${TORCH_TOP1[i]}`);
    const scale = Math.max(...Array.from(want, Math.abs));
    want.forEach((w, j) => {
      assert.ok(Math.abs(got[j] - w) <= 1e-4 * (Math.abs(w) + scale), `${where}: image ${i} logit ${j} = ${got[j]}, PyTorch ${w}`);
    });
  }
}

/** Every file the embedding tests run from dist/ (npm run build makes them; `npm test` builds first). */
export function assertBuilt(files: string[]): void {
  const missing = files.filter((f) => !existsSync(f));
  assert.deepEqual(missing, [], `run \`npm run build\` first: missing ${missing.join(', ')}`);
}

/** Test image 9, a Sneaker (a tail class: 166 training images), which the fixture classifies right with 94 % probability. */
export const SNEAKER = 9;
