/**
 * `wasmtail report DIR... [--out FOLDER]`: the runs under the folders given
 * (sweeps, runs, folders of runs), grouped by configuration with seeds
 * aside, written as report.md, report.csv, report.json, report.html and
 * SVG plots (into the one DIR given, or --out).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../io/files.js';
import { UsageError } from '../cli/main.js';
import { findRuns } from './runs.js';
import { groupRuns } from './groups.js';
import { reportPlots } from './plots.js';
import { reportCsv, reportHtml, reportJson, reportMarkdown } from './tables.js';

export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) throw new UsageError('report needs one or more folders: wasmtail report DIR... [--out FOLDER]');
  const out = values.out ?? (positionals.length === 1 ? positionals[0] : undefined);
  if (!out) throw new UsageError('report of several folders needs --out FOLDER (where report.md and the plots go)');
  const { runs, unfinished } = findRuns(positionals);
  if (runs.length === 0) {
    throw new Error(
      `no finished runs (summary.json) under ${positionals.join(', ')}` +
        (unfinished.length ? `; unfinished: ${unfinished.join(', ')}` : ''),
    );
  }
  const classes = runs[0].classNames.join(',');
  const other = runs.find((r) => r.classNames.join(',') !== classes);
  if (other) throw new Error(`${other.dir} has other classes than ${runs[0].dir}: report runs of one data set at a time`);
  const groups = groupRuns(runs);
  const plots = reportPlots(groups);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new Error(`--out ${out}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const markdown = reportMarkdown(groups, unfinished);
  const files: Record<string, string> = {
    'report.md': markdown,
    'report.csv': reportCsv(groups),
    'report.json': reportJson(groups, unfinished),
    'report.html': reportHtml(groups, unfinished, plots),
    ...plots,
  };
  for (const [name, text] of Object.entries(files)) await writeFileAtomic(join(out, name), text);
  process.stderr.write(
    `report of ${runs.length} runs in ${groups.length} groups` +
      `${unfinished.length ? ` (${unfinished.length} unfinished, left out)` : ''}: ${join(out, 'report.html')}, report.md, .csv, .json, *.svg\n`,
  );
  process.stdout.write(markdown.split('\n## ')[0]);
  return 0;
}
