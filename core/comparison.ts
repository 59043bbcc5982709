// Champion/challenger comparison on the same holdout as statistics, not point estimates:
// a seeded paired bootstrap confidence interval of the metric difference, or McNemar's test for accuracy.
import { seededRandom } from './split';
import { type MetricName, isLowerBetter } from './taskKind';

export interface Comparison {
  method: 'bootstrap' | 'mcnemar';
  metric: MetricName;
  /** Improvement of the candidate over the champion, direction-aware (positive = better). */
  estimate: number;
  lower: number | null;
  upper: number | null;
  confidence: number;
  pValue: number | null;
  resamples: number | null;
  /** McNemar's discordant pairs: candidate right & champion wrong (b), the reverse (c). */
  discordant: { candidateOnly: number; championOnly: number } | null;
}

/** A metric of (scores, labels) under integer row weights (bootstrap counts), in O(n) given `order` (rows by ascending score). */
export function weightedMetric(
  metric: MetricName,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: Uint32Array,
  order: Uint32Array,
  threshold: number,
): number {
  const n = scores.length;
  if (metric === 'rocAuc') {
    let negBelow = 0;
    let pos = 0;
    let neg = 0;
    let area = 0;
    for (let i = 0; i < n;) {
      let j = i;
      let tiePos = 0;
      let tieNeg = 0;
      const s = scores[order[i]!]!;
      while (j < n && scores[order[j]!] === s) {
        const r = order[j]!;
        if (labels[r] === 1) tiePos += weights[r]!;
        else tieNeg += weights[r]!;
        j++;
      }
      area += tiePos * (negBelow + tieNeg / 2);
      negBelow += tieNeg;
      pos += tiePos;
      neg += tieNeg;
      i = j;
    }
    return pos === 0 || neg === 0 ? Number.NaN : area / (pos * neg);
  }
  let total = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const w = weights[r]!;
    if (w === 0) continue;
    total += w;
    const y = labels[r] === 1;
    const p = Math.min(1 - 1e-15, Math.max(1e-15, scores[r]!));
    loss -= w * (y ? Math.log(p) : Math.log(1 - p));
    const predicted = scores[r]! >= threshold;
    if (predicted === y) correct += w;
    if (predicted && y) tp += w;
    else if (predicted) fp += w;
    else if (y) fn += w;
  }
  switch (metric) {
    case 'logLoss':
      return loss / total;
    case 'accuracy':
      return correct / total;
    case 'precision':
      return tp + fp === 0 ? 0 : tp / (tp + fp);
    case 'recall':
      return tp + fn === 0 ? 0 : tp / (tp + fn);
    default:
      throw new Error(`${metric} is not a binary-classification metric`);
  }
}

/** A metric of one model's predictions under integer row weights (bootstrap counts). */
export type WeightedMeasure = (weights: Uint32Array) => number;

/** The binary `metric` of `scores` as a WeightedMeasure (rows sorted once, for ROC AUC). */
export function binaryMeasure(
  metric: MetricName,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
): WeightedMeasure {
  const order = sortOrder(scores);
  return (weights) => weightedMetric(metric, scores, labels, weights, order, threshold);
}

export function sortOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[a]! - scores[b]!);
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Paired bootstrap: both models are scored on the same resampled rows; percentile interval of the improvement. */
export function pairedBootstrap(
  metric: MetricName,
  candidate: WeightedMeasure,
  champion: WeightedMeasure,
  rows: number,
  options: { resamples: number; confidence: number; seed: number },
): Comparison {
  const n = rows;
  const sign = isLowerBetter(metric) ? -1 : 1;
  const ones = new Uint32Array(n).fill(1);
  // `+ 0` turns -0 (a lower-is-better metric with no difference) into 0.
  const estimate = sign * (candidate(ones) - champion(ones)) + 0;
  const rand = seededRandom(options.seed);
  const weights = new Uint32Array(n);
  const diffs: number[] = [];
  for (let b = 0; b < options.resamples; b++) {
    weights.fill(0);
    for (let i = 0; i < n; i++) weights[Math.floor(rand() * n)]!++;
    const d = sign * (candidate(weights) - champion(weights)) + 0;
    if (Number.isFinite(d)) diffs.push(d);
  }
  diffs.sort((a, b) => a - b);
  const alpha = 1 - options.confidence;
  return {
    method: 'bootstrap',
    metric,
    estimate,
    lower: diffs.length ? quantile(diffs, alpha / 2) : null,
    upper: diffs.length ? quantile(diffs, 1 - alpha / 2) : null,
    confidence: options.confidence,
    pValue: null,
    resamples: options.resamples,
    discordant: null,
  };
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9): ~15 significant digits for x > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Two-sided exact binomial p-value of k successes out of n at p = 1/2 (McNemar's exact test). */
export function exactMcNemarPValue(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  const logHalfN = n * Math.log(0.5);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1) + logHalfN);
  return Math.min(1, 2 * tail);
}

/** McNemar's test on per-example correctness: do the models err on different rows more than chance allows? */
export function mcNemar(
  candidateCorrect: ArrayLike<boolean>,
  championCorrect: ArrayLike<boolean>,
  confidence: number,
): Comparison {
  let candidateOnly = 0;
  let championOnly = 0;
  for (let i = 0; i < candidateCorrect.length; i++) {
    const a = candidateCorrect[i]!;
    const b = championCorrect[i]!;
    if (a && !b) candidateOnly++;
    else if (b && !a) championOnly++;
  }
  return {
    method: 'mcnemar',
    metric: 'accuracy',
    estimate: (candidateOnly - championOnly) / candidateCorrect.length,
    lower: null,
    upper: null,
    confidence,
    pValue: exactMcNemarPValue(candidateOnly, championOnly),
    resamples: null,
    discordant: { candidateOnly, championOnly },
  };
}
