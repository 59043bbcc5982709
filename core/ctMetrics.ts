// Our Prometheus metrics (ct_*), in one place: name, type, tags and meaning (the README's "Metrics" table lists
// exactly these). They go through the Temporal SDK's metric meter, so each worker serves them on the same endpoint
// as the SDK's own temporal_* metrics; the SDK adds namespace, task_queue and workflow_type / activity_type tags.
import type { MetricMeter } from '@temporalio/common';

type Kind = 'counter' | 'gauge' | 'histogram';

export interface CtMetricDefinition {
  name: string;
  kind: Kind;
  unit: string;
  tags: readonly string[];
  description: string;
  /** Histogram bucket bounds (the SDK's defaults are for milliseconds; ours are seconds). */
  buckets?: readonly number[];
}

const SECONDS_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3_600, 14_400, 86_400, 604_800];
const UPLOAD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Every ct_* metric. */
export const CT_METRICS = {
  runs: {
    name: 'ct_runs',
    kind: 'counter',
    unit: 'runs',
    tags: ['model', 'outcome'],
    description:
      'retraining runs ended, by outcome (promoted, rejected-by-gate, rejected, failed, cancelled); a failure outside a stage is not counted',
  },
  stageDuration: {
    name: 'ct_stage_duration_seconds',
    kind: 'histogram',
    unit: 's',
    tags: ['model', 'stage'],
    description: 'time a run spent in one stage (approval includes the wait for people)',
    buckets: SECONDS_BUCKETS,
  },
  trainingStepsPerSecond: {
    name: 'ct_training_steps_per_second',
    kind: 'gauge',
    unit: 'steps/s',
    tags: ['model'],
    description: "optimizer steps per second between the trainer's last two progress events",
  },
  trainingSamplesPerSecond: {
    name: 'ct_training_samples_per_second',
    kind: 'gauge',
    unit: 'samples/s',
    tags: ['model'],
    description: "samples per second, as the trainer's last progress event reports it",
  },
  checkpointUploadSeconds: {
    name: 'ct_checkpoint_upload_seconds',
    kind: 'histogram',
    unit: 's',
    tags: ['model'],
    description:
      'time to upload one checkpoint to the object store (hash and upload; retries after an outage not included)',
    buckets: UPLOAD_BUCKETS,
  },
  checkpointUploadBytes: {
    name: 'ct_checkpoint_upload_bytes',
    kind: 'counter',
    unit: 'bytes',
    tags: ['model'],
    description: 'bytes of checkpoints uploaded to the object store',
  },
  driftStatistic: {
    name: 'ct_drift_statistic',
    kind: 'gauge',
    unit: '',
    tags: ['model', 'feature', 'method'],
    description:
      "the deciding drift statistic of a feature in the model's last drift check (test statistic or distance)",
  },
  featureDrifted: {
    name: 'ct_feature_drifted',
    kind: 'gauge',
    unit: '',
    tags: ['model', 'feature'],
    description: '1 when the feature drifted in the last drift check, else 0',
  },
  datasetDrift: {
    name: 'ct_dataset_drift',
    kind: 'gauge',
    unit: '',
    tags: ['model'],
    description: "1 when the model's last drift check found dataset drift, else 0",
  },
  openIncidents: {
    name: 'ct_open_incidents',
    kind: 'gauge',
    unit: 'incidents',
    tags: ['model'],
    description: "the supervisor's open incident: 1 while one is open (a model has at most one), else 0",
  },
  approvalsRequested: {
    name: 'ct_approvals_requested',
    kind: 'counter',
    unit: 'runs',
    tags: ['model'],
    description: 'runs that started waiting for people to approve; waiting now = requested − ended',
  },
  approvalsEnded: {
    name: 'ct_approvals_ended',
    kind: 'counter',
    unit: 'runs',
    tags: ['model', 'outcome'],
    description: 'runs that stopped waiting for approval: approved, rejected, timeout (rejected), cancelled or failed',
  },
  scrapSeconds: {
    name: 'ct_scrap_seconds',
    kind: 'counter',
    unit: 's',
    tags: ['model', 'cause'],
    description:
      'device-seconds (GPU-seconds, CPU-seconds where no GPU) of training attempts that did not succeed, by cause, counted when the attempt ends',
  },
} as const satisfies Record<string, CtMetricDefinition>;

/** Histogram buckets of ours for the Prometheus exporter (RuntimeOptions histogramBucketOverrides). */
export function ctHistogramBuckets(): Record<string, number[]> {
  const defs: CtMetricDefinition[] = Object.values(CT_METRICS);
  return Object.fromEntries(defs.flatMap((d) => (d.buckets ? [[d.name, [...d.buckets]]] : [])));
}

/** Tags named by the definition: a metric is never recorded with a tag the README does not list. */
type TagsOf<D extends CtMetricDefinition> = Record<D['tags'][number], string>;

/** The instruments of the ct_* metrics on a meter (workflow, activity or runtime meter). */
export function ctMetrics(meter: MetricMeter) {
  const d = CT_METRICS;
  const counter =
    <D extends CtMetricDefinition>(def: D) =>
    (value: number, tags: TagsOf<D>) =>
      meter.createCounter(def.name, def.unit, def.description).add(Math.round(value), tags);
  const gauge =
    <D extends CtMetricDefinition>(def: D) =>
    (value: number, tags: TagsOf<D>) =>
      meter.createGauge(def.name, 'float', def.unit, def.description).set(value, tags);
  const histogram =
    <D extends CtMetricDefinition>(def: D) =>
    (value: number, tags: TagsOf<D>) =>
      meter.createHistogram(def.name, 'float', def.unit, def.description).record(value, tags);
  return {
    runs: counter(d.runs),
    stageDuration: histogram(d.stageDuration),
    trainingStepsPerSecond: gauge(d.trainingStepsPerSecond),
    trainingSamplesPerSecond: gauge(d.trainingSamplesPerSecond),
    checkpointUploadSeconds: histogram(d.checkpointUploadSeconds),
    checkpointUploadBytes: counter(d.checkpointUploadBytes),
    driftStatistic: gauge(d.driftStatistic),
    featureDrifted: gauge(d.featureDrifted),
    datasetDrift: gauge(d.datasetDrift),
    openIncidents: gauge(d.openIncidents),
    approvalsRequested: counter(d.approvalsRequested),
    approvalsEnded: counter(d.approvalsEnded),
    scrapSeconds: counter(d.scrapSeconds),
  };
}
export type CtMetrics = ReturnType<typeof ctMetrics>;

/** Steps per second between two progress reports; null when time has not moved or the step went back (a resume). */
export function stepsPerSecond(
  previous: { step: number; atMs: number } | null,
  now: { step: number; atMs: number },
): number | null {
  if (!previous || now.atMs <= previous.atMs || now.step < previous.step) return null;
  return ((now.step - previous.step) * 1000) / (now.atMs - previous.atMs);
}
