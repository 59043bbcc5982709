// Binary-classification metrics on one holdout: pure functions of (scores, labels); slices for every task.
import type { Metrics } from './reports';

/** ROC AUC by the rank-sum (Mann-Whitney U) formula, with tied scores given their average rank. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSumPositives = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSumPositives += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const EPS = 1e-15;

export function logLoss(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = Math.min(1 - EPS, Math.max(EPS, scores[i]!));
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / scores.length;
}

/** All metrics the gate knows, precision/recall/accuracy at `threshold` (score >= threshold is positive). */
export function classificationMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): Metrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i]! >= threshold;
    const actual = labels[i] === 1;
    if (predicted && actual) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
    else tn++;
  }
  return {
    rocAuc: rocAuc(scores, labels),
    logLoss: logLoss(scores, labels),
    accuracy: (tp + tn) / Math.max(1, scores.length),
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
  };
}

/** Metrics per value of a slice column, for the `maxSlices` most frequent values with at least `minRows` rows. */
export function sliceMetrics(
  sliceValues: ArrayLike<string>,
  minRows: number,
  maxSlices: number,
  metricsOf: (rows: number[]) => Metrics,
): { value: string; rows: number; metrics: Metrics }[] {
  const rowsBySlice = new Map<string, number[]>();
  for (let i = 0; i < sliceValues.length; i++) {
    const v = sliceValues[i]!;
    const rows = rowsBySlice.get(v);
    if (rows) rows.push(i);
    else rowsBySlice.set(v, [i]);
  }
  return [...rowsBySlice.entries()]
    .filter(([, rows]) => rows.length >= minRows)
    .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxSlices)
    .map(([value, rows]) => ({ value, rows: rows.length, metrics: metricsOf(rows) }));
}
