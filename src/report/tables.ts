// The report as text: Markdown tables, CSV, JSON (fractions, as in
// metrics.jsonl), and one HTML page with the tables and the plots inline.
import { escapeXml } from '../plot/svg.js';
import {
  formatDiff,
  formatStat,
  hasPosthoc,
  PAIRED_METRICS,
  pairedAgainstFirst,
  smallestClass,
  type Group,
  type Paired,
  type ShotStats,
  type Stat,
} from './groups.js';
import { POSTHOC_KINDS, POSTHOC_NAMES } from '../train/posthoc.js';

const METRICS = ['top1', 'best', 'many', 'medium', 'few'] as const;
const HEADERS: Record<(typeof METRICS)[number], string> = {
  top1: 'top-1 (last epoch)',
  best: 'top-1 (best epoch)',
  many: 'many',
  medium: 'medium',
  few: 'few',
};

interface Table {
  header: string[];
  rows: string[][];
}

function summaryTable(groups: Group[]): Table {
  return {
    header: ['group', 'n', ...METRICS.map((m) => HEADERS[m])],
    rows: groups.map((g) => [g.label, String(g.n), ...METRICS.map((m) => formatStat(g[m], g.n))]),
  };
}

const SHOTS = ['top1', 'many', 'medium', 'few'] as const;

/** Each group's plain scores beside its post-hoc re-scorings (last epoch). */
function posthocTable(groups: Group[]): Table {
  const row = (g: Group, scoring: string, s: ShotStats | null) => [
    g.label,
    scoring,
    ...SHOTS.map((m) => (s ? formatStat(s[m], g.n) : 'n/a')),
  ];
  return {
    header: ['group', 'scores', 'top-1', 'many', 'medium', 'few'],
    rows: groups.flatMap((g) => [
      row(g, 'logits', g),
      ...POSTHOC_KINDS.map((k) => row(g, `${POSTHOC_NAMES[k]} (τ ${g.config.posthocTau ?? 1})`, g.posthoc[k])),
    ]),
  };
}

const POSTHOC_NOTE =
  'The same evaluations re-scored without retraining: logit adjustment (logits − τ · log prior; Menon et al. 2021) and the ' +
  'τ-normalised classifier (each class weight row divided by its norm to the power τ; Kang et al. 2020).';

/** Each group's paired differences against the first group (same seeds), in percentage points. */
function pairedTable(groups: Group[], paired: Paired[]): Table {
  const smallest = groups[0].classNames[smallestClass(groups[0].trainCounts)];
  return {
    header: ['group', 'pairs', 'top-1', 'many', 'medium', 'few', `smallest class (${smallest})`],
    rows: paired.map((p) => [p.label, String(p.pairs), ...PAIRED_METRICS.map((m) => formatDiff(p.diff[m], p.pairs))]),
  };
}

function pairedNote(groups: Group[]): string {
  return (
    `Differences from \`${groups[0].label}\` in percentage points, \`mean ± std (pairs)\`, each run paired with the baseline's run ` +
    'of the same seeds (same initial weights and batch order), which removes most of the seed-to-seed spread the groups carry.'
  );
}

/** Whether the paired table says anything: several groups, and some pair. */
function hasPairs(groups: Group[], paired: Paired[]): boolean {
  return groups.length > 1 && paired.some((p) => p.pairs > 0);
}

function perClassTable(groups: Group[]): Table {
  const first = groups[0];
  return {
    header: ['class', 'training images', ...groups.map((g) => g.label)],
    rows: first.classNames.map((name, c) => [name, String(first.trainCounts[c]), ...groups.map((g) => formatStat(g.perClass[c], g.n))]),
  };
}

function runsTable(groups: Group[]): Table {
  return {
    header: ['group', 'run', 'seed', 'model seed', 'top-1 (last)', 'top-1 (best)'],
    rows: groups.flatMap((g) =>
      g.runs.map((r) => [g.label, r.dir, String(r.seed), String(r.modelSeed), (100 * r.top1).toFixed(2), (100 * r.best).toFixed(2)]),
    ),
  };
}

function markdownTable(t: Table): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${t.header.map(cell).join(' | ')} |`,
    `| ${t.header.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Classes of the many / medium / few groups: the usual long-tail split (> 100, 20–100, < 20 training images). */
const SPLIT_NOTE = 'many / medium / few: accuracy on classes with > 100 / 20–100 / < 20 training images (n/a: no such class).';

export function reportMarkdown(groups: Group[], unfinished: string[]): string {
  const paired = pairedAgainstFirst(groups);
  const same = sharedSettings(groups);
  return [
    '# wasmtail report',
    '',
    `Test accuracy in %, \`mean ± std (n)\` over the runs of each group (sample std, n − 1; one run: no ±). ` +
      'Runs are grouped when their settings differ only in seeds (`--seed`, `--model-seed`). ' +
      SPLIT_NOTE,
    '',
    ...(same ? [`Settings shared by all groups: ${same}.`, ''] : []),
    markdownTable(summaryTable(groups)),
    '',
    ...(hasPairs(groups, paired)
      ? [`## Paired against ${groups[0].label} (last epoch)`, '', pairedNote(groups), '', markdownTable(pairedTable(groups, paired)), '']
      : []),
    ...(hasPosthoc(groups) ? ['## Post-hoc re-scoring (last epoch)', '', POSTHOC_NOTE, '', markdownTable(posthocTable(groups)), ''] : []),
    '## Per class (last epoch)',
    '',
    markdownTable(perClassTable(groups)),
    '',
    '## Runs',
    '',
    markdownTable(runsTable(groups)),
    '',
    ...(unfinished.length > 0 ? ['Unfinished runs, not included: ' + unfinished.map((d) => `\`${d}\``).join(', ') + '.', ''] : []),
  ].join('\n');
}

/** The settings every group has, as "dataset fashion-mnist-lt, arch resnet20, ...". */
function sharedSettings(groups: Group[]): string {
  const keys = Object.keys(groups[0].config) as (keyof Group['config'])[];
  return keys
    .filter((k) => groups.every((g) => JSON.stringify(g.config[k]) === JSON.stringify(groups[0].config[k])))
    .map((k) => `${k} ${String(groups[0].config[k])}`)
    .join(', ');
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportCsv(groups: Group[]): string {
  const num = (v: number | null) => (v === null ? '' : String(v));
  const pair = (s: Stat) => [num(s.mean), num(s.std)];
  const classes = groups[0].classNames;
  const header = [
    'group',
    'n',
    ...METRICS.flatMap((m) => [`${m}_mean`, `${m}_std`]),
    ...classes.flatMap((c) => [`class_${c}_mean`, `class_${c}_std`]),
    ...POSTHOC_KINDS.flatMap((k) => SHOTS.flatMap((m) => [`${k}_${m}_mean`, `${k}_${m}_std`])),
    'config',
  ];
  const none = { mean: null, std: null };
  const rows = groups.map((g) => [
    g.label,
    String(g.n),
    ...METRICS.flatMap((m) => pair(g[m])),
    ...g.perClass.flatMap(pair),
    ...POSTHOC_KINDS.flatMap((k) => SHOTS.flatMap((m) => pair(g.posthoc[k]?.[m] ?? none))),
    JSON.stringify(g.config),
  ]);
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export function reportJson(groups: Group[], unfinished: string[]): string {
  return (
    JSON.stringify(
      {
        groups: groups.map((g) => ({
          config: g.config,
          label: g.label,
          n: g.n,
          runs: g.runs,
          top1: g.top1,
          best: g.best,
          many: g.many,
          medium: g.medium,
          few: g.few,
          perClass: g.perClass,
          posthoc: g.posthoc,
          classNames: g.classNames,
          trainCounts: g.trainCounts,
        })),
        pairedAgainstFirst: groups.length > 1 ? pairedAgainstFirst(groups) : [],
        unfinished,
      },
      null,
      2,
    ) + '\n'
  );
}

function htmlTable(t: Table): string {
  return (
    `<table>\n<thead><tr>${t.header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n` +
    t.rows.map((r) => `<tr>${r.map((v) => `<td>${escapeXml(v)}</td>`).join('')}</tr>`).join('\n') +
    '\n</tbody>\n</table>'
  );
}

export function reportHtml(groups: Group[], unfinished: string[], plots: Record<string, string>): string {
  const paired = pairedAgainstFirst(groups);
  const same = sharedSettings(groups);
  const figure = (name: string) => `<figure>${plots[name].replace(/^<\?xml[^>]*>\s*/, '')}</figure>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wasmtail report</title>
<style>
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 980px; color: #222; padding: 0 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; }
p.note { color: #555; }
</style>
</head>
<body>
<h1>wasmtail report</h1>
<p class="note">Test accuracy in %, <code>mean ± std (n)</code> over the runs of each group (sample std, n − 1; one run: no ±).
Runs are grouped when their settings differ only in seeds. ${escapeXml(SPLIT_NOTE)}</p>
${same ? `<p class="note">Settings shared by all groups: ${escapeXml(same)}.</p>` : ''}
<h2>Groups</h2>
${htmlTable(summaryTable(groups))}
${figure('top1.svg')}
${hasPairs(groups, paired) ? `<h2>Paired against ${escapeXml(groups[0].label)} (last epoch)</h2>\n<p class="note">${escapeXml(pairedNote(groups))}</p>\n${htmlTable(pairedTable(groups, paired))}` : ''}
${hasPosthoc(groups) ? `<h2>Post-hoc re-scoring (last epoch)</h2>\n<p class="note">${escapeXml(POSTHOC_NOTE)}</p>\n${htmlTable(posthocTable(groups))}\n${figure('posthoc.svg')}` : ''}
<h2>Per class (last epoch)</h2>
${htmlTable(perClassTable(groups))}
${figure('per-class-accuracy.svg')}
<h2>Runs</h2>
${htmlTable(runsTable(groups))}
${unfinished.length > 0 ? `<p class="note">Unfinished runs, not included: ${escapeXml(unfinished.join(', '))}.</p>` : ''}
</body>
</html>
`;
}
