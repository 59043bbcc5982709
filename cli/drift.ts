// `ct drift`: compares a current data file with a reference file offline (no Temporal), by a model's features
// and drift settings or, without a model, every column of the reference.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ObjectNotFoundError, ObjectStore } from '../adapters/objectStore';
import { readCsv, readParquet, UnreadableDatasetError } from '../adapters/datasetFiles';
import { parseNumber } from '../core/csv';
import { csvProblem, parseCsvText } from '../adapters/csvFiles';
import {
  columnsFrame,
  detectDrift,
  type DriftReport,
  DriftSettings,
  type FeatureFrame,
  featureFrame,
  profileReference,
} from '../core/drift';
import type { Columns } from '../core/features';
import type { ColumnType, ModelConfig } from '../core/modelConfig';
import { InvalidInputError } from '../core/parse';
import { withObjectStore } from './localStack';
import { loadModelConfigFile } from './models';

export interface DriftOptions {
  reference?: string;
  current?: string;
  model?: string;
  json?: boolean;
}

async function readBytes(location: string, flag: string): Promise<Uint8Array> {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (s3) {
    const [, bucket, key] = s3 as unknown as [string, string, string];
    return withObjectStore(async (configured) => {
      const store =
        bucket === configured.bucket ? configured : new ObjectStore(configured.client, bucket, `s3://${bucket}`);
      try {
        return await store.getBytes(key);
      } catch (err) {
        if (err instanceof ObjectNotFoundError) throw new InvalidInputError(flag, [`${location}: no such object`]);
        throw err;
      }
    });
  }
  try {
    return readFileSync(location);
  } catch (err) {
    throw new InvalidInputError(flag, [
      `cannot read ${location}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    ]);
  }
}

/** Column types of a CSV without a model: numbers where every non-empty cell is one, booleans likewise, else strings. */
function inferCsvTypes(bytes: Uint8Array, location: string): Record<string, ColumnType> {
  let parsed: ReturnType<typeof parseCsvText>;
  try {
    parsed = parseCsvText(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new UnreadableDatasetError(`${location} is not readable CSV: ${csvProblem(err)}`);
  }
  const { header, rows } = parsed;
  return Object.fromEntries(
    header.map((name, c) => {
      const cells = rows.map((r) => r[c]!).filter((v) => v !== '');
      const type: ColumnType =
        cells.length > 0 && cells.every((v) => parseNumber(v) !== undefined)
          ? 'number'
          : cells.length > 0 && cells.every((v) => v === 'true' || v === 'false')
            ? 'boolean'
            : 'string';
      return [name, type];
    }),
  );
}

interface Table {
  columns: Columns;
  types: Record<string, ColumnType>;
  /** how errors name this file: "--current jun.csv" */
  what: string;
}

/** Reads one file; an empty one (no rows, a header-only CSV or a Parquet file without rows) is bad input. */
async function readTable(
  location: string,
  flag: string,
  window: string,
  types: Record<string, ColumnType> | undefined,
): Promise<Table> {
  const bytes = await readBytes(location, flag);
  const ext = path.extname(location.replace(/^s3:\/\//, '')).toLowerCase();
  const what = `${flag} ${location}`;
  let table: { columns: Columns; rows: number; types: Record<string, ColumnType> };
  try {
    if (ext === '.parquet') {
      const parquet = await readParquet(bytes, location);
      table = { ...parquet, types: types ?? parquet.types };
    } else if (ext === '.csv') {
      const csvTypes = types ?? inferCsvTypes(bytes, location);
      table = { ...readCsv(bytes, location, csvTypes), types: csvTypes };
    } else throw new InvalidInputError(flag, [`${location}: expected a .parquet or .csv file`]);
  } catch (err) {
    if (err instanceof UnreadableDatasetError) throw new InvalidInputError(flag, [err.message]);
    throw err;
  }
  if (table.rows === 0) throw new InvalidInputError(what, [`${window} has no rows`]);
  return { columns: table.columns, types: table.types, what };
}

/** Reads both files, profiles the reference and checks the current window against it. */
export async function runDriftCheck(opts: DriftOptions): Promise<DriftReport> {
  const problems = [
    !opts.reference && '--reference <file|s3://bucket/key> is required',
    !opts.current && '--current <file|s3://bucket/key> is required',
  ].filter((p): p is string => Boolean(p));
  if (problems.length > 0) throw new InvalidInputError('ct drift', problems);
  const config: ModelConfig | undefined = opts.model ? loadModelConfigFile(opts.model) : undefined;
  const declared = config && Object.fromEntries(Object.entries(config.dataset.columns).map(([k, v]) => [k, v.type]));
  const reference = await readTable(opts.reference!, '--reference', 'reference', declared);
  const current = await readTable(opts.current!, '--current', 'current window', declared ?? reference.types);
  const settings = config?.drift ?? DriftSettings.parse({});
  let refFrame: FeatureFrame;
  let curFrame: FeatureFrame;
  if (config) {
    refFrame = featureFrame(config, reference.columns, reference.what);
    curFrame = featureFrame(config, current.columns, current.what);
  } else {
    refFrame = columnsFrame(reference.columns, undefined, reference.what);
    const kinds = Object.fromEntries(refFrame.map((c) => [c.name, c.kind]));
    curFrame = columnsFrame(
      Object.fromEntries(Object.entries(current.columns).filter(([name]) => name in kinds)),
      kinds,
      current.what,
    );
  }
  return detectDrift(profileReference(refFrame, settings), curFrame, settings);
}

/** Small shares keep two significant digits (0.03%), larger ones one decimal (12.5%). */
const percent = (share: number): string =>
  `${share > 0 && share < 0.001 ? (100 * share).toPrecision(2) : (100 * share).toFixed(1)}%`;
const fmt = (v: number | null): string =>
  v === null ? '-' : Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2);

export function formatDriftReport(r: DriftReport): string {
  const rows = r.features.map((f) => {
    const notes = [
      f.pValue !== null
        ? `p ${fmt(f.pValue)}${f.adjustedPValue !== f.pValue ? ` (adjusted ${fmt(f.adjustedPValue)})` : ''}`
        : '',
      f.thresholdSource !== 'fixed' ? `${f.thresholdSource} threshold` : '',
      f.missingRateDrifted
        ? `missing ${(100 * f.missingRate.reference).toFixed(1)}% → ${(100 * f.missingRate.current).toFixed(1)}%`
        : '',
      f.nonFiniteRate && (f.nonFiniteRate.reference > 0 || f.nonFiniteRate.current > 0)
        ? `±Infinity ${percent(f.nonFiniteRate.reference)} → ${percent(f.nonFiniteRate.current)} (left out)`
        : '',
      f.unseenCategories && f.unseenCategories.count > 0
        ? `${f.unseenCategories.count} unseen categories (${percent(f.unseenCategories.share)} of rows: ${f.unseenCategories.examples.join(', ')})`
        : '',
    ].filter(Boolean);
    return [f.name, f.kind, f.method, fmt(f.statistic), fmt(f.threshold), f.drifted ? 'DRIFT' : 'no', notes.join('; ')];
  });
  const table = [['feature', 'kind', 'method', 'statistic', 'threshold', 'drifted', 'notes'], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  const share = `${r.driftedFeatures.length} of ${r.features.length} features drifted (${(100 * r.driftedShare).toFixed(0)}%, dataset drift at ≥ ${(100 * r.fraction).toFixed(0)}%)`;
  lines.push(
    '',
    `${r.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'}: ${share}; reference ${r.referenceRows} rows, current ${r.currentRows} rows, correction ${r.correction}`,
  );
  return lines.join('\n');
}

/** `ct drift`: prints the table (or --json) and returns the exit code: 0 no drift, 3 dataset drift. */
export async function driftCommand(opts: DriftOptions, print: (s: string) => void): Promise<number> {
  const report = await runDriftCheck(opts);
  print(opts.json ? JSON.stringify(report, null, 2) : formatDriftReport(report));
  return report.datasetDrift ? 3 : 0;
}
