// bench:drift's wide case (run by bench/drift.ts in a process of its own, so its peak RSS is its own; runs alone too:
// node --import tsx bench/driftWide.ts [--evidently-rows 1000,4000 | --no-evidently]).
// 3,000,000 current rows × 1000 columns (bench/wideData.ts: 500 numeric, 500 categorical as codes + dictionary,
// 20 of each drifted by a known shift) against a reference of 100,000 rows, generated block by block and never
// held whole. Worker threads (one per core, at most 2) profile the reference's columns, then stream half the current
// window's blocks each through a WindowProfile; the parts are merged through their JSON (as the fanned-out drift
// check merges them) and compared. Timed: the whole of it, generating the data included. Checked: exactly the
// drifted columns are flagged (misses and false alarms printed; the run fails on any).
// Evidently's DataDriftPreset runs on two samples of the same data (the first N rows of each window, all columns);
// its time is extrapolated linearly in rows to the full size and labelled so.
// Last line: WIDE {"seconds":…,"rssMiB":…,"evidentlyExtrapolatedSeconds":…|null}
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  detectWindowDrift,
  type FeatureProfile,
  type ReferenceProfile,
  WindowProfile,
  WindowProfileJson,
} from '../core/drift';
import { frameParquet, runBaselines } from './driftBaselines';
import type { WideTask } from './driftWideWorker';
import { BLOCK_ROWS, wholeColumns, wideColumns, WIDE_COLUMNS, wideSettings } from './wideData';

const REFERENCE_ROWS = 100_000;
const CURRENT_ROWS = 3_000_000;
const out = (s: string) => process.stdout.write(`${s}\n`);
const seconds = (since: number) => (performance.now() - since) / 1000;

function runWorker<T>(task: WideTask): Promise<T> {
  return new Promise((resolve, reject) => {
    // Node 20 does not run a worker's entry through the parent's --import hooks: the worker registers tsx itself.
    const entry = new URL('./driftWideWorker.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsx)}).then((t) => (t.register(), import(${JSON.stringify(entry)})))`;
    const worker = new Worker(boot, { eval: true, workerData: task });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`wide-case worker exited ${code}`)));
  });
}

async function ours(threads: number) {
  const settings = wideSettings();
  const columns = wideColumns();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // Reference: columns dealt round-robin, so each worker gets numeric and categorical ones alike.
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, k) =>
      runWorker<FeatureProfile[]>({
        task: 'reference',
        rows: REFERENCE_ROWS,
        columns: columns.map((_, j) => j).filter((j) => j % threads === k),
      }),
    ),
  );
  const byName = new Map(parts.flat().map((f) => [f.name, f]));
  const reference: ReferenceProfile = {
    schemaVersion: 1,
    rows: REFERENCE_ROWS,
    features: columns.map((c) => byName.get(c.name)!),
  };
  const referenceS = seconds(t0);

  // Current window: contiguous halves of the blocks, merged in row order.
  const t1 = performance.now();
  const blocks = Math.ceil(CURRENT_ROWS / BLOCK_ROWS);
  const cuts = Array.from({ length: threads + 1 }, (_, k) => Math.round((k * blocks) / threads));
  const windowParts = await Promise.all(
    Array.from({ length: threads }, (_, k) =>
      runWorker<unknown>({
        task: 'window',
        rows: CURRENT_ROWS,
        blocks: [cuts[k]!, cuts[k + 1]!],
        reference,
      }),
    ),
  );
  const window = new WindowProfile(reference, settings);
  for (const json of windowParts)
    window.merge(WindowProfile.fromJSON(reference, settings, WindowProfileJson.parse(json)));
  const windowS = seconds(t1);
  const t2 = performance.now();
  const report = detectWindowDrift(reference, window, settings);
  const compareS = seconds(t2);
  const totalS = seconds(t0);
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6; // the process's threads together

  const expected = new Set(columns.filter((c) => c.drifted).map((c) => c.name));
  const flagged = new Set(report.driftedFeatures);
  const misses = [...expected].filter((n) => !flagged.has(n));
  const falseAlarms = [...flagged].filter((n) => !expected.has(n));
  const sketched = report.features.filter((f) => f.approximation).length;
  out(
    `ours, ${threads} worker thread(s): reference profile ${referenceS.toFixed(1)} s (${REFERENCE_ROWS.toLocaleString('en-US')} rows), ` +
      `current window ${windowS.toFixed(1)} s (${CURRENT_ROWS.toLocaleString('en-US')} rows, generated in ${BLOCK_ROWS}-row blocks), compare ${compareS.toFixed(2)} s`,
  );
  out(
    `  total ${totalS.toFixed(1)} s (${Math.round((CURRENT_ROWS * WIDE_COLUMNS) / totalS).toLocaleString('en-US')} window values/s, data generation included); peak RSS ${Math.round(rssMiB)} MiB; ` +
      `CPU ${cpuS.toFixed(0)} s over all threads (${(cpuS / totalS).toFixed(2)} cores busy on average: below ${threads} means the cores were shared)`,
  );
  out(
    `  ${sketched} numeric columns went to the sketch (max KS error ${Math.max(0, ...report.features.map((f) => f.approximation?.ksStatisticError ?? 0)).toExponential(1)}); ` +
      `flagged ${flagged.size} of ${WIDE_COLUMNS} columns, ${expected.size} drifted: misses ${misses.length ? misses.join(', ') : 'none'}; false alarms ${falseAlarms.length ? falseAlarms.join(', ') : 'none'}`,
  );
  if (misses.length > 0 || falseAlarms.length > 0)
    throw new Error(`wide case: ${misses.length} drifted column(s) missed, ${falseAlarms.length} false alarm(s)`);
  return { totalS, rssMiB, expected };
}

/** Evidently on two samples; its seconds for the full size by a straight line through them (an extrapolation). */
async function evidently(sizes: number[], expected: Set<string>): Promise<number | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-bench-drift-wide-'));
  try {
    const points: { rows: number; s: number }[] = [];
    for (const n of sizes) {
      const refFile = path.join(dir, `reference-${n}.parquet`);
      const curFile = path.join(dir, `current-${n}.parquet`);
      const all = Array.from({ length: WIDE_COLUMNS }, (_, j) => j);
      const frame = wholeColumns('reference', n, all);
      await writeFile(refFile, frameParquet(frame));
      await writeFile(curFile, frameParquet(wholeColumns('current', n, all)));
      const result = await runBaselines(refFile, curFile, frame, { reps: 1, warmup: 0, tools: ['evidently'] });
      const ev = result.tools.evidently;
      if (!ev || 'error' in ev) {
        out(`Evidently on ${n} + ${n} rows × ${WIDE_COLUMNS} columns FAILED: ${ev ? ev.error : 'not run'}`);
        return null;
      }
      const flagged = Object.entries(ev.features).filter(([, f]) => f.drifted);
      const misses = [...expected].filter((c) => !ev.features[c]?.drifted).length;
      points.push({ rows: 2 * n, s: ev.seconds[0]! });
      out(
        `Evidently ${result.versions.evidently} DataDriftPreset on a sample, ${n} reference + ${n} current rows × ${WIDE_COLUMNS} columns: ${ev.seconds[0]!.toFixed(1)} s ` +
          `(flags ${flagged.length}; misses ${misses}, false alarms ${flagged.filter(([c]) => !expected.has(c)).length})`,
      );
    }
    const [a, b] = [points[0]!, points[points.length - 1]!];
    const slope = b.rows === a.rows ? a.s / a.rows : (b.s - a.s) / (b.rows - a.rows);
    const full = REFERENCE_ROWS + CURRENT_ROWS;
    return Math.max(a.s, a.s + slope * (full - a.rows));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--evidently-rows');
  const sizes = at >= 0 ? args[at + 1]!.split(',').map(Number) : [1000, 4000];
  const threads = Math.min(2, os.availableParallelism());
  out(
    `wide case: ${CURRENT_ROWS.toLocaleString('en-US')} current rows × ${WIDE_COLUMNS} columns (500 numeric, 500 categorical, 20 + 20 drifted), ` +
      `reference ${REFERENCE_ROWS.toLocaleString('en-US')} rows (smaller than the window, as a training sample is), synthetic and seeded`,
  );
  const { totalS, rssMiB, expected } = await ours(threads);
  let extrapolated: number | null = null;
  if (!args.includes('--no-evidently')) {
    extrapolated = await evidently(sizes, expected);
    if (extrapolated !== null)
      out(
        `Evidently extrapolated (linear in rows from the samples) to ${REFERENCE_ROWS.toLocaleString('en-US')} + ${CURRENT_ROWS.toLocaleString('en-US')} rows: ` +
          `${extrapolated.toFixed(0)} s → ours ${(extrapolated / totalS).toFixed(1)}x faster (extrapolated)`,
      );
  }
  out(`WIDE ${JSON.stringify({ seconds: totalS, rssMiB, evidentlyExtrapolatedSeconds: extrapolated })}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:drift wide case failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
