/**
 * Runs grouped by configuration, seeds aside: runs whose configurations
 * differ only in the subset seed (`seed`) and the model seed (`modelSeed`)
 * are repetitions of one experiment, summarised as mean and sample standard
 * deviation (n − 1: the runs are a sample of the seeds one could have
 * drawn). Settings that do not change results (folder, threads, data
 * folder) and those the loss ignores (λ for CE) are left out of the key.
 */
import type { TrainConfig } from '../train/config.js';
import { ignoredBy } from '../sweep/grid.js';
import type { FinishedRun } from './runs.js';
import { POSTHOC_KINDS, POSTHOC_NAMES, type PosthocKind } from '../train/posthoc.js';

/** Mean and sample standard deviation; std is null for one value, both null when a run has no value. */
export interface Stat {
  mean: number | null;
  std: number | null;
}

export interface GroupRun {
  dir: string;
  seed: number;
  modelSeed: number;
  top1: number;
  best: number;
  many: number | null;
  medium: number | null;
  few: number | null;
  /** Accuracy on the class with the fewest training images. */
  smallest: number;
  /** The same metrics re-scored post hoc, where the run has them. */
  posthoc: Partial<Record<PosthocKind, RunScores>>;
}

/** One run's scores in the paired comparison's terms. */
export type RunScores = Pick<GroupRun, 'top1' | 'many' | 'medium' | 'few' | 'smallest'>;

/** Accuracy over a group's runs in the long-tail literature's terms. */
export interface ShotStats {
  top1: Stat;
  many: Stat;
  medium: Stat;
  few: Stat;
  perClass: Stat[];
}

/** Whether any group has post-hoc scores (runs from before they existed have none). */
export function hasPosthoc(groups: Group[]): boolean {
  return groups.some((g) => POSTHOC_KINDS.some((k) => g.posthoc[k] !== null));
}

export interface Group {
  /** The configuration the runs share (seeds and run-only settings left out). */
  config: Partial<TrainConfig>;
  /** What sets this group apart from the others, e.g. "loss fbl, lambda 10". */
  label: string;
  n: number;
  runs: GroupRun[];
  /** Test top-1 after the last epoch, as a fraction (metrics.jsonl's unit). */
  top1: Stat;
  /** The best epoch's test top-1. */
  best: Stat;
  many: Stat;
  medium: Stat;
  few: Stat;
  perClass: Stat[];
  /**
   * The same evaluations re-scored post hoc (logit adjustment, the
   * tau-normalised classifier), at the group's posthocTau; a kind is null
   * unless every run of the group has it.
   */
  posthoc: Record<PosthocKind, ShotStats | null>;
  classNames: string[];
  trainCounts: number[];
}

const SEEDS = ['seed', 'modelSeed'] as const;
const RUN_ONLY = ['out', 'threads', 'dataDir'] as const;
/** Config keys that are flags the loss or data set may ignore, by their flag names. */
const FLAG_OF: Partial<Record<keyof TrainConfig, string>> = { lambda: 'lambda', curriculum: 'curriculum', imb: 'imb', imbType: 'imb-type' };

export function stat(values: (number | null)[]): Stat {
  if (values.length === 0 || values.some((v) => v === null || !Number.isFinite(v))) return { mean: null, std: null };
  const xs = values as number[];
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, std: null };
  const ss = xs.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (xs.length - 1)) };
}

function sharedConfig(cfg: TrainConfig): Partial<TrainConfig> {
  const out: Partial<TrainConfig> = {};
  for (const [k, v] of Object.entries(cfg) as [keyof TrainConfig, unknown][]) {
    if ((SEEDS as readonly string[]).includes(k) || (RUN_ONLY as readonly string[]).includes(k)) continue;
    const flag = FLAG_OF[k];
    if (flag && ignoredBy(flag, cfg) !== null) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function key(config: Partial<TrainConfig>): string {
  return JSON.stringify(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k as keyof TrainConfig]]),
  );
}

function valueText(v: unknown): string {
  return Array.isArray(v) ? v.join('/') : String(v);
}

type Shot = { top1: number; many: number | null; medium: number | null; few: number | null; perClass: number[] };

function shotStats(shots: Shot[], classes: number): ShotStats {
  return {
    top1: stat(shots.map((s) => s.top1)),
    many: stat(shots.map((s) => s.many)),
    medium: stat(shots.map((s) => s.medium)),
    few: stat(shots.map((s) => s.few)),
    perClass: Array.from({ length: classes }, (_, c) => stat(shots.map((s) => s.perClass[c] ?? null))),
  };
}

function posthocStats(runs: FinishedRun[], kind: PosthocKind, classes: number): ShotStats | null {
  const shots = runs.map((r) => r.last.posthoc?.[kind] ?? null);
  return shots.every((s) => s !== null) ? shotStats(shots as Shot[], classes) : null;
}

/** One evaluation's scores in the paired comparison's terms, `tail` the smallest class. */
function runScores(shot: Shot, tail: number): RunScores {
  return { top1: shot.top1, many: shot.many, medium: shot.medium, few: shot.few, smallest: shot.perClass[tail] };
}

/** Groups runs (in the order their first run comes), with labels naming the settings that differ between groups. */
export function groupRuns(runs: FinishedRun[]): Group[] {
  const byKey = new Map<string, { config: Partial<TrainConfig>; runs: FinishedRun[] }>();
  for (const run of runs) {
    const config = sharedConfig(run.config);
    const k = key(config);
    if (!byKey.has(k)) byKey.set(k, { config, runs: [] });
    byKey.get(k)!.runs.push(run);
  }
  const raw = [...byKey.values()];
  const allKeys = [...new Set(raw.flatMap((g) => Object.keys(g.config)))] as (keyof TrainConfig)[];
  // A key differs when the groups that have it disagree (CE has no λ: that alone does not make λ a difference).
  const differing = allKeys.filter((k) => new Set(raw.filter((g) => k in g.config).map((g) => valueText(g.config[k]))).size > 1);
  const labelKeys = differing.length > 0 ? differing : (['loss'] as (keyof TrainConfig)[]);
  // FBL's λ names it in any label that names the loss.
  if (labelKeys.includes('loss') && !labelKeys.includes('lambda')) labelKeys.splice(labelKeys.indexOf('loss') + 1, 0, 'lambda');
  return raw.map(({ config, runs: rs }) => {
    const first = rs[0];
    const classes = first.last.perClass.length;
    const tail = smallestClass(first.trainCounts);
    return {
      config,
      // An option that is off (null, false) is left out of the label and one that is on (true) is named alone:
      // "loss fbl, lambda 10, drw" rather than "loss fbl, lambda 10, drw true, mixup null".
      label:
        labelKeys
          .filter((k) => config[k] !== undefined && config[k] !== null && config[k] !== false)
          .map((k) => (config[k] === true ? k : `${k} ${valueText(config[k])}`))
          .join(', ') || 'defaults',
      n: rs.length,
      runs: rs.map((r) => ({
        dir: r.dir,
        seed: r.config.seed,
        modelSeed: r.config.modelSeed,
        best: r.best.top1,
        ...runScores(r.last, tail),
        posthoc: Object.fromEntries(
          POSTHOC_KINDS.flatMap((k) => {
            const p = r.last.posthoc?.[k];
            return p ? [[k, runScores(p, tail)]] : [];
          }),
        ),
      })),
      ...shotStats(
        rs.map((r) => r.last),
        classes,
      ),
      best: stat(rs.map((r) => r.best.top1)),
      posthoc: { logitAdjusted: posthocStats(rs, 'logitAdjusted', classes), tauNorm: posthocStats(rs, 'tauNorm', classes) },
      classNames: first.classNames,
      trainCounts: first.trainCounts,
    };
  });
}

/** The index of the class with the fewest training images (the first of equals). */
export function smallestClass(trainCounts: number[]): number {
  return trainCounts.indexOf(Math.min(...trainCounts));
}

export const PAIRED_METRICS = ['top1', 'many', 'medium', 'few', 'smallest'] as const;

/** A group's runs against the baseline's runs with the same seeds: the per-pair differences' mean ± std, and how many pairs. */
export interface Paired {
  label: string;
  pairs: number;
  diff: Record<(typeof PAIRED_METRICS)[number], Stat>;
}

/**
 * Each group against the first (the baseline), pairing runs with the same
 * subset and model seed: such runs share their initial weights and batch
 * order, so a paired difference removes most of the seed-to-seed spread
 * that the groups' own std carries (the std of a difference of unpaired
 * means would be about sqrt(2) times the groups' std). The baseline's own
 * post-hoc re-scorings come first, as methods of their own ("CE with
 * post-hoc logit adjustment"), paired with its plain scores run by run.
 */
export function pairedAgainstFirst(groups: Group[]): Paired[] {
  const baseline = groups[0];
  const base = new Map(baseline.runs.map((r) => [`${r.seed}/${r.modelSeed}`, r]));
  const compare = (label: string, pairs: (readonly [RunScores, RunScores])[]): Paired => ({
    label,
    pairs: pairs.length,
    diff: Object.fromEntries(
      PAIRED_METRICS.map((m) => [m, stat(pairs.map(([r, b]) => (r[m] === null || b[m] === null ? null : r[m]! - b[m]!)))]),
    ) as Paired['diff'],
  });
  const rescored = POSTHOC_KINDS.filter((k) => baseline.runs.every((r) => r.posthoc[k])).map((k) =>
    compare(
      `${baseline.label} + post-hoc ${POSTHOC_NAMES[k]}`,
      baseline.runs.map((r) => [r.posthoc[k]!, r] as const),
    ),
  );
  const others = groups.slice(1).map((g) =>
    compare(
      g.label,
      g.runs.flatMap((r) => {
        const b = base.get(`${r.seed}/${r.modelSeed}`);
        return b ? [[r, b] as const] : [];
      }),
    ),
  );
  return [...rescored, ...others];
}

/** A difference in percentage points with its sign: "+2.20 ± 1.50 (3)". */
export function formatDiff(s: Stat, n: number): string {
  if (s.mean === null) return 'n/a';
  const sign = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(2)}`;
  return s.std === null ? `${sign(s.mean)} (${n})` : `${sign(s.mean)} ± ${(100 * s.std).toFixed(2)} (${n})`;
}

/** "88.12 ± 0.31 (3)" in percent; one run: "88.12 (1)"; no value: "n/a". */
export function formatStat(s: Stat, n: number): string {
  if (s.mean === null) return 'n/a';
  return s.std === null ? `${(100 * s.mean).toFixed(2)} (${n})` : `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)} (${n})`;
}
