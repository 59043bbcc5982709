// detectDrift: a window's features against the reference profile, one verdict per feature and for the dataset.
import { z } from 'zod';
import { InvalidInputError } from '../parse';
import { type FeatureMetrics, methodValue, windowFeatureMetrics } from './compare';
import { adjustPValues, datasetVerdict } from './decision';
import { type FeatureFrame, noFiniteValues } from './frame';
import { chooseMethod, methodMisfit } from './methods';
import type { ReferenceProfile } from './profile';
import { DriftCorrection, DriftMethod, type DriftSettings, isPValueMethod } from './settings';
import { WindowProfile } from './windowProfile';

const Test = z.object({ statistic: z.number(), pValue: z.number() }).strict();

export const FeatureDriftResult = z
  .object({
    name: z.string(),
    kind: z.enum(['numeric', 'categorical']),
    method: DriftMethod,
    statistic: z.number().describe('the deciding statistic: test statistic for p-value methods, else the distance'),
    pValue: z.number().nullable().describe('raw p-value (p-value methods), else null'),
    adjustedPValue: z.number().nullable().describe('after drift.correction (p-value methods), else null'),
    threshold: z.number(),
    thresholdSource: z.enum(['fixed', 'override', 'adaptive']),
    drifted: z.boolean(),
    missingRate: z.object({ reference: z.number(), current: z.number() }).strict(),
    missingRateDrifted: z
      .boolean()
      .describe('|current − reference missing rate| > drift.missingRateThreshold (reported, not counted as drift)'),
    nonFiniteRate: z
      .object({ reference: z.number(), current: z.number() })
      .strict()
      .optional()
      .describe('numeric: share of rows that are ±Infinity, left out of every statistic like missing values'),
    nonFiniteRateDrifted: z
      .boolean()
      .optional()
      .describe(
        'numeric: |current − reference nonFiniteRate| > drift.missingRateThreshold (reported, not counted as drift)',
      ),
    uniqueValues: z.number().int(),
    unseenCategories: z
      .object({ count: z.number().int(), share: z.number(), examples: z.array(z.string()) })
      .strict()
      .optional(),
    outOfRangeShare: z
      .number()
      .optional()
      .describe('share of current values outside the reference [min, max] (numeric)'),
    categoryOverflowRows: z
      .number()
      .int()
      .optional()
      .describe("categorical: rows of categories met past the window's category cap, counted as one category"),
    approximation: z
      .object({
        sketch: z.literal('ddsketch'),
        relativeAccuracy: z.number().describe('drift.window.sketchRelativeAccuracy'),
        ksStatisticError: z.number().describe('the KS statistic is within ± this of the exact one'),
        wassersteinError: z.number().describe('the Wasserstein distance is within ± this of the exact one'),
        wassersteinNormedError: z.number().describe('the same bound divided by the reference std'),
      })
      .strict()
      .optional()
      .describe(
        'numeric features past the exact-count limit: KS and Wasserstein come from a quantile sketch of the window, with these bounds; the other metrics stay exact',
      ),
    metrics: z
      .object({
        ks: Test.optional(),
        wasserstein: z.number().optional(),
        wassersteinNormed: z.number().optional(),
        chisquare: Test.extend({ dof: z.number().int() }).optional(),
        ztest: Test.optional(),
        jensenshannon: z.number(),
        psi: z.number(),
      })
      .strict()
      .describe('every metric computed for the feature, whichever decided'),
  })
  .strict();
export type FeatureDriftResult = z.infer<typeof FeatureDriftResult>;

export const DriftReport = z
  .object({
    schemaVersion: z.literal(1),
    datasetDrift: z.boolean(),
    driftedShare: z.number(),
    driftedFeatures: z.array(z.string()),
    fraction: z.number().describe('drift.fraction: the share of drifted features that makes dataset drift'),
    correction: DriftCorrection,
    referenceRows: z.number().int(),
    currentRows: z.number().int(),
    missingRateDrifted: z.array(z.string()),
    nonFiniteRateDrifted: z
      .array(z.string())
      .default([])
      .describe('numeric features whose ±Infinity share changed (absent from older reports)'),
    features: z.array(FeatureDriftResult),
  })
  .strict();
export type DriftReport = z.infer<typeof DriftReport>;

function checkInputs(reference: ReferenceProfile, window: WindowProfile, settings: DriftSettings): void {
  const problems: string[] = [];
  const known = new Set(reference.features.map((f) => f.name));
  for (const name of Object.keys(settings.features)) {
    if (!known.has(name))
      problems.push(
        `drift.features.${name}: "${name}" is not a feature of the reference profile (features: ${[...known].join(', ')})`,
      );
  }
  // A window with columns but no rows has one problem: "100% missing" or "feature missing" would hide it.
  // (A window without any column is told by its file's row count, which the frame does not keep.)
  const hasColumns = window.features.size > 0 || window.mismatched.size > 0;
  if (hasColumns && window.rows === 0) problems.push('current window has no rows');
  else {
    for (const f of reference.features) {
      const col = window.features.get(f.name);
      const mismatched = window.mismatched.get(f.name);
      if (mismatched)
        problems.push(`feature "${f.name}" is ${f.kind} in the reference but ${mismatched} in the current window`);
      else if (!col) problems.push(`feature "${f.name}" is missing from the current window`);
      else if (col.kind === 'numeric' && col.missing + col.nonFinite === col.rows)
        problems.push(noFiniteValues(f.name, 'the current window', col.rows, col.missing, col.nonFinite));
      else if (col.kind === 'categorical' && col.missing === col.rows)
        problems.push(`feature "${f.name}" is 100% missing in the current window`);
    }
  }
  if (problems.length > 0) throw new InvalidInputError('drift check', problems);
}

/** Compares a window with the reference profile; throws InvalidInputError naming every bad input. */
export function detectDrift(reference: ReferenceProfile, current: FeatureFrame, settings: DriftSettings): DriftReport {
  return detectWindowDrift(reference, new WindowProfile(reference, settings).add(current), settings);
}

/** Compares a window profile (read in batches, perhaps merged from parts) with the reference profile. */
export function detectWindowDrift(
  reference: ReferenceProfile,
  window: WindowProfile,
  settings: DriftSettings,
): DriftReport {
  checkInputs(reference, window, settings);
  const misfits: string[] = [];
  const partial = reference.features.map((profile) => {
    const metrics: FeatureMetrics = windowFeatureMetrics(profile, window.features.get(profile.name)!);
    const override = settings.features[profile.name];
    const choice = chooseMethod(
      profile.kind,
      reference.rows,
      metrics.uniqueValues,
      override,
      settings.adaptive.enabled ? profile.adaptive : undefined,
    );
    const misfit = methodMisfit(choice.method, profile.kind, metrics.uniqueValues);
    const value = methodValue(choice.method, metrics);
    if (misfit)
      misfits.push(
        `drift.features.${profile.name}: method "${choice.method}" does not fit feature "${profile.name}": ${misfit}`,
      );
    else if (!value)
      misfits.push(
        `drift.features.${profile.name}: method "${choice.method}" is not computed for feature "${profile.name}" (${metrics.uniqueValues} distinct values)`,
      );
    return { profile, metrics, choice, value: value ?? { statistic: Number.NaN, pValue: null } };
  });
  if (misfits.length > 0) throw new InvalidInputError('drift settings', misfits);

  const tested = partial.filter((p) => isPValueMethod(p.choice.method));
  const adjusted = adjustPValues(
    tested.map((p) => p.value.pValue ?? 1),
    settings.correction,
  );
  const adjustedOf = new Map(tested.map((p, i) => [p.profile.name, adjusted[i]!]));

  const features = partial.map(({ profile, metrics, choice, value }): FeatureDriftResult => {
    const adjustedPValue = adjustedOf.get(profile.name) ?? null;
    const drifted = adjustedPValue !== null ? adjustedPValue < choice.threshold : value.statistic >= choice.threshold;
    const currentMissing = metrics.missing / metrics.rows;
    const nonFiniteRate =
      profile.kind === 'numeric'
        ? { reference: profile.nonFiniteRate, current: (metrics.nonFinite ?? 0) / metrics.rows }
        : undefined;
    return {
      name: profile.name,
      kind: profile.kind,
      method: choice.method,
      statistic: value.statistic,
      pValue: value.pValue,
      adjustedPValue,
      threshold: choice.threshold,
      thresholdSource: choice.thresholdSource,
      drifted,
      missingRate: { reference: profile.missingRate, current: currentMissing },
      missingRateDrifted: Math.abs(currentMissing - profile.missingRate) > settings.missingRateThreshold,
      ...(nonFiniteRate
        ? {
            nonFiniteRate,
            nonFiniteRateDrifted:
              Math.abs(nonFiniteRate.current - nonFiniteRate.reference) > settings.missingRateThreshold,
          }
        : {}),
      uniqueValues: metrics.uniqueValues,
      ...(metrics.unseen ? { unseenCategories: metrics.unseen } : {}),
      ...(metrics.outOfRangeShare !== undefined ? { outOfRangeShare: metrics.outOfRangeShare } : {}),
      ...(metrics.overflowRows !== undefined ? { categoryOverflowRows: metrics.overflowRows } : {}),
      ...(metrics.approximation ? { approximation: metrics.approximation } : {}),
      metrics: {
        ...(metrics.ks ? { ks: metrics.ks } : {}),
        ...(metrics.wasserstein !== undefined
          ? { wasserstein: metrics.wasserstein, wassersteinNormed: metrics.wassersteinNormed }
          : {}),
        ...(metrics.chisquare ? { chisquare: metrics.chisquare } : {}),
        ...(metrics.ztest ? { ztest: metrics.ztest } : {}),
        jensenshannon: metrics.jensenshannon,
        psi: metrics.psi,
      },
    };
  });
  const driftedFeatures = features.filter((f) => f.drifted).map((f) => f.name);
  return {
    schemaVersion: 1,
    ...datasetVerdict(driftedFeatures.length, features.length, settings.fraction),
    driftedFeatures,
    fraction: settings.fraction,
    correction: settings.correction,
    referenceRows: reference.rows,
    currentRows: window.rows,
    missingRateDrifted: features.filter((f) => f.missingRateDrifted).map((f) => f.name),
    nonFiniteRateDrifted: features.filter((f) => f.nonFiniteRateDrifted).map((f) => f.name),
    features,
  };
}
