// From per-feature decisions to the dataset verdict: multiple-testing correction of the p-value tests and
// the share of drifted features.
import type { DriftCorrection } from './settings';

/**
 * Adjusted p-values, in input order. bonferroni: min(1, p·m). benjamini-hochberg: the step-up adjustment
 * min over j ≥ rank of (m / j)·p_(j), capped at 1 (statsmodels' fdr_bh). m = the number of p-values.
 */
export function adjustPValues(pValues: readonly number[], correction: DriftCorrection): number[] {
  const m = pValues.length;
  if (correction === 'none' || m === 0) return [...pValues];
  if (correction === 'bonferroni') return pValues.map((p) => Math.min(1, p * m));
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const [p, i] = order[r]!;
    running = Math.min(running, (p * m) / (r + 1));
    adjusted[i] = running;
  }
  return adjusted;
}

export interface DatasetVerdict {
  datasetDrift: boolean;
  driftedShare: number;
}

/** Dataset drift when drifted / all features reaches `fraction`. */
export function datasetVerdict(drifted: number, features: number, fraction: number): DatasetVerdict {
  const driftedShare = features === 0 ? 0 : drifted / features;
  return { datasetDrift: features > 0 && driftedShare >= fraction, driftedShare };
}
