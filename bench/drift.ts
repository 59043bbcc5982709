// npm run bench:drift [-- --no-wide] — two cases, one run.
// 1. The drift battery on 1,000,000 rows of the real flights data, three tools: our TypeScript engine (core/drift),
//    Evidently's DataDriftPreset and the same battery in SciPy/NumPy. The feature frames are derived once here (the
//    demo model's features; the file read as a drift check reads a window, its categorical sources as dictionary
//    codes) and written to Parquet, so every tool sees identical data. Timings exclude file loading everywhere; each
//    tool runs once as a warm-up, then REPS timed runs, and the median counts. Printed: the timings, each feature's
//    verdict by all three tools, and how far our metrics are from SciPy's (relative).
// 2. The wide case (bench/driftWide.ts, a process of its own; skipped with --no-wide): 3,000,000 synthetic rows ×
//    1000 columns streamed through the window profile on worker threads; printed: its wall time, peak RSS, the
//    drifted columns missed and false alarms (the run fails on any), and Evidently on samples of the same data with
//    its time extrapolated to the full size (labelled "extrapolated").
// The last line is machine-readable:
//   RESULT rows_per_s=<our current-window rows/s> vs_evidently=<ours ÷ Evidently's rows/s> vs_scipy=<ours ÷ SciPy's>
//          wide_s=<wide case wall seconds> wide_rss_mib=<its peak RSS>   (the wide fields are "skipped" with --no-wide)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { readParquet } from '../adapters/datasetFiles';
import { loadModelConfigFile } from '../cli/models';
import { FLIGHTS_FILE } from '../cli/ingestFlights';
import {
  codedSources,
  detectDrift,
  type DriftReport,
  DriftSettings,
  featureFrame,
  profileReference,
  type ReferenceProfile,
} from '../core/drift';
import type { CodedCategories } from '../core/drift/categories';
import type { Columns } from '../core/features';
import { projectRoot } from '../stack/paths';
import { frameParquet, runBaselines, type ScipyFeature, type Stat } from './driftBaselines';

const REPS = 3;
const CURRENT_ROWS = 1_000_000;
const CURRENT_FROM_MONTH = 3; // 0-based UTC month: April 2001
const out = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 4) =>
  Number.isFinite(x)
    ? Math.abs(x) !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)
      ? x.toExponential(2)
      : x.toFixed(digits)
    : String(x);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** Warm-up, then `reps` timed runs of `fn`; seconds of each timed run and the last result. */
function timed<T>(fn: () => T, reps: number): { seconds: number[]; result: T } {
  let result = fn();
  const seconds: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    result = fn();
    seconds.push((performance.now() - t) / 1000);
  }
  return { seconds, result };
}

/** Rows [start, end) of the columns read, cells and codes. */
function sliceRows(read: { columns: Columns; coded: Record<string, CodedCategories> }, start: number, end: number) {
  return {
    columns: Object.fromEntries(Object.entries(read.columns).map(([k, v]) => [k, v.slice(start, end)])),
    coded: Object.fromEntries(
      Object.entries(read.coded).map(([k, v]) => [k, { ...v, codes: v.codes.subarray(start, end) }]),
    ),
  };
}

/** Every metric our engine reports per feature against SciPy's value of it: the largest relative differences. */
function compareAllMetrics(
  report: DriftReport,
  scipy: Record<string, ScipyFeature>,
): { statistics: number; pValues: number; count: number } {
  const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300));
  let statistics = 0;
  let pValues = 0;
  let count = 0;
  for (const f of report.features) {
    const s = scipy[f.name];
    if (!s) continue;
    const m = f.metrics;
    const pairs: [Stat | undefined, Stat | undefined][] = [
      [m.ks, s.ks],
      [m.chisquare, s.chisquare],
      [m.wassersteinNormed === undefined ? undefined : { statistic: m.wassersteinNormed }, s.wasserstein],
      [{ statistic: m.jensenshannon }, s.jensenshannon],
      [{ statistic: m.psi }, s.psi],
    ];
    for (const [ours, theirs] of pairs) {
      if (!ours || !theirs) continue;
      count++;
      statistics = Math.max(statistics, rel(ours.statistic, theirs.statistic));
      if (ours.pValue !== undefined && theirs.pValue !== undefined)
        pValues = Math.max(pValues, rel(ours.pValue, theirs.pValue));
    }
  }
  return { statistics, pValues, count };
}

/** Evidently's display names of the methods our engine shares with it. */
const EVIDENTLY_METHODS: Record<string, string> = {
  'Wasserstein distance (normed)': 'wasserstein',
  'Jensen-Shannon distance': 'jensenshannon',
  'K-S p_value': 'ks',
  'chi-square p_value': 'chisquare',
  'Z-test p_value': 'ztest',
  PSI: 'psi',
};

/** Runs bench/driftWide.ts in a process of its own (its peak RSS is then its own), passing its output through. */
async function wideCase(): Promise<{ seconds: number; rssMiB: number }> {
  out('');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'bench', 'driftWide.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('WIDE ')) last = line;
    else out(line);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0 || !last) throw new Error(`the wide case (bench/driftWide.ts) exited ${code}`);
  return JSON.parse(last.slice('WIDE '.length)) as { seconds: number; rssMiB: number };
}

async function main() {
  out(
    `bench:drift — drift battery on the flights data (${path.relative(projectRoot, FLIGHTS_FILE)}), demo features of models/flight-delay.yaml`,
  );
  const config = loadModelConfigFile(path.join(projectRoot, 'models', 'flight-delay.yaml'));
  const settings = DriftSettings.parse({});
  const sources = [...new Set(config.features.map((f) => f.source))];

  let t = performance.now();
  // As a drift check reads a window: the categorical sources as their dictionary codes.
  const read = await readParquet(await readFile(FLIGHTS_FILE), FLIGHTS_FILE, sources, codedSources(config));
  const { columns, rows } = read;
  const dates = columns[config.dataset.timeColumn ?? 'date']!;
  const month = (i: number) => new Date(dates[i] as number).getUTCMonth();
  let refEnd = 0;
  while (refEnd < rows && month(refEnd) === 0) refEnd++;
  let curStart = refEnd;
  while (curStart < rows && month(curStart) < CURRENT_FROM_MONTH) curStart++;
  const curEnd = Math.min(rows, curStart + CURRENT_ROWS);
  const ref = sliceRows(read, 0, refEnd);
  const cur = sliceRows(read, curStart, curEnd);
  const curRows = curEnd - curStart;
  const day = (i: number) => new Date(dates[i] as number).toISOString().slice(0, 10);
  out(`read ${int(rows)} rows in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed below)`);
  out(`reference: all of January 2001, ${int(refEnd)} rows (${day(0)} … ${day(refEnd - 1)})`);
  out(`current:   ${int(curRows)} rows from April 2001 on (${day(curStart)} … ${day(curEnd - 1)})`);
  out(`features:  ${config.features.map((f) => `${f.name} (${f.type})`).join(', ')}; drift settings: defaults`);

  // The frames every tool sees: derived once by the engine, written to Parquet for the Python side.
  const refFrame = featureFrame(config, ref.columns, 'the reference', ref.coded);
  const curFrame = featureFrame(config, cur.columns, 'the current window', cur.coded);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-bench-drift-'));
  try {
    t = performance.now();
    const refFile = path.join(dir, 'reference.parquet');
    const curFile = path.join(dir, 'current.parquet');
    await writeFile(refFile, frameParquet(refFrame));
    await writeFile(curFile, frameParquet(curFrame));
    out(
      `wrote both feature frames to Parquet for the baselines in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed below)`,
    );

    out(`\nours: warm-up + ${REPS} timed runs`);
    const profiled = timed(
      () => profileReference(featureFrame(config, ref.columns, 'the reference', ref.coded), settings),
      REPS,
    );
    const profile: ReferenceProfile = profiled.result;
    const checked = timed(
      () => detectDrift(profile, featureFrame(config, cur.columns, 'the current window', cur.coded), settings),
      REPS,
    );
    const report = checked.result;

    const baselines = await runBaselines(refFile, curFile, curFrame, { reps: REPS });
    if (baselines.rows.current !== curRows || baselines.rows.reference !== refEnd)
      throw new Error(`the baselines read ${JSON.stringify(baselines.rows)}, expected ${refEnd}/${curRows} rows`);

    // ---- timings
    const ourS = median(checked.seconds);
    const profileS = median(profiled.seconds);
    const ourRate = curRows / ourS;
    type Row = { tool: string; seconds: number[] | null; error?: string };
    const ev = baselines.tools.evidently;
    const sp = baselines.tools.scipy;
    const rowsOf: Row[] = [
      { tool: 'ours: check (featureFrame + detectDrift)', seconds: checked.seconds },
      {
        tool: `Evidently ${baselines.versions.evidently} DataDriftPreset`,
        seconds: ev && 'seconds' in ev ? ev.seconds : null,
        error: ev && 'error' in ev ? ev.error : 'not run',
      },
      {
        tool: `SciPy ${baselines.versions.scipy} same battery`,
        seconds: sp && 'seconds' in sp ? sp.seconds : null,
        error: sp && 'error' in sp ? sp.error : 'not run',
      },
    ];
    out(
      `\ntimings on ${int(curRows)} current rows × ${config.features.length} features, median of ${REPS} runs after a warm-up, computation only (file loading excluded)`,
    );
    out(`${'tool'.padEnd(44)} ${'median s'.padStart(9)} ${'rows/s'.padStart(12)}   runs s`);
    const rates: Record<string, number> = {};
    for (const r of rowsOf) {
      if (!r.seconds) {
        out(`${r.tool.padEnd(44)} FAILED: ${r.error}`);
        continue;
      }
      const m = median(r.seconds);
      rates[r.tool] = curRows / m;
      out(
        `${r.tool.padEnd(44)} ${m.toFixed(3).padStart(9)} ${int(curRows / m).padStart(12)}   ${r.seconds.map((s) => s.toFixed(3)).join(' ')}`,
      );
    }
    out(
      `${'ours: reference profile (once per champion)'.padEnd(44)} ${profileS.toFixed(3).padStart(9)} ${int(refEnd / profileS).padStart(12)}   ${profiled.seconds.map((s) => s.toFixed(3)).join(' ')}   (${int(refEnd)} reference rows)`,
    );
    out(
      `(ours includes deriving the features from the raw columns; the baselines get the derived frames. Evidently and SciPy`,
    );
    out(
      ` process the reference on every call, ours reads its stored profile: see "with profiling" below for that cost added.)`,
    );

    // ---- agreement
    out(`\nper-feature verdicts (method, statistic, drifted?):`);
    out(`${'feature'.padEnd(12)} ${'ours'.padEnd(34)} ${'SciPy, same method'.padEnd(34)} Evidently`);
    const spFeatures = sp && 'features' in sp ? sp.features : {};
    const evFeatures = ev && 'features' in ev ? ev.features : {};
    const drifted = { ours: [] as string[], scipy: [] as string[], evidently: [] as string[] };
    let maxRel = 0;
    let maxRelEvidently = 0;
    let sameMethodAsEvidently = 0;
    for (const f of report.features) {
      const s = spFeatures[f.name]?.[f.method];
      const pValueMethod = f.pValue !== null && f.pValue !== undefined;
      const sValue = s ? (pValueMethod ? s.pValue! : s.statistic) : Number.NaN;
      const sDrift = s ? (pValueMethod ? sValue < f.threshold : sValue >= f.threshold) : false;
      const e = evFeatures[f.name];
      if (f.drifted) drifted.ours.push(f.name);
      if (sDrift) drifted.scipy.push(f.name);
      if (e?.drifted) drifted.evidently.push(f.name);
      const ours = pValueMethod ? f.pValue! : f.statistic;
      if (s) maxRel = Math.max(maxRel, Math.abs(ours - sValue) / Math.max(Math.abs(sValue), 1e-12));
      if (e && EVIDENTLY_METHODS[e.method] === f.method) {
        sameMethodAsEvidently++;
        maxRelEvidently = Math.max(
          maxRelEvidently,
          Math.abs(ours - e.statistic) / Math.max(Math.abs(e.statistic), 1e-12),
        );
      }
      const cell = (m: string, v: number, d: boolean) => `${m} ${fmt(v)} ${d ? 'DRIFT' : 'ok'}`.padEnd(34);
      out(
        `${f.name.padEnd(12)} ${cell(f.method, ours, f.drifted)} ${s ? cell(f.method, sValue, sDrift) : 'n/a'.padEnd(34)} ${e ? `${e.method} ${fmt(e.statistic)} ${e.drifted ? 'DRIFT' : 'ok'}` : 'n/a'}`,
      );
    }
    const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');
    const agree = list(drifted.ours) === list(drifted.scipy) && list(drifted.ours) === list(drifted.evidently);
    out(
      `drifted features — ours: ${list(drifted.ours)}; SciPy: ${list(drifted.scipy)}; Evidently: ${list(drifted.evidently)} → ${agree ? 'all three agree' : 'DISAGREE'}`,
    );
    out(
      `dataset drift — ours: ${report.datasetDrift} (share ${fmt(report.driftedShare, 2)}); Evidently: ${ev && 'dataset' in ev && ev.dataset ? `${ev.dataset.share >= ev.dataset.driftShare} (share ${fmt(ev.dataset.share, 2)})` : 'n/a'}`,
    );
    const all = compareAllMetrics(report, spFeatures);
    out(
      `ours vs SciPy, largest relative difference: deciding values ${fmt(maxRel)}; all ${all.count} statistics (KS, normed Wasserstein, PSI, Jensen-Shannon, chi-squared) ${fmt(all.statistics)}; p-values ${fmt(all.pValues)}`,
    );
    out(
      `ours vs Evidently: same method on ${sameMethodAsEvidently} of ${report.features.length} features, largest relative difference of the deciding values ${fmt(maxRelEvidently)}`,
    );

    // ---- ratios
    const evRate = rates[rowsOf[1]!.tool] ?? Number.NaN;
    const spRate = rates[rowsOf[2]!.tool] ?? Number.NaN;
    const withProfile = curRows / (ourS + profileS);
    out(
      `\nours ${int(ourRate)} rows/s vs Evidently ${int(evRate)} → ${fmt(ourRate / evRate, 2)}x; vs SciPy ${int(spRate)} → ${fmt(ourRate / spRate, 2)}x`,
    );
    out(
      `with profiling the reference on every check too (${int(withProfile)} rows/s): ${fmt(withProfile / evRate, 2)}x Evidently, ${fmt(withProfile / spRate, 2)}x SciPy`,
    );
    out(
      `(${os.cpus().length}-core ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, Python ${baselines.versions.python}, numpy ${baselines.versions.numpy}, pandas ${baselines.versions.pandas})`,
    );
    const wide = process.argv.includes('--no-wide') ? null : await wideCase();
    out(
      `RESULT rows_per_s=${Math.round(ourRate)} vs_evidently=${(ourRate / evRate).toFixed(2)} vs_scipy=${(ourRate / spRate).toFixed(2)} ` +
        `wide_s=${wide ? wide.seconds.toFixed(1) : 'skipped'} wide_rss_mib=${wide ? Math.round(wide.rssMiB) : 'skipped'}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:drift failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
