// Shared by the command-line and training tests: running `src/cli.ts` as a
// user does, the flags and configuration of a tiny Fashion-MNIST-LT run, and
// a run's metrics without its timings.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type TrainConfig } from '../../src/train/index.js';
import { Progress } from '../../src/train/progress.js';

const ARGV = ['--import', 'tsx', 'src/cli.ts'];

/** Runs the CLI to its end: exit code, stdout and stderr. */
export function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...ARGV, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI in the background, its output piped (read it with finished()). */
export const spawnCli = (...args: string[]) => spawn(process.execPath, [...ARGV, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

/** The exit code and stderr of a spawnCli() child, once it exits; its stdout is drained. */
export function finished(child: ReturnType<typeof spawnCli>): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

/** The flags of a tiny ResNet-20 run on the shipped Fashion-MNIST-LT, batch 32; `flags` ({ '--epochs': 1 }) adds or replaces. */
export function tinyArgs(flags: Record<string, string | number> = {}): string[] {
  const all: Record<string, string | number> = { '--dataset': 'fashion-mnist-lt', '--arch': 'resnet20', '--batch': 32, ...flags };
  return Object.entries(all).flatMap(([flag, value]) => [flag, String(value)]);
}

/** The configuration of a tiny 3-epoch ResNet-20 run on the shipped Fashion-MNIST-LT; `extra` adds or replaces. */
export function tinyConfig(out: string, extra: Partial<TrainConfig> = {}): TrainConfig {
  return resolveConfig({
    dataset: 'fashion-mnist-lt',
    arch: 'resnet20',
    epochs: 3,
    batch: 32,
    lr: 0.05,
    warmup: 1,
    limitTrain: 192,
    out,
    ...extra,
  });
}

/** A progress display that prints nothing. */
export const quiet = () => new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, 1e9);

/** A run folder's metrics.jsonl, one object an epoch, without the timings (seconds, imagesPerSec). */
export const runMetrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _s, imagesPerSec: _i, ...rest } = JSON.parse(l);
      return rest;
    });

/** Output of one JSON object a line, parsed. */
export const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
