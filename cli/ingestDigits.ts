// Puts the digits example's data (scikit-learn's bundled 8×8 digits, no download) into S3 as one Parquet file per
// month: trainers/digits/dataset.py writes them (a clean January, a drifted February); this uploads them.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ObjectStore } from '../adapters/objectStore';
import { projectRoot, requireTool } from '../stack/paths';

export const DIGITS_SCRIPT = path.join(projectRoot, 'trainers', 'digits', 'dataset.py');
export const digitsMonthKey = (month: string) => `datasets/digits/${month}.parquet`;
export const DIGITS_MONTHS = ['2026-01', '2026-02'];

/** Writes the monthly windows that are not in S3 yet; returns their keys in time order. */
export async function ingestDigits(
  store: ObjectStore,
  onProgress: (msg: string) => void = () => {},
): Promise<string[]> {
  const keyList = DIGITS_MONTHS.map(digitsMonthKey);
  const present = await Promise.all(keyList.map((k) => store.exists(k)));
  if (present.every(Boolean)) return keyList;
  const dir = await mkdtemp(path.join(tmpdir(), 'ct-digits-'));
  try {
    onProgress(`writing scikit-learn's digits as monthly windows (${path.relative(projectRoot, DIGITS_SCRIPT)})`);
    await promisify(execFile)(requireTool('python'), [DIGITS_SCRIPT, '--out', dir]);
    for (const [i, month] of DIGITS_MONTHS.entries()) {
      if (present[i]) continue;
      await store.put(keyList[i]!, await readFile(path.join(dir, `${month}.parquet`)));
      onProgress(`stored ${store.uri(keyList[i]!)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return keyList;
}
