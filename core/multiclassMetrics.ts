// Multiclass metrics from per-class probabilities (row-major, `classes` per row), under integer row weights so the
// paired bootstrap reuses them; plain metrics are the weights all 1.
import type { Metrics } from './reports';
import type { MetricName } from './taskKind';

const EPS = 1e-15;

export interface ClassProbabilities {
  classes: number;
  /** rows × classes, row-major. */
  probabilities: Float64Array;
}

/** The most probable class of each row (the lowest index on ties). */
export function argmaxes({ classes, probabilities }: ClassProbabilities): Int32Array {
  const rows = probabilities.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (probabilities[r * classes + k]! > probabilities[r * classes + best]!) best = k;
    out[r] = best;
  }
  return out;
}

/** All multiclass metrics under `weights`: accuracy, log loss, macro recall and macro F1 (over classes present). */
export function multiclassMetrics(
  preds: ClassProbabilities,
  predicted: Int32Array,
  labels: ArrayLike<number>,
  weights?: Uint32Array,
): Required<Pick<Metrics, 'accuracy' | 'logLoss' | 'recall' | 'macroF1'>> {
  const { classes, probabilities } = preds;
  const support = new Float64Array(classes);
  const predictedCount = new Float64Array(classes);
  const truePositives = new Float64Array(classes);
  let total = 0;
  let correct = 0;
  let loss = 0;
  for (let r = 0; r < predicted.length; r++) {
    const w = weights ? weights[r]! : 1;
    if (w === 0) continue;
    const y = labels[r]!;
    const p = predicted[r]!;
    total += w;
    support[y]! += w;
    predictedCount[p]! += w;
    if (p === y) {
      correct += w;
      truePositives[y]! += w;
    }
    loss -= w * Math.log(Math.min(1 - EPS, Math.max(EPS, probabilities[r * classes + y]!)));
  }
  let recallSum = 0;
  let recallClasses = 0;
  let f1Sum = 0;
  let f1Classes = 0;
  for (let k = 0; k < classes; k++) {
    if (support[k]! > 0) {
      recallSum += truePositives[k]! / support[k]!;
      recallClasses++;
    }
    if (support[k]! > 0 || predictedCount[k]! > 0) {
      // F1 = 2·TP / (2·TP + FP + FN) = 2·TP / (predicted + support).
      f1Sum += (2 * truePositives[k]!) / (predictedCount[k]! + support[k]!);
      f1Classes++;
    }
  }
  return {
    accuracy: correct / total,
    logLoss: loss / total,
    recall: recallSum / recallClasses,
    macroF1: f1Sum / f1Classes,
  };
}

/** One multiclass metric under weights, for the bootstrap. */
export function multiclassMetric(
  metric: MetricName,
  preds: ClassProbabilities,
  predicted: Int32Array,
  labels: ArrayLike<number>,
  weights: Uint32Array,
): number {
  const all: Metrics = multiclassMetrics(preds, predicted, labels, weights);
  const value = all[metric];
  if (value === undefined) throw new Error(`${metric} is not a multiclass metric`);
  return value;
}

/** Recall of each class that occurs in `labels`: the per-class slices of a multiclass evaluation. */
export function perClassRecall(
  predicted: Int32Array,
  labels: ArrayLike<number>,
  classes: number,
): { value: string; rows: number; metrics: Metrics }[] {
  const rows = new Array<number>(classes).fill(0);
  const hits = new Array<number>(classes).fill(0);
  for (let r = 0; r < predicted.length; r++) {
    rows[labels[r]!]!++;
    if (predicted[r] === labels[r]) hits[labels[r]!]!++;
  }
  return rows.flatMap((n, k) => (n > 0 ? [{ value: String(k), rows: n, metrics: { recall: hits[k]! / n } }] : []));
}
