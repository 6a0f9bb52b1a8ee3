/**
 * Small, dependency-free SVG charts for training reports: line charts
 * (training curves), grouped bar charts (per-class accuracy of two losses)
 * and scatter charts (per-class accuracy or feature norm against class size).
 *
 * Every builder returns a standalone SVG document as a string. Inputs are
 * never trusted to be clean: non-finite points (and non-positive ones on a
 * log axis) are skipped, lines break at them, empty charts say "No data",
 * and all text is XML-escaped. Colours are the Okabe–Ito palette (Okabe &
 * Ito, "Color Universal Design", 2008), safe for the common colour-vision
 * deficiencies; series also differ by marker shape.
 */

export type Point = readonly [x: number, y: number];

export interface PointSeries {
  name: string;
  points: readonly Point[];
  /** Scatter only: ± this much around each point's y (e.g. a standard deviation over seeds), drawn as an error bar. */
  errors?: readonly number[];
  /** Scatter only: a text beside each point (e.g. the class name). */
  labels?: readonly string[];
}

export interface BarSeries {
  name: string;
  /** One value per category; NaN leaves a gap. */
  values: readonly number[];
  /** ± this much around each value, drawn as an error bar; NaN or absent: none. */
  errors?: readonly number[];
}

export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  /** Pixels; default 720 × 440. */
  width?: number;
  height?: number;
  /** Force the y range (e.g. 0 and 1 for accuracy); otherwise it fits the data. */
  yMin?: number;
  yMax?: number;
}

export interface LineChartOptions extends ChartOptions {
  series: readonly PointSeries[];
  logY?: boolean;
}

export interface ScatterChartOptions extends ChartOptions {
  series: readonly PointSeries[];
  logX?: boolean;
  logY?: boolean;
}

export interface BarChartOptions extends ChartOptions {
  categories: readonly string[];
  series: readonly BarSeries[];
}

/** Okabe–Ito, reordered so the first colours are the most distinct on white. */
export const PALETTE: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const TEXT = '#222';
const MUTED = '#555';
const GRID = '#e6e6e6';
const AXIS = '#888';
const CHAR_WIDTH = 0.58; // average glyph width per font-size unit, for layout estimates

/** Escape text for XML content and attributes, dropping characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return String(text)
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const r = (v: number) => Math.round(v * 100) / 100;
const colour = (i: number) => PALETTE[i % PALETTE.length];
const textWidth = (s: string, size: number) => [...s].length * size * CHAR_WIDTH;

function truncate(s: string, maxWidth: number, size: number): string {
  const chars = [...s];
  const fit = Math.floor(maxWidth / (size * CHAR_WIDTH));
  return chars.length <= fit ? s : `${chars.slice(0, Math.max(1, fit - 1)).join('')}…`;
}

// ---------------------------------------------------------------------------
// Scales

interface Scale {
  map(v: number): number;
  ticks: number[];
  format(v: number): string;
  accepts(v: number): boolean;
}

/** 1, 2 or 5 × 10^k nearest above `rough` (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990). */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const f = rough / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

function formatNumber(v: number, decimals: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const text = a >= 1e6 || a < 1e-4 ? Number(v.toPrecision(12)).toExponential().replace('e+', 'e') : v.toFixed(Math.min(decimals, 10));
  return text.replace('-', '\u2212');
}

function linearScale(lo: number, hi: number, from: number, to: number, targetTicks: number, fixed: boolean): Scale {
  // Keep the span finite (±1e308 data) and wide enough to divide (a single
  // value, or values equal to within rounding, get a ±10 % margin).
  const clamp = (v: number) => Math.min(Math.max(v, -1e307), 1e307);
  [lo, hi] = [clamp(lo), clamp(hi)];
  if (!(hi - lo > Math.max(Math.abs(lo), Math.abs(hi)) * 1e-9 && hi - lo > 1e-300)) {
    const tenth = Math.abs(lo) * 0.1;
    const pad = tenth > 1e-300 ? tenth : 1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = niceStep((hi - lo) / Math.max(1, targetTicks));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const start = fixed ? lo : Math.floor(lo / step + 1e-9) * step;
  const end = fixed ? hi : Math.ceil(hi / step - 1e-9) * step;
  const first = Math.ceil(start / step - 1e-9);
  const count = Math.min(50, Math.floor(end / step + 1e-9) - first + 1);
  const ticks: number[] = [];
  for (let i = 0; i < count; i++) ticks.push(Number(((first + i) * step).toFixed(Math.min(decimals, 20))));
  return {
    map: (v) => from + ((v - start) / (end - start)) * (to - from),
    ticks,
    format: (v) => formatNumber(v, decimals),
    accepts: Number.isFinite,
  };
}

function logScale(lo: number, hi: number, from: number, to: number, targetTicks: number): Scale {
  if (!(lo > 0) || !(hi > 0)) [lo, hi] = [1, 10];
  // Pad by 5 % of the span in log space, at least a little for a single value.
  const pad = Math.max(0.05 * (Math.log10(hi) - Math.log10(lo)), 0.02);
  const a = Math.log10(lo) - pad;
  const b = Math.log10(hi) + pad;
  // Ticks at 1, 2, 5 × 10^k when they are not too many, else at powers of ten
  // (every k-th decade for very wide ranges), else at every integer multiple.
  const candidates = (multiples: number[], every = 1) => {
    const ticks: number[] = [];
    // a and b are finite (|log10| < 330), so this visits at most ~660 decades.
    for (let e = Math.floor(a); e <= Math.ceil(b); e += every) {
      for (const m of multiples) {
        const v = Number((m * 10 ** e).toPrecision(6));
        const lv = Math.log10(v);
        if (lv >= a - 1e-9 && lv <= b + 1e-9) ticks.push(v);
      }
    }
    return ticks;
  };
  let ticks = candidates([1, 2, 5]);
  if (ticks.length > targetTicks + 2) ticks = candidates([1], Math.ceil((b - a) / (targetTicks + 1)));
  if (ticks.length < 2) ticks = candidates([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  return {
    map: (v) => from + ((Math.log10(v) - a) / (b - a)) * (to - from),
    ticks,
    format: (v) => formatNumber(v, Math.max(0, -Math.floor(Math.log10(v) + 1e-9))),
    accepts: (v) => Number.isFinite(v) && v > 0,
  };
}

function extent(values: Iterable<number>, accepts: (v: number) => boolean): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!accepts(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

const isPositiveFinite = (v: number) => Number.isFinite(v) && v > 0;

function makeScale(
  values: number[],
  log: boolean,
  from: number,
  to: number,
  targetTicks: number,
  min?: number,
  max?: number,
  includeZero = false,
): Scale {
  const accepts = log ? isPositiveFinite : Number.isFinite;
  let [lo, hi] = extent(values, accepts) ?? (log ? [1, 10] : [0, 1]);
  if (includeZero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  const fixed = min !== undefined && max !== undefined && accepts(min) && accepts(max) && max > min;
  if (min !== undefined && accepts(min)) lo = min;
  if (max !== undefined && accepts(max)) hi = max;
  if (hi < lo) [lo, hi] = [hi, lo];
  return log ? logScale(lo, hi, from, to, targetTicks) : linearScale(lo, hi, from, to, targetTicks, fixed);
}

// ---------------------------------------------------------------------------
// Frame: background, title, axes, grid, legend

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'down' | 'plus';
const MARKERS: Marker[] = ['circle', 'square', 'triangle', 'diamond', 'down', 'plus'];

function marker(kind: Marker, x: number, y: number, size: number, fill: string, title?: string): string {
  const s = size;
  const tip = title ? `<title>${escapeXml(title)}</title>` : '';
  const end = (tag: string) => (tip ? `>${tip}</${tag}>` : '/>');
  switch (kind) {
    case 'circle':
      return `<circle cx="${r(x)}" cy="${r(y)}" r="${r(s)}" fill="${fill}"${end('circle')}`;
    case 'square':
      return `<rect x="${r(x - s * 0.9)}" y="${r(y - s * 0.9)}" width="${r(s * 1.8)}" height="${r(s * 1.8)}" fill="${fill}"${end('rect')}`;
    case 'plus':
      return `<path d="M${r(x - s)} ${r(y)}h${r(2 * s)}M${r(x)} ${r(y - s)}v${r(2 * s)}" stroke="${fill}" stroke-width="2"${end('path')}`;
    default: {
      const k = s * 1.25;
      const d =
        kind === 'triangle'
          ? `M${r(x)} ${r(y - k)}L${r(x + k)} ${r(y + k * 0.8)}L${r(x - k)} ${r(y + k * 0.8)}Z`
          : kind === 'down'
            ? `M${r(x)} ${r(y + k)}L${r(x + k)} ${r(y - k * 0.8)}L${r(x - k)} ${r(y - k * 0.8)}Z`
            : `M${r(x)} ${r(y - k)}L${r(x + k)} ${r(y)}L${r(x)} ${r(y + k)}L${r(x - k)} ${r(y)}Z`;
      return `<path d="${d}" fill="${fill}"${end('path')}`;
    }
  }
}

interface LegendEntry {
  name: string;
  swatch: (x: number, y: number) => string;
}

function legendWidth(entries: LegendEntry[]): number {
  if (entries.length === 0) return 0;
  return Math.min(200, 40 + Math.max(...entries.map((e) => textWidth(e.name, 12))));
}

function legend(entries: LegendEntry[], x: number, y: number, width: number): string {
  return entries
    .map((e, i) => {
      const cy = y + 10 + i * 20;
      const label = truncate(e.name, width - 34, 12);
      const tip = label === e.name ? '' : `<title>${escapeXml(e.name)}</title>`;
      return `${e.swatch(x + 12, cy)}<text x="${r(x + 30)}" y="${r(cy)}" dominant-baseline="central" font-size="12" fill="${TEXT}">${tip}${escapeXml(label)}</text>`;
    })
    .join('');
}

interface FrameOptions {
  opts: ChartOptions;
  width: number;
  height: number;
  legend: LegendEntry[];
  /** Builds the y scale for a plot spanning [top, bottom]. */
  yScale: (bottom: number, top: number) => Scale;
  /** Extra room below the plot for x tick labels (rotated bar labels need more). */
  xLabelRoom: number;
}

/** Lays out the chart and draws everything but the data. */
function frame(f: FrameOptions): { box: Box; y: Scale; open: string; close: string } {
  const { opts, width, height } = f;
  const top = 48;
  const bottom = height - f.xLabelRoom - (opts.xLabel ? 26 : 6);
  const y = f.yScale(bottom, top);
  const tickWidth = Math.max(...y.ticks.map((t) => textWidth(y.format(t), 11)), 8);
  const left = 14 + (opts.yLabel ? 22 : 0) + tickWidth + 8;
  const lw = legendWidth(f.legend);
  const right = width - (lw ? lw + 28 : 28);
  const box = { left, right, top, bottom };

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(opts.title)}" font-family="${escapeXml(FONT)}">`,
    `<title>${escapeXml(opts.title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${r(width / 2)}" y="28" text-anchor="middle" font-size="16" font-weight="600" fill="${TEXT}">${escapeXml(opts.title)}</text>`,
  ];
  for (const t of y.ticks) {
    const ty = r(y.map(t));
    parts.push(
      `<line x1="${r(left)}" x2="${r(right)}" y1="${ty}" y2="${ty}" stroke="${GRID}"/>`,
      `<text x="${r(left - 8)}" y="${ty}" text-anchor="end" dominant-baseline="central" font-size="11" fill="${MUTED}">${escapeXml(y.format(t))}</text>`,
    );
  }
  if (opts.yLabel) {
    const cy = r((top + bottom) / 2);
    parts.push(
      `<text transform="translate(16 ${cy}) rotate(-90)" text-anchor="middle" dominant-baseline="central" font-size="12" fill="${TEXT}">${escapeXml(opts.yLabel)}</text>`,
    );
  }
  if (opts.xLabel) {
    parts.push(
      `<text x="${r((left + right) / 2)}" y="${r(height - 12)}" text-anchor="middle" font-size="12" fill="${TEXT}">${escapeXml(opts.xLabel)}</text>`,
    );
  }
  if (lw) parts.push(legend(f.legend, right + 16, top, lw));
  const axes = `<path d="M${r(left)} ${r(top)}V${r(bottom)}H${r(right)}" fill="none" stroke="${AXIS}"/>`;
  return { box, y, open: parts.join('\n'), close: `${axes}\n</svg>\n` };
}

function xTicks(x: Scale, box: Box): string {
  return x.ticks
    .map((t) => {
      const tx = r(x.map(t));
      return (
        `<line x1="${tx}" x2="${tx}" y1="${r(box.top)}" y2="${r(box.bottom)}" stroke="${GRID}"/>` +
        `<text x="${tx}" y="${r(box.bottom + 16)}" text-anchor="middle" font-size="11" fill="${MUTED}">${escapeXml(x.format(t))}</text>`
      );
    })
    .join('\n');
}

function noData(box: Box): string {
  return `<text x="${r((box.left + box.right) / 2)}" y="${r((box.top + box.bottom) / 2)}" text-anchor="middle" font-size="13" fill="${MUTED}">No data</text>`;
}

const dimension = (v: number | undefined, fallback: number) =>
  typeof v === 'number' && Number.isFinite(v) ? Math.min(Math.max(Math.round(v), 240), 10000) : fallback;
const size = (o: ChartOptions) => ({ width: dimension(o.width, 720), height: dimension(o.height, 440) });
const seriesName = (s: { name: string }, i: number) => (typeof s.name === 'string' && s.name ? s.name : `series ${i + 1}`);

// ---------------------------------------------------------------------------
// Charts

function pointChart(opts: LineChartOptions | ScatterChartOptions, mode: 'line' | 'scatter'): string {
  const { width, height } = size(opts);
  const logX = mode === 'scatter' && (opts as ScatterChartOptions).logX === true;
  const logY = opts.logY === true;
  const series = opts.series ?? [];
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.filter((p) => (logX ? isPositiveFinite(p[0]) : Number.isFinite(p[0]))).map((p) => p[1]));
  const showMarkers = mode === 'scatter' || Math.max(0, ...series.map((s) => s.points.length)) <= 40;
  const entries: LegendEntry[] = series.map((s, i) => ({
    name: seriesName(s, i),
    swatch: (x, y) =>
      (mode === 'line'
        ? `<line x1="${r(x - 9)}" x2="${r(x + 9)}" y1="${r(y)}" y2="${r(y)}" stroke="${colour(i)}" stroke-width="2.5"/>`
        : '') + (showMarkers ? marker(MARKERS[i % MARKERS.length], x, y, 3.5, colour(i)) : ''),
  }));
  const { box, y, open, close } = frame({
    opts,
    width,
    height,
    legend: entries,
    yScale: (bottom, top) => makeScale(ys, logY, bottom, top, Math.max(2, Math.round((bottom - top) / 60)), opts.yMin, opts.yMax),
    xLabelRoom: 22,
  });
  const x = makeScale(xs, logX, box.left, box.right, Math.max(2, Math.round((box.right - box.left) / 90)));
  const within = (v: number, a: number, b: number) => v >= a - 0.5 && v <= b + 0.5;
  const inside = (px: number, py: number) =>
    x.accepts(px) && y.accepts(py) && within(x.map(px), box.left, box.right) && within(y.map(py), box.top, box.bottom);

  const body: string[] = [xTicks(x, box)];
  let drawn = 0;
  series.forEach((s, i) => {
    const c = colour(i);
    const name = seriesName(s, i);
    const visible = s.points.filter((p) => inside(p[0], p[1]));
    drawn += visible.length;
    if (mode === 'line') {
      // Lines break at skipped points rather than bridging them.
      let d = '';
      let pen = false;
      for (const [px, py] of s.points) {
        if (!inside(px, py)) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${r(x.map(px))} ${r(y.map(py))}`;
        pen = true;
      }
      if (d) body.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`);
    }
    if (mode === 'scatter') {
      const clampY = (v: number) => Math.min(box.bottom, Math.max(box.top, y.map(v)));
      s.points.forEach(([px, py], k) => {
        const e = s.errors?.[k];
        if (!inside(px, py)) return;
        if (e !== undefined && Number.isFinite(e) && e > 0) body.push(errorBar(x.map(px), clampY(py - e), clampY(py + e), 4, c));
        const label = s.labels?.[k];
        if (label) {
          body.push(
            `<text x="${r(x.map(px) + 7)}" y="${r(y.map(py) - 7)}" font-size="10" fill="${MUTED}">${escapeXml(truncate(label, 110, 10))}</text>`,
          );
        }
      });
    }
    if (showMarkers) {
      const shape = MARKERS[i % MARKERS.length];
      const group = visible
        .map(([px, py]) =>
          marker(shape, x.map(px), y.map(py), mode === 'scatter' ? 4 : 3, c, `${name}: (${formatNumber(px, 4)}, ${formatNumber(py, 4)})`),
        )
        .join('');
      body.push(mode === 'scatter' ? `<g fill-opacity="0.85" stroke="#ffffff" stroke-width="0.75">${group}</g>` : `<g>${group}</g>`);
    }
  });
  if (drawn === 0) body.push(noData(box));
  return `${open}\n${body.join('\n')}\n${close}`;
}

/** A vertical error bar from y1 to y2 (pixels) at x, with caps of half-width `cap`. */
function errorBar(x: number, y1: number, y2: number, cap: number, stroke: string): string {
  return (
    `<path d="M${r(x)} ${r(y1)}V${r(y2)}M${r(x - cap)} ${r(y1)}H${r(x + cap)}M${r(x - cap)} ${r(y2)}H${r(x + cap)}" ` +
    `fill="none" stroke="${stroke}" stroke-width="1.25"/>`
  );
}

/** Training curves: one line per series (loss, accuracy, learning rate against epoch). */
export function lineChart(opts: LineChartOptions): string {
  return pointChart(opts, 'line');
}

/** Points without lines, e.g. per-class accuracy against class size (`logX` for sizes). */
export function scatterChart(opts: ScatterChartOptions): string {
  return pointChart(opts, 'scatter');
}

/** Grouped bars: one group per category, one bar per series (e.g. per-class accuracy, CE vs FBL). */
export function barChart(opts: BarChartOptions): string {
  const { width, height } = size(opts);
  const categories = opts.categories ?? [];
  const series = opts.series ?? [];
  const entries: LegendEntry[] = series.map((s, i) => ({
    name: seriesName(s, i),
    swatch: (x, y) => `<rect x="${r(x - 7)}" y="${r(y - 6)}" width="14" height="12" rx="2" fill="${colour(i)}"/>`,
  }));
  // Rotate category labels when they would collide; thin them out when even that cannot fit.
  const plotGuess = width - 120 - legendWidth(entries);
  const band = plotGuess / Math.max(1, categories.length);
  const longest = Math.max(0, ...categories.map((c) => textWidth(String(c), 11)));
  const rotate = longest > band - 4;
  const every = rotate ? Math.max(1, Math.ceil(20 / band)) : 1;
  const labelRoom = rotate ? Math.min(90, longest * 0.71 + 14) : 22;
  const values = series.flatMap((s) => s.values.slice(0, categories.length));
  const { box, y, open, close } = frame({
    opts,
    width,
    height,
    legend: entries,
    yScale: (bottom, top) =>
      makeScale(values, false, bottom, top, Math.max(2, Math.round((bottom - top) / 60)), opts.yMin, opts.yMax, true),
    xLabelRoom: labelRoom,
  });
  const step = (box.right - box.left) / Math.max(1, categories.length);
  const groupWidth = step * 0.8;
  const barWidth = groupWidth / Math.max(1, series.length);
  const clampY = (v: number) => Math.min(box.bottom, Math.max(box.top, y.map(v)));
  const zero = clampY(0);
  const body: string[] = [];
  let drawn = 0;
  categories.forEach((category, ci) => {
    const gx = box.left + ci * step + (step - groupWidth) / 2;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v)) return;
      drawn++;
      const top = Math.min(zero, clampY(v));
      const h = Math.abs(clampY(v) - zero);
      const tip = `${seriesName(s, si)}, ${category}: ${formatNumber(v, 4)}`;
      body.push(
        `<rect x="${r(gx + si * barWidth)}" y="${r(top)}" width="${r(Math.max(0.5, barWidth - (barWidth > 4 ? 1 : 0)))}" height="${r(h)}" fill="${colour(si)}"><title>${escapeXml(tip)}</title></rect>`,
      );
      const e = s.errors?.[ci];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        body.push(errorBar(gx + (si + 0.5) * barWidth, clampY(v - e), clampY(v + e), Math.min(5, barWidth / 3), TEXT));
      }
    });
    if (ci % every !== 0) return;
    const cx = r(box.left + (ci + 0.5) * step);
    const label = escapeXml(truncate(String(category), 110, 11));
    body.push(
      rotate
        ? `<text transform="translate(${cx} ${r(box.bottom + 10)}) rotate(-45)" text-anchor="end" font-size="11" fill="${MUTED}">${label}</text>`
        : `<text x="${cx}" y="${r(box.bottom + 16)}" text-anchor="middle" font-size="11" fill="${MUTED}">${label}</text>`,
    );
  });
  if (zero < box.bottom - 0.5) {
    body.push(`<line x1="${r(box.left)}" x2="${r(box.right)}" y1="${r(zero)}" y2="${r(zero)}" stroke="${AXIS}"/>`);
  }
  if (drawn === 0) body.push(noData(box));
  return `${open}\n${body.join('\n')}\n${close}`;
}
