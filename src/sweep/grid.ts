/**
 * A sweep's grid: train flags given as comma lists are axes, the grid is
 * their product, and an axis a cell ignores (λ for any loss but FBL, the
 * subset's ρ and seed on a balanced data set) does not multiply it. Cells are
 * numbered in a fixed order (axes in the order of AXIS_FLAGS, values in the
 * order given), so the same command always gives the same indices, whatever
 * the order of its flags; that is what lets a job array's task K find cell K.
 *
 * `DIR/sweep.json` records the grid and its cells; a second command on the
 * same DIR must describe the same grid (or none: `--cell K` reads it back).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { resolveConfig, type TrainConfig } from '../train/config.js';
import { explicitConfig, UsageError } from '../cli/main.js';

/** Train flags that may be comma lists, in the order that numbers the cells (the first varies slowest). */
export const AXIS_FLAGS = [
  'dataset',
  'imb',
  'imb-type',
  'seed',
  'arch',
  'loss',
  'lambda',
  'curriculum',
  'epochs',
  'batch',
  'lr',
  'wd',
  'momentum',
  'warmup',
  'model-seed',
  'limit-train',
  'limit-test',
  'image-size',
  'drw-epoch',
  'mixup',
  'cutmix',
  'mix-until',
  'cutout',
  'autoaugment',
  'posthoc-tau',
] as const;
export type AxisFlag = (typeof AXIS_FLAGS)[number];

/** Train flags that are part of the grid but single-valued. */
const SHARED_FLAGS = ['preset', 'data-dir', 'nesterov', 'grey', 'skip-bad', 'drw'] as const;

/** Flags that say how cells run, not what they compute: not part of the grid, never lists. */
export const RUN_FLAGS = ['threads', 'backend', 'force-threads'] as const;

/** A cell's train flags (without --out and the run flags): string values, `true` for a boolean flag. */
export type CellFlags = Record<string, string | true>;

export interface Grid {
  /** Single-valued train flags, the same for every cell. */
  base: CellFlags;
  /** Axis flag → its values, in the order given. */
  axes: Record<string, string[]>;
}

export interface Cell {
  index: number;
  /** The axis values that make this cell, e.g. "loss-fbl_lambda-10_model-seed-1". */
  id: string;
  /** The cell's run folder, relative to the sweep folder. */
  dir: string;
  /** Its resolved training configuration (without out and threads, which the runner decides). */
  config: Omit<TrainConfig, 'out' | 'threads'>;
  /** The train flags that give that configuration. */
  flags: CellFlags;
}

export interface SweepFile {
  version: 1;
  grid: Grid;
  cells: Cell[];
}

/** Why a flag does not matter for a configuration, or null when it does (also how `report` labels groups). */
export function ignoredBy(flag: string, cfg: Pick<TrainConfig, 'loss' | 'dataset'>): string | null {
  if ((flag === 'lambda' || flag === 'curriculum') && cfg.loss !== 'fbl') return `loss ${cfg.loss}`;
  if ((flag === 'imb' || flag === 'imb-type' || flag === 'seed') && !cfg.dataset.endsWith('-lt')) return `the balanced ${cfg.dataset}`;
  return null;
}

/**
 * The grid the command line describes. `values` are parseArgs' values; a list
 * in a flag that cannot be one, an empty list element, or a value the flag
 * does not take is a UsageError naming the flag.
 */
export function gridFromFlags(values: Record<string, string | boolean | undefined>): Grid {
  const base: CellFlags = {};
  const axes: Record<string, string[]> = {};
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'string' && value.includes(',') && !(AXIS_FLAGS as readonly string[]).includes(flag)) {
      throw new UsageError(`--${flag} cannot be a list in a sweep (lists: ${AXIS_FLAGS.map((f) => `--${f}`).join(', ')}); got '${value}'`);
    }
    if ((AXIS_FLAGS as readonly string[]).includes(flag) && typeof value === 'string') {
      const list = value.split(',').map((v) => v.trim());
      if (list.some((v) => v === '')) throw new UsageError(`--${flag} has an empty value in its list '${value}'`);
      if (new Set(list).size !== list.length) throw new UsageError(`--${flag} lists a value twice: '${value}'`);
      for (const v of list) explicitConfig({ [flag]: v });
      if (list.length > 1) axes[flag] = list;
      else base[flag] = list[0];
    } else if ((SHARED_FLAGS as readonly string[]).includes(flag)) {
      base[flag] = value;
    }
  }
  return { base, axes };
}

/** True when the command line gives no grid at all (`--out DIR --cell K` reads the grid from DIR/sweep.json). */
export function isEmptyGrid(grid: Grid): boolean {
  return Object.keys(grid.base).length === 0 && Object.keys(grid.axes).length === 0;
}

function configOf(flags: CellFlags): TrainConfig {
  const { preset, ...rest } = flags;
  return resolveConfig(explicitConfig(rest), preset as string | undefined);
}

/** A value as it may appear in a folder name. */
function slug(value: string): string {
  return value.replace(/[^A-Za-z0-9.+-]/g, '_');
}

/** Expands a grid into its cells: the product of the axes, less the cells that differ only in an axis they ignore. */
export function expandGrid(grid: Grid): Cell[] {
  const axisNames = AXIS_FLAGS.filter((f) => f in grid.axes);
  const combos: Record<string, string>[] = [{}];
  for (const flag of axisNames) {
    const next: Record<string, string>[] = [];
    for (const combo of combos) for (const v of grid.axes[flag]) next.push({ ...combo, [flag]: v });
    combos.splice(0, combos.length, ...next);
  }
  const seen = new Set<string>();
  const kept: { id: string; flags: CellFlags; config: TrainConfig }[] = [];
  for (const combo of combos) {
    const config = configOf({ ...grid.base, ...combo });
    const own = Object.entries(combo).filter(([flag]) => ignoredBy(flag, config) === null);
    const id = own.map(([flag, v]) => `${flag}-${slug(v)}`).join('_') || 'run';
    if (seen.has(id)) continue;
    seen.add(id);
    const flags: CellFlags = { ...grid.base };
    for (const [flag, v] of own) flags[flag] = v;
    kept.push({ id, flags, config: configOf(flags) });
  }
  const width = Math.max(2, String(kept.length - 1).length);
  return kept.map(({ id, flags, config }, index) => {
    const { out: _out, threads: _threads, ...rest } = config;
    return { index, id, dir: `${String(index).padStart(width, '0')}-${id}`, config: rest, flags };
  });
}

function describe(value: string | true | string[] | undefined): string {
  if (value === undefined) return 'not given';
  if (value === true) return 'set';
  return `'${Array.isArray(value) ? value.join(',') : value}'`;
}

/** The flags on which two grids differ, as "--lambda: '10,30' there, '10' here". */
export function gridDifferences(stored: Grid, given: Grid): string[] {
  const all = (g: Grid): Record<string, string | true | string[]> => ({ ...g.base, ...g.axes });
  const a = all(stored);
  const b = all(given);
  const flags = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return flags.filter((f) => describe(a[f]) !== describe(b[f])).map((f) => `--${f}: ${describe(a[f])} there, ${describe(b[f])} here`);
}

export function sweepFilePath(dir: string): string {
  return join(dir, 'sweep.json');
}

/** Reads DIR/sweep.json, or null when there is none; a damaged file is an error naming it. */
export function readSweepFile(dir: string): SweepFile | null {
  const file = sweepFilePath(dir);
  if (!existsSync(file)) return null;
  let parsed: SweepFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as SweepFile;
  } catch (e) {
    throw new Error(`${file}: not a sweep file (${(e as Error).message}); move it away or choose another --out`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.cells) || typeof parsed.grid !== 'object' || parsed.grid === null) {
    throw new Error(`${file}: not a sweep file of this version (expected version 1 with grid and cells)`);
  }
  return parsed;
}

/**
 * The sweep in DIR for this command line: the stored one when the command
 * gives no grid or the same grid; a new one (not yet written: see
 * createSweep) when DIR holds none. A different grid is refused naming the flags.
 */
export function planSweep(dir: string, given: Grid): { sweep: SweepFile; isNew: boolean } {
  const stored = readSweepFile(dir);
  if (stored) {
    if (isEmptyGrid(given)) return { sweep: stored, isNew: false };
    const diff = gridDifferences(stored.grid, given);
    if (diff.length > 0) {
      throw new UsageError(
        `--out ${dir} holds a different sweep (${sweepFilePath(dir)}): ${diff.join('; ')}. ` +
          'Give the same grid to continue it (or no grid flags at all), or choose another --out',
      );
    }
    return { sweep: stored, isNew: false };
  }
  if (isEmptyGrid(given)) {
    throw new UsageError(
      `--out ${dir} holds no sweep (no ${sweepFilePath(dir)}); give the grid as train flags, ` +
        'lists as axes, e.g. --loss ce,fbl --model-seed 1,2,3',
    );
  }
  return { sweep: { version: 1, grid: given, cells: expandGrid(given) }, isNew: true };
}

/** Writes a new sweep: its folder, one folder per cell, and sweep.json (last, atomically). */
export async function createSweep(dir: string, sweep: SweepFile): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
    for (const cell of sweep.cells) mkdirSync(join(dir, cell.dir), { recursive: true });
  } catch (e) {
    throw new Error(`--out ${dir}: cannot create the sweep folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  await writeFileAtomic(sweepFilePath(dir), JSON.stringify(sweep, null, 2) + '\n');
}

/** A cell's flags as train arguments. */
export function flagsToArgs(flags: CellFlags): string[] {
  return Object.entries(flags).flatMap(([flag, v]) => (v === true ? [`--${flag}`] : [`--${flag}`, v]));
}
