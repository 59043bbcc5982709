// A trainer's predictions for the holdout, per task (trainers/PROTOCOL.md "Predict config"), and what evaluation
// computes from them: overall and per-slice metrics, a weighted measure for the bootstrap, per-row correctness.
import { type WeightedMeasure, binaryMeasure } from './comparison';
import { classificationMetrics, sliceMetrics } from './metrics';
import { argmaxes, multiclassMetric, multiclassMetrics, perClassRecall } from './multiclassMetrics';
import { regressionMetric, regressionMetrics } from './regressionMetrics';
import type { Metrics, ModelEvaluation } from './reports';
import type { MetricName, TaskKind } from './taskKind';

export type Predictions =
  | { task: 'binary'; scores: Float64Array }
  | { task: 'multiclass'; classes: number; probabilities: Float64Array; predicted: Int32Array }
  | { task: 'regression'; values: Float64Array };

/**
 * Parses a predict output file: one line per row, P(1) (binary), `classes` comma-separated probabilities
 * (multiclass) or the predicted value (regression). Throws an Error naming the first bad line.
 */
export function parsePredictions(task: TaskKind, text: string, classes: number | undefined): Predictions {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const number = (cell: string, line: number) => {
    const v = Number(cell);
    if (cell.trim() === '' || !Number.isFinite(v)) throw new Error(`line ${line + 1}: "${cell}" is not a number`);
    return v;
  };
  if (task === 'multiclass') {
    const k = classes!;
    const probabilities = new Float64Array(lines.length * k);
    lines.forEach((l, i) => {
      const cells = l.split(',');
      if (cells.length !== k)
        throw new Error(`line ${i + 1}: ${cells.length} probabilities, expected one per class (${k})`);
      cells.forEach((c, j) => (probabilities[i * k + j] = number(c, i)));
    });
    const preds = { classes: k, probabilities };
    return { task, ...preds, predicted: argmaxes(preds) };
  }
  const values = Float64Array.from(lines, (l, i) => number(l, i));
  return task === 'binary' ? { task, scores: values } : { task, values };
}

export function predictionRows(p: Predictions): number {
  return p.task === 'binary' ? p.scores.length : p.task === 'regression' ? p.values.length : p.predicted.length;
}

function metricsOfRows(p: Predictions, labels: ArrayLike<number>, threshold: number, rows?: number[]): Metrics {
  if (!rows) {
    if (p.task === 'binary') return classificationMetrics(p.scores, labels, threshold);
    if (p.task === 'regression') return regressionMetrics(p.values, labels);
    return multiclassMetrics(p, p.predicted, labels);
  }
  const y = rows.map((r) => labels[r]!);
  if (p.task === 'binary')
    return classificationMetrics(
      Float64Array.from(rows, (r) => p.scores[r]!),
      y,
      threshold,
    );
  if (p.task === 'regression')
    return regressionMetrics(
      Float64Array.from(rows, (r) => p.values[r]!),
      y,
    );
  const k = p.classes;
  const probabilities = new Float64Array(rows.length * k);
  rows.forEach((r, i) => probabilities.set(p.probabilities.subarray(r * k, (r + 1) * k), i * k));
  return multiclassMetrics(
    { classes: k, probabilities },
    Int32Array.from(rows, (r) => p.predicted[r]!),
    y,
  );
}

/**
 * Overall and per-slice metrics. Slices come from `sliceValues` (a feature); a multiclass model without one is
 * sliced by its true class, with that class's recall.
 */
export function evaluatePredictions(
  p: Predictions,
  labels: ArrayLike<number>,
  options: { threshold: number; sliceValues: ArrayLike<string> | null; minSliceRows: number; maxSlices: number },
  version: number | null,
): ModelEvaluation {
  const { threshold, sliceValues, minSliceRows, maxSlices } = options;
  const slices = sliceValues
    ? sliceMetrics(sliceValues, minSliceRows, maxSlices, (rows) => metricsOfRows(p, labels, threshold, rows))
    : p.task === 'multiclass'
      ? perClassRecall(p.predicted, labels, p.classes)
      : [];
  return { version, overall: metricsOfRows(p, labels, threshold), slices };
}

/** `metric` of these predictions under bootstrap weights. */
export function weightedMeasure(
  p: Predictions,
  metric: MetricName,
  labels: ArrayLike<number>,
  threshold: number,
): WeightedMeasure {
  if (p.task === 'binary') return binaryMeasure(metric, p.scores, labels, threshold);
  if (p.task === 'regression') return (w) => regressionMetric(metric, p.values, labels, w);
  return (w) => multiclassMetric(metric, p, p.predicted, labels, w);
}

/** Whether each row is predicted right (binary at `threshold`, multiclass by the most probable class). */
export function correctness(p: Predictions, labels: ArrayLike<number>, threshold: number): boolean[] {
  if (p.task === 'regression') throw new Error('regression predictions are not right or wrong: use a bootstrap');
  if (p.task === 'binary') return Array.from(p.scores, (s, i) => s >= threshold === (labels[i] === 1));
  return Array.from(p.predicted, (k, i) => k === labels[i]);
}
