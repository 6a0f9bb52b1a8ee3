// Where each cell of a sweep stands, read from its folder alone (so any
// machine on the shared folder can tell): `wasmtail sweep --out DIR --status`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHolder, staleReason } from '../train/lock.js';
import { CLAIM_FILE, isDone, readStatus } from './cell.js';
import type { Cell } from './grid.js';

export type CellState = 'done' | 'running' | 'failed' | 'interrupted' | 'pending';

export interface CellReport {
  cell: Cell;
  state: CellState;
  /** Epochs in metrics.jsonl. */
  epochsDone: number;
  /** Test top-1 of the last epoch done, or null. */
  top1: number | null;
  /** failed: why; running: who holds it. */
  detail: string;
}

function metricsOf(cellDir: string): { epochs: number; top1: number | null } {
  try {
    const lines = readFileSync(join(cellDir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
    const last = JSON.parse(lines[lines.length - 1]) as { top1?: number };
    return { epochs: lines.length, top1: typeof last.top1 === 'number' ? last.top1 : null };
  } catch {
    return { epochs: 0, top1: null };
  }
}

export function cellReport(sweepDir: string, cell: Cell): CellReport {
  const dir = join(sweepDir, cell.dir);
  const { epochs, top1 } = metricsOf(dir);
  const base = { cell, epochsDone: epochs, top1 };
  if (isDone(dir, cell.config.epochs)) return { ...base, state: 'done', detail: '' };
  const holder = readHolder(join(dir, CLAIM_FILE));
  if (holder && staleReason(holder, Date.now()) === null) {
    return { ...base, state: 'running', detail: `pid ${holder.pid} on ${holder.host} since ${holder.started}` };
  }
  const status = readStatus(dir);
  if (status?.state === 'failed') return { ...base, state: 'failed', detail: status.reason ?? '' };
  if (existsSync(join(dir, 'last.safetensors')) || status?.state === 'interrupted' || status?.state === 'running') {
    return { ...base, state: 'interrupted', detail: status?.state === 'running' ? 'its runner is gone' : '' };
  }
  return { ...base, state: 'pending', detail: '' };
}

/** A plain-text table of the cells, one line each, and a count per state. */
export function formatStatus(reports: CellReport[]): string {
  const rows = reports.map((r) => [
    String(r.cell.index),
    r.cell.dir,
    r.state,
    `${r.epochsDone}/${r.cell.config.epochs}`,
    r.top1 === null ? '' : `${(100 * r.top1).toFixed(2)}%`,
    r.detail,
  ]);
  const header = ['cell', 'folder', 'state', 'epochs', 'top-1', 'detail'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const counts = new Map<CellState, number>();
  for (const r of reports) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  return [line(header), ...rows.map(line), '', [...counts].map(([s, n]) => `${n} ${s}`).join(', ')].join('\n') + '\n';
}
