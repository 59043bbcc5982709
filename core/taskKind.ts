// What a model predicts: the one switch that decides its label, its trainer's output, its metrics and its gate.
import { z } from 'zod';

export const TaskKind = z.enum(['binary', 'multiclass', 'regression']);
export type TaskKind = z.infer<typeof TaskKind>;

export const MetricName = z.enum([
  'rocAuc',
  'logLoss',
  'accuracy',
  'precision',
  'recall',
  'macroF1',
  'rmse',
  'mae',
  'r2',
]);
export type MetricName = z.infer<typeof MetricName>;

/** The metrics each task reports (multiclass recall is macro-averaged overall, per class in slices). */
export const TASK_METRICS: Record<TaskKind, readonly MetricName[]> = {
  binary: ['rocAuc', 'logLoss', 'accuracy', 'precision', 'recall'],
  multiclass: ['accuracy', 'macroF1', 'logLoss', 'recall'],
  regression: ['rmse', 'mae', 'r2'],
};

/** What `gate.comparison.metric` means when it is left out. */
export const DEFAULT_COMPARISON_METRIC: Record<TaskKind, MetricName> = {
  binary: 'rocAuc',
  multiclass: 'accuracy',
  regression: 'rmse',
};

/** What auto-approval's noSliceRegression compares per slice when the gate names no slice metric. */
export const DEFAULT_SLICE_METRIC: Record<TaskKind, MetricName> = {
  binary: 'rocAuc',
  multiclass: 'recall',
  regression: 'rmse',
};

const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set(['logLoss', 'rmse', 'mae']);

export function isLowerBetter(metric: MetricName): boolean {
  return LOWER_IS_BETTER.has(metric);
}

/** Why `metric` cannot be used for `task`, or null when it can. */
export function metricProblem(task: TaskKind, metric: MetricName): string | null {
  return TASK_METRICS[task].includes(metric)
    ? null
    : `${metric} is not a metric of task ${task} (its metrics: ${TASK_METRICS[task].join(', ')})`;
}
