// Regression metrics of predicted values, under integer row weights so the paired bootstrap reuses them.
import type { Metrics } from './reports';
import type { MetricName } from './taskKind';

/** RMSE, MAE and R² under `weights` (all 1 when left out); R² is NaN when the labels do not vary. */
export function regressionMetrics(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights?: Uint32Array,
): Required<Pick<Metrics, 'rmse' | 'mae' | 'r2'>> {
  let total = 0;
  let sumY = 0;
  let squared = 0;
  let absolute = 0;
  for (let r = 0; r < labels.length; r++) {
    const w = weights ? weights[r]! : 1;
    if (w === 0) continue;
    const e = predicted[r]! - labels[r]!;
    total += w;
    sumY += w * labels[r]!;
    squared += w * e * e;
    absolute += w * Math.abs(e);
  }
  const mean = sumY / total;
  let spread = 0;
  for (let r = 0; r < labels.length; r++) {
    const w = weights ? weights[r]! : 1;
    spread += w * (labels[r]! - mean) ** 2;
  }
  return {
    rmse: Math.sqrt(squared / total),
    mae: absolute / total,
    r2: spread > 0 ? 1 - squared / spread : Number.NaN,
  };
}

export function regressionMetric(
  metric: MetricName,
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  weights: Uint32Array,
): number {
  const all: Metrics = regressionMetrics(predicted, labels, weights);
  const value = all[metric];
  if (value === undefined) throw new Error(`${metric} is not a regression metric`);
  return value;
}
