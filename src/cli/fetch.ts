// `wasmtail fetch NAME` and `--download` on train / eval: the standard data sets from their official URLs (src/data/fetch.ts).
import { fetchDataset } from '../data/fetch.js';
import { Progress } from '../train/progress.js';
import type { DatasetName } from '../data/node.js';
import type { TrainConfig } from '../train/config.js';
import { UsageError } from './main.js';

const FETCHABLE: readonly DatasetName[] = ['cifar10', 'cifar100', 'fashion-mnist'];

/** Where data sets go when no folder is named. */
export const DEFAULT_DATA_DIR = 'data';

export async function fetchCommand(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
  if (positionals.length !== 1 || !FETCHABLE.includes(positionals[0] as DatasetName)) {
    throw new UsageError(
      `fetch needs one data set name: ${FETCHABLE.join(', ')}${positionals.length ? ` (got '${positionals.join(' ')}')` : ''}`,
    );
  }
  const name = positionals[0] as DatasetName;
  const dir = (values.dir as string | undefined) ?? DEFAULT_DATA_DIR;
  const folder = await fetchDataset(name, { dir, mirror: values.mirror as string | undefined, progress: new Progress() });
  process.stdout.write(JSON.stringify({ dataset: name, folder, dataDir: dir }) + '\n');
  return 0;
}

/** `--download`: fetches the run's data set into --data-dir (default data/) unless it is there; returns the config to use. */
export async function downloadForConfig(cfg: TrainConfig, values: Record<string, string | boolean | undefined>): Promise<TrainConfig> {
  const name = cfg.dataset.replace(/-lt$/, '') as DatasetName;
  if (!FETCHABLE.includes(name))
    throw new UsageError(`--download fetches ${FETCHABLE.join(', ')}; --dataset ${cfg.dataset} is read from --data-dir as it is`);
  const dir = cfg.dataDir ?? DEFAULT_DATA_DIR;
  await fetchDataset(name, { dir, mirror: values.mirror as string | undefined, progress: new Progress() });
  return { ...cfg, dataDir: dir };
}
