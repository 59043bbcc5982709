// Deriving model features and the label from dataset columns: pure, shared by prepare and validation.
import type { ComparisonOp, FeatureSpec, LabelSpec } from './modelConfig';
import type { TaskKind } from './taskKind';

/** A cell after reading: numbers (timestamps as epoch milliseconds), strings, booleans or null. */
export type Cell = number | string | boolean | null;
export type Columns = Record<string, Cell[]>;

export function isMissing(v: unknown): v is null | undefined {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

export function compare(op: ComparisonOp, left: number, right: number): boolean {
  switch (op) {
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '==':
      return left === right;
  }
}

/**
 * The label of a source value for the model's task: 0/1 (binary, by positiveWhen or as stored), the class
 * 0..classes-1 (multiclass) or the value (regression); null when it is missing or not a valid label of the task.
 */
export function labelOf(model: { task: TaskKind; label: LabelSpec }, value: Cell): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const { positiveWhen, classes } = model.label;
  switch (model.task) {
    case 'binary':
      if (positiveWhen) return compare(positiveWhen.op, value, positiveWhen.value) ? 1 : 0;
      return value === 0 || value === 1 ? value : null;
    case 'multiclass':
      return Number.isInteger(value) && value >= 0 && value < classes! ? value : null;
    case 'regression':
      return value;
  }
}

/** What a valid label of the model's task is, for messages about the values that are not. */
export function labelRule(model: { task: TaskKind; label: LabelSpec }): string {
  switch (model.task) {
    case 'binary':
      return 'task binary without label.positiveWhen needs labels 0 or 1 (use task multiclass for more classes)';
    case 'multiclass':
      return `task multiclass needs integer classes 0..${model.label.classes! - 1} (label.classes ${model.label.classes})`;
    case 'regression':
      return 'task regression needs finite numbers';
  }
}

/** A feature value: numeric features become numbers, categorical ones strings ("" stands for missing). */
export function deriveFeature(spec: FeatureSpec, value: Cell): number | string {
  let v: Cell = value;
  // Timestamps are stored without a zone (wall-clock time at the airport), so UTC accessors read them as written.
  if (spec.transform === 'hourOfDay') v = typeof value === 'number' ? new Date(value).getUTCHours() : null;
  if (spec.transform === 'dayOfWeek') v = typeof value === 'number' ? new Date(value).getUTCDay() : null;
  if (spec.type === 'numeric') return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Number.NaN;
  return isMissing(v) ? '' : String(v);
}
