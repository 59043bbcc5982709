// The model config's `drift` key: how drift is measured, decided and calibrated. Every field has a default.
import { z } from 'zod';

export const DriftMethod = z.enum(['ks', 'wasserstein', 'psi', 'jensenshannon', 'chisquare', 'ztest']);
export type DriftMethod = z.infer<typeof DriftMethod>;
/** Methods whose decision is a p-value below the threshold; the others are distances at or above it. */
export const P_VALUE_METHODS: readonly DriftMethod[] = ['ks', 'chisquare', 'ztest'];
export const isPValueMethod = (m: DriftMethod): boolean => P_VALUE_METHODS.includes(m);

export const DriftCorrection = z.enum(['none', 'bonferroni', 'benjamini-hochberg']);
export type DriftCorrection = z.infer<typeof DriftCorrection>;

export const FeatureDriftOverride = z
  .object({
    method: DriftMethod.optional().describe('test for this feature instead of the default selection'),
    threshold: z
      .number()
      .positive()
      .optional()
      .describe('p-value below which (p-value tests) or distance at/above which the feature drifts'),
  })
  .strict();
export type FeatureDriftOverride = z.infer<typeof FeatureDriftOverride>;

export const DriftSettings = z
  .object({
    fraction: z
      .number()
      .gt(0)
      .max(1)
      .default(0.5)
      .describe('dataset drift when drifted features / all features reaches this share'),
    correction: DriftCorrection.default('benjamini-hochberg').describe(
      'multiple-testing correction over the p-value-tested features',
    ),
    persistence: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('consecutive drifting windows needed before the supervisor alerts'),
    missingRateThreshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe("absolute change of a feature's missing rate that is flagged"),
    profile: z
      .object({
        maxDistinct: z
          .number()
          .int()
          .min(100)
          .default(100_000)
          .describe('numeric features with more distinct values keep a seeded sample of this many values'),
        maxCategories: z
          .number()
          .int()
          .min(2)
          .default(10_000)
          .describe('categories kept per feature (most frequent); the rest count as __other__'),
        bins: z
          .number()
          .int()
          .min(2)
          .max(1000)
          .default(10)
          .describe('quantile bins of the reference for PSI and Jensen-Shannon on numeric features'),
        seed: z.number().int().min(0).default(42),
      })
      .strict()
      .prefault({}),
    window: z
      .object({
        memoryMiB: z
          .number()
          .int()
          .min(16)
          .default(256)
          .describe(
            'memory the drift check may hold for one window part (decoded batch + exact counts), whatever its size',
          ),
        sketchRelativeAccuracy: z
          .number()
          .gt(0)
          .max(0.1)
          .default(0.001)
          .describe(
            'relative accuracy α of the DDSketch a numeric feature switches to past its exact-count limit (KS and Wasserstein then approximate, bound in the report)',
          ),
        partRows: z
          .number()
          .int()
          .min(1)
          .default(250_000)
          .describe(
            'rows a part of a fanned-out check holds at least (whole row groups; a smaller file is one part): below it, the extra activity costs more than the parallelism gains',
          ),
      })
      .strict()
      .prefault({}),
    adaptive: z
      .object({
        enabled: z.boolean().default(false).describe('calibrate distance thresholds on chunks of the reference'),
        chunks: z.number().int().min(2).max(1000).default(10),
        k: z.number().min(0).default(3).describe('threshold = mean + k·std of the chunk-vs-reference distances'),
      })
      .strict()
      .prefault({}),
    features: z
      .record(z.string(), FeatureDriftOverride)
      .default({})
      .describe('per-feature method and threshold overrides'),
  })
  .strict();
export type DriftSettings = z.infer<typeof DriftSettings>;
export type DriftSettingsInput = z.input<typeof DriftSettings>;
