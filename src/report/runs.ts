// The runs a report reads: a sweep folder (its cells, from sweep.json), a
// run folder (summary.json), or a folder of run folders. Unfinished runs
// (no summary.json) are listed, not read.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from '../train/config.js';
import type { PosthocMetrics } from '../train/posthoc.js';
import { readSweepFile } from '../sweep/grid.js';

/** What a report needs of a finished run's summary.json. */
export interface FinishedRun {
  dir: string;
  config: TrainConfig;
  classNames: string[];
  trainCounts: number[];
  last: RunMetrics;
  best: RunMetrics;
}

interface RunMetrics {
  epoch: number;
  top1: number;
  many: number | null;
  medium: number | null;
  few: number | null;
  perClass: number[];
  /** Post-hoc re-scoring of the same evaluation (absent in runs from before it existed). */
  posthoc?: PosthocMetrics;
}

export interface FoundRuns {
  runs: FinishedRun[];
  /** Run folders without a summary.json (still running, interrupted, failed). */
  unfinished: string[];
}

function readRun(dir: string): FinishedRun {
  const file = join(dir, 'summary.json');
  let s: Partial<FinishedRun> & { last?: RunMetrics; best?: RunMetrics };
  try {
    s = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot be read as a run summary (${(e as Error).message})`);
  }
  if (!s.config || !s.last || !s.best || !Array.isArray(s.last.perClass) || !Array.isArray(s.classNames) || !Array.isArray(s.trainCounts)) {
    throw new Error(`${file}: not a wasmtail run summary (config, best, last, classNames, trainCounts expected)`);
  }
  return { dir, config: s.config, classNames: s.classNames, trainCounts: s.trainCounts, last: s.last, best: s.best };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The run folders under each path given, in the order given (a sweep's in cell order, others by name). */
export function findRuns(paths: string[]): FoundRuns {
  const found: FoundRuns = { runs: [], unfinished: [] };
  const take = (dir: string) => {
    if (existsSync(join(dir, 'summary.json'))) found.runs.push(readRun(dir));
    else found.unfinished.push(dir);
  };
  for (const path of paths) {
    if (!isDir(path)) throw new Error(`${path}: not a folder (give sweep folders, run folders, or folders of runs)`);
    const sweep = readSweepFile(path);
    if (sweep) {
      for (const cell of sweep.cells) take(join(path, cell.dir));
    } else if (existsSync(join(path, 'summary.json'))) {
      take(path);
    } else {
      const subs = readdirSync(path)
        .sort()
        .map((name) => join(path, name))
        .filter((d) => isDir(d) && (existsSync(join(d, 'summary.json')) || existsSync(join(d, 'metrics.jsonl'))));
      if (subs.length === 0) throw new Error(`${path}: holds no runs (no sweep.json, no summary.json, no run folders in it)`);
      subs.forEach(take);
    }
  }
  return found;
}
