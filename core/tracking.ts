// Experiment tracking (README "Experiment tracking (MLflow)"): what a run logs to MLflow, built as pure data.
// The step series a training records, the params, tags and metrics of a run, and their split into log-batch
// requests within MLflow's limits. The adapter (adapters/mlflowTracking.ts) only sends them.
import { z } from 'zod';
import type { ModelConfig } from './modelConfig';
import type { EvaluationReport, GateVerdict } from './reports';
import type { SweepStatus } from './sweep';

/** MLflow's limits (mlflow/utils/validation.py): per log-batch request, and per key and value. */
export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
} as const;

/** One point of a training's step series: a trainer `progress` event. */
export const StepPoint = z.object({
  step: z.number(),
  atMs: z.number().describe('when the worker heard it (epoch ms)'),
  loss: z.number(),
  samplesPerSec: z.number(),
  validation: z.record(z.string(), z.number()).optional().describe("the validation split's metrics at this step"),
});
export type StepPoint = z.infer<typeof StepPoint>;

/** The step series of a run's training, stored next to the run (keys.trainingMetrics). */
export const TrainingSteps = z.object({
  attempt: z.number().int().describe('the attempt that trained the model (its series starts where it resumed)'),
  points: z.array(StepPoint),
});
export type TrainingSteps = z.infer<typeof TrainingSteps>;

/** How many points a series keeps: past it, every other point is dropped (the newest is always kept). */
export const MAX_STEP_POINTS = 5000;

/** Appends `point` to `points` in place, thinning the series to half when it reaches `max`. */
export function addStepPoint(points: StepPoint[], point: StepPoint, max = MAX_STEP_POINTS): void {
  points.push(point);
  if (points.length < max) return;
  const kept = points.filter((_, i) => i % 2 === 1 || i === points.length - 1);
  points.splice(0, points.length, ...kept);
}

export interface KeyValue {
  key: string;
  value: string;
}
export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** A key MLflow accepts: letters, digits, `_ - . / space`, at most 250 characters. */
export function mlflowKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_\-./ ]/g, '_').slice(0, MLFLOW_LIMITS.keyLength);
}

/** `value` cut to `max` characters, saying that it was cut. */
export function clip(value: string, max: number): string {
  const mark = '…[cut]';
  return value.length <= max ? value : value.slice(0, max - mark.length) + mark;
}

/** Nested objects as dotted keys (`optimizer.lr`); arrays and other values as their JSON (strings as they are). */
export function flattenParams(value: Record<string, unknown>, prefix = ''): KeyValue[] {
  return Object.entries(value).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      return flattenParams(v as Record<string, unknown>, key);
    return [{ key, value: typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)) }];
  });
}

/** A run's params: the hyperparameters (flattened), the trainer's command, seed, features, task and fingerprint. */
export function runParams(config: ModelConfig, fingerprint: string | null): KeyValue[] {
  const params = [
    ...flattenParams(config.hyperparameters, 'hyperparameters'),
    { key: 'trainer.command', value: config.trainer.command.join(' ') },
    { key: 'seed', value: String(config.seed) },
    { key: 'task', value: config.task },
    { key: 'features', value: config.features.map((f) => f.name).join(',') },
    { key: 'label', value: config.label.name },
    ...(fingerprint ? [{ key: 'fingerprint', value: fingerprint }] : []),
  ];
  return params.map(({ key, value }) => ({ key: mlflowKey(key), value: clip(value, MLFLOW_LIMITS.paramValueLength) }));
}

/** Tags with keys and values within MLflow's limits; an empty value is dropped. */
export function tagList(tags: Record<string, string>): KeyValue[] {
  return Object.entries(tags)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => ({ key: mlflowKey(key), value: clip(value, MLFLOW_LIMITS.tagValueLength) }));
}

/** The step series as metrics: `train.loss`, `train.samples_per_sec`, `validation.<name>` at each step. */
export function stepMetrics(points: StepPoint[]): MetricPoint[] {
  return points.flatMap((p) => {
    const at = { timestamp: Math.round(p.atMs), step: Math.round(p.step) };
    const values: [string, number][] = [
      ['train.loss', p.loss],
      ['train.samples_per_sec', p.samplesPerSec],
      ...Object.entries(p.validation ?? {}).map(([k, v]): [string, number] => [`validation.${k}`, v]),
    ];
    return values.filter(([, v]) => Number.isFinite(v)).map(([key, value]) => ({ key: mlflowKey(key), value, ...at }));
  });
}

/** The evaluation's overall metrics of candidate and champion, the trainer's final validation metrics, the gate. */
export function summaryMetrics(
  run: { evaluation: EvaluationReport | null; verdict: GateVerdict | null; validation: Record<string, number> },
  timestamp: number,
  step: number,
): MetricPoint[] {
  const values: [string, number | undefined][] = [
    ...Object.entries(run.evaluation?.candidate.overall ?? {}).map(([k, v]): [string, number] => [`eval.${k}`, v]),
    ...Object.entries(run.evaluation?.champion?.overall ?? {}).map(([k, v]): [string, number] => [
      `eval.champion.${k}`,
      v,
    ]),
    ...Object.entries(run.validation).map(([k, v]): [string, number] => [`final.validation.${k}`, v]),
    ['gate.passed', run.verdict ? Number(run.verdict.passed) : undefined],
  ];
  return values
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .map(([key, value]) => ({ key: mlflowKey(key), value, timestamp, step }));
}

/** One sweep trial as a nested MLflow run of its run: its swept values, its sweep metric where it stopped, its end. */
export interface TrialLog {
  name: string;
  /** Finds the nested run again on a retry. */
  key: string;
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  batch: LogBatch;
}

/** The sweep's trials as nested runs of the MLflow run `parentRunId` (README "Experiment tracking (MLflow)"). */
export function trialLogs(sweep: SweepStatus, runId: string, parentRunId: string, timestamp: number): TrialLog[] {
  return sweep.trials.map((t) => {
    const metrics = t.metric === null ? [] : [{ key: mlflowKey(`validation.${sweep.metric.name}`), value: t.metric }];
    const tags: Record<string, string> = {
      'mlflow.parentRunId': parentRunId,
      'ct.run_id': `${runId}/${t.name}`,
      'ct.trial': t.name,
      'ct.trial.state': t.state,
      'ct.trial.winner': String(t.name === sweep.winner),
      'ct.trial.error': t.error ?? '',
    };
    return {
      name: t.name,
      key: `${runId}/${t.name}`,
      // Stopped at a rung is how halving ends a trial, not a failure; still pending or training: the run was stopped.
      status: t.state === 'failed' ? 'FAILED' : t.state === 'finished' || t.state === 'stopped' ? 'FINISHED' : 'KILLED',
      batch: {
        params: flattenParams(t.values, 'hyperparameters').map(({ key, value }) => ({
          key: mlflowKey(key),
          value: clip(value, MLFLOW_LIMITS.paramValueLength),
        })),
        tags: tagList(tags),
        metrics: [
          ...metrics.map((m) => ({ ...m, timestamp, step: t.step })),
          { key: 'trial.step', value: t.step, timestamp, step: t.step },
        ],
      },
    };
  });
}

export interface LogBatch {
  metrics: MetricPoint[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** Splits what a run logs into log-batch requests within MLflow's per-request limits (params and tags first). */
export function logBatches(all: LogBatch): LogBatch[] {
  const L = MLFLOW_LIMITS;
  const batches: LogBatch[] = [];
  let params = all.params;
  let tags = all.tags;
  let metrics = all.metrics;
  while (params.length || tags.length || metrics.length || batches.length === 0) {
    const p = params.slice(0, L.paramsPerBatch);
    const t = tags.slice(0, L.tagsPerBatch);
    const m = metrics.slice(0, Math.min(L.metricsPerBatch, L.entitiesPerBatch - p.length - t.length));
    batches.push({ params: p, tags: t, metrics: m });
    params = params.slice(p.length);
    tags = tags.slice(t.length);
    metrics = metrics.slice(m.length);
    if (!p.length && !t.length && !m.length) break;
  }
  return batches;
}

/** What became of a run's tracking: where it is logged, or why it was skipped (the run went on without it). */
export const TrackingStatus = z.union([
  z.object({
    mlflowRunId: z.string(),
    experimentId: z.string(),
    url: z.string().describe("the run's page on the MLflow server"),
    registeredVersion: z.string().nullable().describe('the MLflow model version of a promoted run (alias champion)'),
  }),
  z.object({ skipped: z.string().describe('why tracking was skipped after its retries') }),
]);
export type TrackingStatus = z.infer<typeof TrackingStatus>;

/** The run's page in the MLflow UI. */
export function mlflowRunUrl(uri: string, experimentId: string, mlflowRunId: string): string {
  return `${uri.replace(/\/+$/, '')}/#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(mlflowRunId)}`;
}
