// `npm run chaos [-- --cell <substring>] [--keep]`: every cell of the chaos matrix, one after the other, each on
// its own Temporal server and MinIO; prints the table (fault × moment → outcome, seconds) and
// `RESULT cells=<n> passed=<n>`, and exits 1 when any cell failed.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { createLogger } from '../../workers/logging';
import { installRuntimeLogger } from '../../workers/runtime';
import { causeChain } from '../helpers/failures';
import { type Cell, type CellReport, formatTable } from './cell';
import { startCellStack } from './cellStack';
import { checkInvariants } from './invariants';
import { diskFullCells } from './diskFull';
import { objectStoreCells } from './objectStoreFaults';
import { serverRestartCells } from './serverRestarts';
import { workerKillCells } from './workerKills';

const CELLS: Cell[] = [...workerKillCells, ...serverRestartCells, ...objectStoreCells, ...diskFullCells];
/** A cell that has not ended by then has failed (a run that hangs is a failure, not a wait). */
const CELL_TIMEOUT_MS = 6 * 60_000;

const program = new Command('chaos')
  .option('--cell <text>', 'run only the cells whose name contains this (e.g. control-kill, minio/registration)')
  .option('--list', 'list the cells and exit')
  .option('--keep', 'keep each cell folder (server data and logs) instead of deleting passed ones')
  .parse();
const opts = program.opts<{ cell?: string; list?: boolean; keep?: boolean }>();
const selected = CELLS.filter((c) => !opts.cell || c.name.includes(opts.cell));
if (opts.list) {
  for (const c of CELLS) process.stdout.write(`${c.name}\t${c.fault} × ${c.moment}\n`);
  process.exit(0);
}
if (selected.length === 0) {
  process.stderr.write(`no cell matches --cell ${opts.cell}; --list shows them\n`);
  process.exit(2);
}

const root = mkdtempSync(path.join(os.tmpdir(), 'ct-chaos-'));
let logFile = path.join(root, 'runtime.log');
const logger = createLogger(process.env.CT_CHAOS_LOG_LEVEL ?? 'info', {
  write: (line: string) => appendFileSync(logFile, line),
});
installRuntimeLogger(logger);

async function runCell(cell: Cell): Promise<CellReport> {
  const dir = path.join(root, cell.name.replace(/\//g, '--'));
  logFile = path.join(root, `${cell.name.replace(/\//g, '--')}.log`);
  const notes: string[] = [];
  const deferred: (() => Promise<void> | void)[] = [];
  const started = Date.now();
  const report = (outcome: string, failures: string[]): CellReport => ({
    cell,
    passed: failures.length === 0,
    outcome,
    seconds: (Date.now() - started) / 1000,
    notes,
    failures,
  });
  const stack = await startCellStack(dir, logger, { rows: cell.rows }).catch((err: unknown) => err as Error);
  if (stack instanceof Error) return report('no stack', [`could not start the servers: ${stack.message}`]);
  const ctx = {
    stack,
    logger,
    note: (text: string) => notes.push(text),
    defer: (fn: () => Promise<void> | void) => deferred.push(fn),
    logged: (msg: RegExp) =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => typeof l.msg === 'string' && msg.test(l.msg)),
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`did not end within ${CELL_TIMEOUT_MS / 60_000} min`)),
        CELL_TIMEOUT_MS,
      );
    });
    const run = await Promise.race([cell.run(ctx), timeout]);
    const failures = [
      ...run.failures,
      ...(await Promise.race([checkInvariants(stack, run.result, run.expected), timeout])),
    ];
    return report(run.result.outcome, failures);
  } catch (err) {
    return report('error', [causeChain(err)]);
  } finally {
    clearTimeout(timer);
    await stack.stop().catch(() => undefined);
    for (const fn of deferred.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  }
}

const started = Date.now();
const reports: CellReport[] = [];
for (const cell of selected) {
  process.stdout.write(`▶ ${cell.name} …\n`);
  const r = await runCell(cell);
  reports.push(r);
  process.stdout.write(
    `${r.passed ? '✔' : '✘'} ${cell.name} ${r.outcome} in ${r.seconds.toFixed(0)} s${r.passed ? '' : `: ${r.failures.join('; ')}`}\n`,
  );
  if (r.passed && !opts.keep) rmSync(path.join(root, cell.name.replace(/\//g, '--')), { recursive: true, force: true });
}
const passed = reports.filter((r) => r.passed).length;
process.stdout.write(
  `\n${formatTable(reports)}\n\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s; logs in ${root}\n`,
);
process.stdout.write(`RESULT cells=${reports.length} passed=${passed}\n`);
process.exit(passed === reports.length ? 0 : 1);
