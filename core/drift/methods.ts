// Which test decides a feature: Evidently's defaults, overridable per feature.
import type { FeatureKind } from './frame';
import { type DriftMethod, type FeatureDriftOverride, isPValueMethod } from './settings';

/** Evidently's cut-off between "small" references (statistical tests) and large ones (distances). */
export const SMALL_REFERENCE_ROWS = 1000;
/** Numeric features with at most this many distinct values are treated like categories. */
export const FEW_VALUES = 5;

export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = {
  ks: 0.05,
  chisquare: 0.05,
  ztest: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
};

/**
 * Evidently's default test: reference ≤ 1000 rows: numeric with > 5 distinct values → KS, else chi-squared;
 * categorical → z-test when binary (exactly two categories over both windows), else chi-squared.
 * Larger references: numeric with > 5 distinct values → normed Wasserstein; the rest → Jensen–Shannon.
 */
export function defaultMethod(kind: FeatureKind, referenceRows: number, uniqueValues: number): DriftMethod {
  const small = referenceRows <= SMALL_REFERENCE_ROWS;
  if (kind === 'numeric' && uniqueValues > FEW_VALUES) return small ? 'ks' : 'wasserstein';
  if (!small) return 'jensenshannon';
  return kind === 'categorical' && uniqueValues === 2 ? 'ztest' : 'chisquare';
}

/** Why `method` cannot test this feature, or null when it fits. */
export function methodMisfit(method: DriftMethod, kind: FeatureKind, uniqueValues: number): string | null {
  if ((method === 'ks' || method === 'wasserstein') && kind !== 'numeric') return `${method} needs a numeric feature`;
  if (method === 'ztest' && (kind !== 'categorical' || uniqueValues !== 2))
    return 'ztest needs a binary categorical feature (exactly two categories)';
  return null;
}

export type ThresholdSource = 'fixed' | 'override' | 'adaptive';

export interface MethodChoice {
  method: DriftMethod;
  threshold: number;
  thresholdSource: ThresholdSource;
}

/** The method and threshold for a feature: override first, then an adaptive (calibrated) threshold, then the default. */
export function chooseMethod(
  kind: FeatureKind,
  referenceRows: number,
  uniqueValues: number,
  override: FeatureDriftOverride | undefined,
  adaptive: { method: DriftMethod; threshold: number } | undefined,
): MethodChoice {
  const method = override?.method ?? defaultMethod(kind, referenceRows, uniqueValues);
  if (override?.threshold !== undefined) return { method, threshold: override.threshold, thresholdSource: 'override' };
  if (adaptive && adaptive.method === method && !isPValueMethod(method))
    return { method, threshold: adaptive.threshold, thresholdSource: 'adaptive' };
  return { method, threshold: DEFAULT_THRESHOLDS[method], thresholdSource: 'fixed' };
}
