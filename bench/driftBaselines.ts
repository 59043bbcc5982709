// The Python side of bench:drift from TypeScript: feature frames written to Parquet for the baselines, and
// bench/drift_baselines.py (Evidently's DataDriftPreset, the SciPy battery) run on them, its JSON line read back.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type ParquetColumn, writeParquet } from '../adapters/datasetFiles';
import type { FeatureFrame } from '../core/drift';
import { categoryStrings } from '../core/drift/categories';
import { projectRoot } from '../stack/paths';

const python = path.join(projectRoot, '.ct', 'tools', 'bench-venv', 'bin', 'python');

export type Stat = { statistic: number; pValue?: number };
export type ScipyFeature = Record<string, Stat>;
export type EvidentlyFeature = { method: string; statistic: number; threshold: number; drifted: boolean };
export type ToolResult<F> =
  | { seconds: number[]; features: Record<string, F>; dataset?: { count: number; share: number; driftShare: number } }
  | { error: string };
export interface Baselines {
  rows: { reference: number; current: number };
  tools: { evidently?: ToolResult<EvidentlyFeature>; scipy?: ToolResult<ScipyFeature> };
  versions: Record<string, string>;
}

export function frameParquet(frame: FeatureFrame): Uint8Array {
  return writeParquet(
    frame.map((c): ParquetColumn =>
      c.kind === 'numeric'
        ? { name: c.name, type: 'DOUBLE', data: Array.from(c.values, (v) => (Number.isNaN(v) ? null : v)) }
        : { name: c.name, type: 'STRING', data: categoryStrings(c).map((v) => (v === '' ? null : v)) },
    ),
  );
}

/** Runs drift_baselines.py on two Parquet files of `frame`'s columns; `reps` timed runs after `warmup` ones. */
export async function runBaselines(
  refFile: string,
  curFile: string,
  frame: FeatureFrame,
  options: { reps: number; warmup?: number; tools?: string[] },
): Promise<Baselines> {
  if (!existsSync(python)) throw new Error(`${python} is missing: run bash bench/install.sh`);
  const numeric = frame.filter((c) => c.kind === 'numeric').map((c) => c.name);
  const categorical = frame.filter((c) => c.kind === 'categorical').map((c) => c.name);
  const args = [
    path.join(projectRoot, 'bench', 'drift_baselines.py'),
    refFile,
    curFile,
    '--numeric',
    numeric.join(','),
    '--categorical',
    categorical.join(','),
    '--reps',
    String(options.reps),
    '--warmup',
    String(options.warmup ?? 1),
    ...(options.tools ? ['--tools', options.tools.join(',')] : []),
  ];
  const child = execFile(python, args, { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, DO_NOT_TRACK: '1' } });
  child.stderr?.pipe(process.stderr);
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`drift_baselines.py exited ${code}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Baselines;
}
