// A chaos cell: one fault at one moment against one cell's own servers, and what it reports for the table.
import type { Logger } from 'pino';
import type { RunStatus } from '../../core/runStatus';
import type { CellStack } from './cellStack';
import type { Expected } from './invariants';

export interface CellContext {
  stack: CellStack;
  /** The cell's worker log (pino, level info): activities and the Temporal runtime write here. */
  logger: Logger;
  /** The lines of the cell's worker log so far, parsed, whose `msg` matches. */
  logged(msg: RegExp): Record<string, unknown>[];
  /** A note for the table's "how" column: how the moment was hit, what the fault did. */
  note(text: string): void;
  /** Runs `fn` when the cell ends, after its servers and workers have stopped (an unmount, a receiver to close). */
  defer(fn: () => Promise<void> | void): void;
}

export interface CellRun {
  /** The run the fault hit, ended. */
  result: RunStatus;
  expected: Expected;
  /** Cell-specific checks that failed (beyond the common invariants). */
  failures: string[];
}

export interface Cell {
  /** The `--cell` name: `<fault>/<moment>`. */
  name: string;
  fault: string;
  moment: string;
  /** Rows of real flights in the cell's data window (default 20,000): more make validate and evaluate last seconds. */
  rows?: number;
  run(ctx: CellContext): Promise<CellRun>;
}

export interface CellReport {
  cell: Cell;
  passed: boolean;
  outcome: string;
  seconds: number;
  notes: string[];
  failures: string[];
}

/** The matrix as a table: fault × moment → outcome, seconds, how the moment was hit, failures. */
export function formatTable(reports: CellReport[]): string {
  const rows = reports.map((r) => [
    r.cell.fault,
    r.cell.moment,
    `${r.passed ? 'PASS' : 'FAIL'} ${r.outcome}`,
    r.seconds.toFixed(0),
    [...r.notes, ...r.failures.map((f) => `FAILED: ${f}`)].join('; '),
  ]);
  const header = ['fault', 'moment', 'outcome', 's', 'how / what happened'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 4 ? 0 : r[i]!.length))));
  const line = (cols: string[]) => cols.map((c, i) => (i === 4 ? c : c.padEnd(widths[i]!))).join(' | ');
  return [line(header), line(widths.map((w, i) => '-'.repeat(i === 4 ? 19 : w))), ...rows.map(line)].join('\n');
}
