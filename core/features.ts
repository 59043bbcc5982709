// Deriving model features and the label from dataset columns: pure, shared by prepare and validation.
import type { ComparisonOp, FeatureSpec, LabelSpec } from './modelConfig';

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

/** 1 when the label's rule holds for `value`, 0 when it does not, null when the value is missing or not numeric. */
export function labelOf(spec: LabelSpec, value: Cell): 0 | 1 | null {
  if (typeof value !== 'number' || Number.isNaN(value)) return null;
  return compare(spec.positiveWhen.op, value, spec.positiveWhen.value) ? 1 : 0;
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
