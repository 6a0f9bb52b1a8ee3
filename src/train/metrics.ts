/**
 * The metrics every face of training reports, written once: the top-1 class
 * of a row of logits, a batch's correct count, and accuracy over the
 * long-tail groups (many / medium / few-shot classes: > 100, 20-100, < 20
 * training images). Pure TypeScript, no Node imports: the web worker and
 * wasmtail/infer use it too.
 */

/** The index of the largest of `width` values from `offset` (the first on a tie, as torch.argmax). */
export function argmax(values: ArrayLike<number>, offset = 0, width = values.length - offset): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

/** How many rows of `logits` ([labels.length, classes], row-major) put their label first. */
export function countCorrect(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (argmax(logits, i * classes, classes) === labels[i]) correct++;
  return correct;
}

export type ShotGroup = 'many' | 'medium' | 'few';

export function shotGroup(trainCount: number): ShotGroup {
  return trainCount > 100 ? 'many' : trainCount >= 20 ? 'medium' : 'few';
}

/** Accuracy of each class from a confusion matrix ([true][predicted] counts); NaN for a class with no examples. */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total ? row[c] / total : NaN;
  });
}

/** Accuracy over the classes of one shot group (by their training counts); null when the group has no examples. */
export function groupAccuracy(confusion: number[][], trainCounts: readonly number[], group: ShotGroup): number | null {
  let hit = 0;
  let total = 0;
  trainCounts.forEach((count, c) => {
    if (shotGroup(count) === group) {
      hit += confusion[c][c];
      total += confusion[c].reduce((a, b) => a + b, 0);
    }
  });
  return total ? hit / total : null;
}
