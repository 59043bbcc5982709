// What each pipeline stage produces. These shapes are stored in S3, returned by the workflow and its
// `status` query, and exported as JSON Schema, so they are zod schemas rather than bare types.
import { z } from 'zod';
import { MetricName, TaskKind } from './taskKind';

export const Violation = z.object({
  column: z.string(),
  rule: z.string(),
  message: z.string(),
  count: z.number().int(),
  examples: z.array(z.object({ row: z.number().int(), value: z.unknown() })),
});
export type Violation = z.infer<typeof Violation>;

export const ValidationReport = z.object({
  ok: z.boolean(),
  rows: z.number().int(),
  datasetKeys: z.array(z.string()),
  positiveFraction: z.number().nullable(),
  columns: z.record(
    z.string(),
    z.object({
      nulls: z.number().int(),
      min: z.number().nullable(),
      max: z.number().nullable(),
      distinct: z.number().int().nullable(),
    }),
  ),
  violations: z.array(Violation),
  reportKey: z.string(),
});
export type ValidationReport = z.infer<typeof ValidationReport>;

export const SplitName = z.enum(['train', 'validation', 'holdout']);
export type SplitName = z.infer<typeof SplitName>;

export const PreparedData = z.object({
  rows: z.number().int(),
  splits: z.record(
    SplitName,
    z.object({ key: z.string(), rows: z.number().int(), sha256: z.string(), from: z.string(), to: z.string() }),
  ),
  sourceDigests: z.record(z.string(), z.string()),
});
export type PreparedData = z.infer<typeof PreparedData>;

export const TrainingResult = z.object({
  modelKey: z.string(),
  modelSha256: z.string(),
  device: z.string(),
  steps: z.number().int(),
  samplesProcessed: z.number().int(),
  seconds: z.number(),
  attempt: z.number().int(),
  resumedFrom: z.string().nullable(),
  skippedCheckpoints: z.array(z.object({ key: z.string(), reason: z.string() })).default([]),
  gpus: z.array(z.string()).default([]),
  validation: z.record(z.string(), z.number()),
  command: z.array(z.string()),
});
export type TrainingResult = z.infer<typeof TrainingResult>;

export const Metrics = z.partialRecord(MetricName, z.number()).describe("the metrics of the model config's task");
export type Metrics = z.infer<typeof Metrics>;

export const ModelEvaluation = z.object({
  version: z.number().int().nullable().describe('registry version, null for the candidate'),
  overall: Metrics,
  slices: z.array(z.object({ value: z.string(), rows: z.number().int(), metrics: Metrics })),
});
export type ModelEvaluation = z.infer<typeof ModelEvaluation>;

export const ComparisonResult = z.object({
  method: z.enum(['bootstrap', 'mcnemar']),
  metric: MetricName,
  estimate: z.number(),
  lower: z.number().nullable(),
  upper: z.number().nullable(),
  confidence: z.number(),
  pValue: z.number().nullable(),
  resamples: z.number().int().nullable(),
  discordant: z.object({ candidateOnly: z.number().int(), championOnly: z.number().int() }).nullable(),
});

export const EvaluationReport = z.object({
  task: TaskKind.optional().describe('absent on reports of older runs, which were binary'),
  holdoutSha256: z.string(),
  holdoutRows: z.number().int(),
  threshold: z.number(),
  sliceBy: z.string().nullable(),
  candidate: ModelEvaluation,
  champion: ModelEvaluation.nullable(),
  /** The statistical champion/challenger comparison, when the gate asks for one and a champion exists. */
  comparison: ComparisonResult.nullable().optional(),
  reportKey: z.string(),
});
export type EvaluationReport = z.infer<typeof EvaluationReport>;

export const GateCheck = z.object({
  metric: MetricName,
  rule: z.enum([
    'minimum',
    'maximum',
    'maxRegression',
    'maxRelativeRegression',
    'nonInferiority',
    'mcnemar',
    'slice',
    'noChampion',
  ]),
  slice: z.string().optional(),
  threshold: z.number(),
  value: z.number(),
  passed: z.boolean(),
  reason: z.string(),
});
export type GateCheck = z.infer<typeof GateCheck>;

export const GateVerdict = z.object({
  passed: z.boolean(),
  championVersion: z.number().int().nullable(),
  checks: z.array(GateCheck),
  reasons: z.array(z.string()),
  /** What the verdict was computed from, so it can be audited and reproduced (absent on verdicts of older runs). */
  holdoutSha256: z.string().optional(),
  comparison: ComparisonResult.nullable().optional(),
  thresholds: z.record(z.string(), z.unknown()).optional(),
});
export type GateVerdict = z.infer<typeof GateVerdict>;

export const Decision = z.object({
  outcome: z.enum(['approved', 'rejected']),
  /** Who decided: the person whose approval completed the quorum or who rejected, "policy" or "timeout". */
  by: z.string(),
  comment: z.string(),
  mode: z.enum(['auto', 'manual', 'policy', 'timeout']),
  approvals: z.array(z.object({ by: z.string(), comment: z.string(), at: z.string() })).default([]),
  evidence: z.array(z.string()).default([]),
});
export type Decision = z.infer<typeof Decision>;

export const RegisteredVersion = z.object({
  modelId: z.string(),
  version: z.number().int(),
  cardKey: z.string(),
  artifactKey: z.string(),
  promoted: z.boolean(),
  alreadyRegistered: z.boolean(),
  championNow: z.number().int().nullable().optional(),
});
export type RegisteredVersion = z.infer<typeof RegisteredVersion>;
