// Loads test/data/fixtures/numpy.json, written by scripts/make-numpy-fixtures.py (numpy's own outputs).
import { readFileSync } from 'node:fs';

interface LongTailCase {
  name: string;
  numClasses: number;
  type: 'exp' | 'step';
  imbalanceRatio: number;
  seed: number;
  counts: number[];
  total: number;
  hash: string;
  headPerClass: number[][];
  tailPerClass: number[][];
  indices?: number[];
  keptLabelsHash?: string;
}

export interface NumpyFixtures {
  numpyVersion: string;
  rawUint32: { seed: number; key0to3: number[]; key623: number; first: number[]; at624to627: number[]; at1290to1299: number[] }[];
  shuffle: { seed: number; n: number; hash: string; head: number[]; perm?: number[]; nextUint32: number }[];
  randomSample: { seed: number; values: number[] }[];
  standardNormal: { seed: number; values: number[]; nextSample: number }[];
  imbalanceCounts: { imgMax: number; numClasses: number; type: 'exp' | 'step'; imbalanceRatio: number; counts: number[]; total: number }[];
  longTail: LongTailCase[];
  fashionMnistLt?: LongTailCase;
}

export const numpyFixtures: NumpyFixtures = JSON.parse(readFileSync(new URL('./fixtures/numpy.json', import.meta.url), 'utf8'));

/** The synthetic label orders the fixture script uses (same formulas as the Python). */
export function fixtureLabels(name: string, numClasses: number): Int32Array {
  const n = name.startsWith('small') ? 200 : 50000;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = name.includes('hashed') ? (Math.imul(i, 2654435761 | 0) >>> 0) % numClasses : i % numClasses;
  }
  return labels;
}
