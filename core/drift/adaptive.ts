// Adaptive thresholds (drift.adaptive): how far do pieces of the reference itself stray from the whole?
// The reference is cut into `chunks` contiguous pieces in row order (the training split is in time order, so
// the chunks carry its natural week-to-week variation); each piece is compared with the whole reference by the
// feature's distance method, and the threshold is mean + k·std (population std) of those distances.
// p-value methods keep their fixed threshold: their scale already accounts for sample size.
import { categoryCounts, sliceCategorical } from './categories';
import { featureMetrics, methodValue } from './compare';
import { columnRows, type FeatureColumn } from './frame';
import { defaultMethod } from './methods';
import type { FeatureProfile } from './profile';
import { type DriftMethod, type DriftSettings, isPValueMethod } from './settings';

export interface AdaptiveThreshold {
  method: DriftMethod;
  threshold: number;
  mean: number;
  std: number;
  chunks: number;
}

function sliceColumn(col: FeatureColumn, start: number, end: number): FeatureColumn {
  return col.kind === 'numeric'
    ? { ...col, values: col.values.subarray(start, end) }
    : sliceCategorical(col, start, end);
}

/** The calibrated threshold of one feature, or undefined for p-value methods (and references too small to cut). */
export function calibrateFeature(
  profile: FeatureProfile,
  col: FeatureColumn,
  rows: number,
  settings: DriftSettings,
): AdaptiveThreshold | undefined {
  const unique = profile.kind === 'numeric' ? profile.distinct : profile.categories.length;
  const method = settings.features[profile.name]?.method ?? defaultMethod(profile.kind, rows, unique);
  const chunks = settings.adaptive.chunks;
  const length = columnRows(col);
  if (isPValueMethod(method) || length < chunks) return undefined;
  const distances: number[] = [];
  for (let c = 0; c < chunks; c++) {
    const start = Math.floor((c * length) / chunks);
    const end = Math.floor(((c + 1) * length) / chunks);
    const piece = sliceColumn(col, start, end);
    const present =
      piece.kind === 'numeric' ? piece.values.some((v) => Number.isFinite(v)) : categoryCounts(piece).counts.size > 0;
    if (!present) continue;
    const value = methodValue(method, featureMetrics(profile, piece, settings));
    if (value) distances.push(value.statistic);
  }
  if (distances.length === 0) return undefined;
  const mean = distances.reduce((s, d) => s + d, 0) / distances.length;
  const std = Math.sqrt(distances.reduce((s, d) => s + (d - mean) ** 2, 0) / distances.length);
  return { method, threshold: mean + settings.adaptive.k * std, mean, std, chunks };
}
