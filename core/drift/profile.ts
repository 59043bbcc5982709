// The reference profile: each feature's distribution in the training data, computed once and stored as JSON.
import { z } from 'zod';
import { InvalidInputError } from '../parse';
import { sampleIndices } from '../split';
import { calibrateFeature } from './adaptive';
import { type CategoricalColumn, categoricalRows, categoryCounts } from './categories';
import { absentCounts, columnRows, type FeatureFrame, frameRows, type NumericColumn, noFiniteValues } from './frame';
import type { DriftSettings } from './settings';
import { DriftMethod } from './settings';
import { binCounts, OTHER_CATEGORY, quantileOf } from './histogram';
import { distributionOf } from './statistics';

export const QUANTILES = { p1: 0.01, p5: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 } as const;

const Adaptive = z
  .object({ method: DriftMethod, threshold: z.number(), mean: z.number(), std: z.number(), chunks: z.number().int() })
  .strict();
const Common = {
  name: z.string().min(1),
  rows: z.number().int().min(0),
  missing: z.number().int().min(0),
  missingRate: z.number().min(0).max(1),
  adaptive: Adaptive.optional().describe('threshold calibrated on chunks of the reference (drift.adaptive)'),
};

export const NumericProfile = z
  .object({
    ...Common,
    kind: z.literal('numeric'),
    nonFinite: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('±Infinity values, left out of every statistic like missing ones'),
    nonFiniteRate: z.number().min(0).max(1).default(0).describe('nonFinite / rows (absent from older profiles: 0)'),
    distinct: z.number().int().min(0).describe('distinct finite values in the reference'),
    sampled: z.boolean().describe('true: values/counts hold a seeded sample (KS and Wasserstein are then approximate)'),
    values: z.array(z.number()).describe('distinct values, ascending'),
    counts: z.array(z.number().int().min(1)),
    mean: z.number(),
    std: z.number().describe('population standard deviation (ddof 0), as np.std'),
    min: z.number(),
    max: z.number(),
    quantiles: z.object(
      Object.fromEntries(Object.keys(QUANTILES).map((k) => [k, z.number()])) as Record<
        keyof typeof QUANTILES,
        z.ZodNumber
      >,
    ),
    bins: z
      .object({
        edges: z.array(z.number()).describe('interior edges; bins are (-inf, e1], (e1, e2], …, (ek, +inf)'),
        counts: z.array(z.number().int().min(0)),
      })
      .strict(),
  })
  .strict()
  .refine((p) => p.values.length === p.counts.length, 'values and counts differ in length')
  .refine((p) => p.bins.counts.length === p.bins.edges.length + 1, 'bins need one more count than edges');
export type NumericProfile = z.infer<typeof NumericProfile>;

export const CategoricalProfile = z
  .object({
    ...Common,
    kind: z.literal('categorical'),
    categories: z
      .array(z.string())
      .describe(`categories by descending count; ${OTHER_CATEGORY} holds those beyond the cap`),
    counts: z.array(z.number().int().min(1)),
    capped: z.boolean(),
  })
  .strict()
  .refine((p) => p.categories.length === p.counts.length, 'categories and counts differ in length');
export type CategoricalProfile = z.infer<typeof CategoricalProfile>;

export const FeatureProfile = z.union([NumericProfile, CategoricalProfile]);
export type FeatureProfile = z.infer<typeof FeatureProfile>;

export const ReferenceProfile = z
  .object({
    schemaVersion: z.literal(1),
    rows: z.number().int().min(0),
    features: z.array(FeatureProfile),
  })
  .strict();
export type ReferenceProfile = z.infer<typeof ReferenceProfile>;

function numericProfile(col: NumericColumn, settings: DriftSettings): NumericProfile {
  const full = distributionOf(col.values);
  const { missing, nonFinite } = absentCounts(col.values);
  if (full.total === 0)
    throw new InvalidInputError('reference', [
      noFiniteValues(col.name, 'the reference', col.values.length, missing, nonFinite),
    ]);
  let mean = 0;
  for (let i = 0; i < full.values.length; i++) mean += full.values[i]! * full.counts[i]!;
  mean /= full.total;
  let ss = 0;
  for (let i = 0; i < full.values.length; i++) ss += full.counts[i]! * (full.values[i]! - mean) ** 2;
  const { maxDistinct, bins, seed } = settings.profile;
  let kept = full;
  if (full.values.length > maxDistinct) {
    const present = col.values.filter((v) => Number.isFinite(v));
    kept = distributionOf(sampleIndices(present.length, maxDistinct, seed).map((i) => present[i]!));
  }
  const edges = [...new Set(Array.from({ length: bins - 1 }, (_, i) => quantileOf(full, (i + 1) / bins)))];
  const quantiles = Object.fromEntries(
    Object.entries(QUANTILES).map(([k, q]) => [k, quantileOf(full, q)]),
  ) as NumericProfile['quantiles'];
  return {
    name: col.name,
    kind: 'numeric',
    rows: col.values.length,
    missing,
    missingRate: missing / col.values.length,
    nonFinite,
    nonFiniteRate: nonFinite / col.values.length,
    distinct: full.values.length,
    sampled: kept !== full,
    values: Array.from(kept.values),
    counts: Array.from(kept.counts),
    mean,
    std: Math.sqrt(ss / full.total),
    min: full.values[0]!,
    max: full.values[full.values.length - 1]!,
    quantiles,
    bins: { edges, counts: binCounts(edges, full) },
  };
}

function categoricalProfile(col: CategoricalColumn, settings: DriftSettings): CategoricalProfile {
  const { counts, missing } = categoryCounts(col);
  const rows = categoricalRows(col);
  if (counts.size === 0)
    throw new InvalidInputError('reference', [`feature "${col.name}" is 100% missing in the reference`]);
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const cap = settings.profile.maxCategories;
  const kept = sorted.slice(0, cap);
  const other = sorted.slice(cap).reduce((s, [, c]) => s + c, 0);
  if (other > 0) kept.push([OTHER_CATEGORY, other]);
  return {
    name: col.name,
    kind: 'categorical',
    rows,
    missing,
    missingRate: missing / rows,
    categories: kept.map(([k]) => k),
    counts: kept.map(([, c]) => c),
    capped: other > 0,
  };
}

/** Profiles the reference (training) data; with drift.adaptive enabled also calibrates each feature's threshold. */
export function profileReference(frame: FeatureFrame, settings: DriftSettings): ReferenceProfile {
  const rows = frameRows(frame);
  if (rows === 0) throw new InvalidInputError('reference', ['reference has no rows']);
  const features = frame.map((col): FeatureProfile => {
    if (columnRows(col) === 0)
      throw new InvalidInputError('reference', [`feature "${col.name}" has no rows in the reference`]);
    const profile = col.kind === 'numeric' ? numericProfile(col, settings) : categoricalProfile(col, settings);
    return settings.adaptive.enabled
      ? { ...profile, adaptive: calibrateFeature(profile, col, rows, settings) }
      : profile;
  });
  return { schemaVersion: 1, rows, features };
}
