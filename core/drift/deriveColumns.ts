// A feature's column derived from its source column in one typed pass: what deriveFeature (core/features.ts) gives
// cell by cell, without a Date, a boxed number or a string per row (a drift check derives millions of rows).
import { type Cell, isMissing } from '../features';
import type { FeatureTransform } from '../modelConfig';
import { type CodedCategories, encodeCategories } from './categories';

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** The largest |time value| a Date holds (ECMAScript TimeClip). */
const MAX_TIME = 8.64e15;

/** Whole UTC days since the epoch of a time value, or NaN where a Date is invalid (as new Date(ms) truncates). */
function utcDay(ms: number): number {
  if (!(Math.abs(ms) <= MAX_TIME)) return Number.NaN;
  const t = Math.trunc(ms);
  // A division rounds up to the next day within 1/MS_PER_DAY of it; the exact remainder corrects that (no fmod).
  const day = Math.floor(t / MS_PER_DAY);
  const rest = t - day * MS_PER_DAY; // exact: integers below 2^53
  return rest < 0 ? day - 1 : rest >= MS_PER_DAY ? day + 1 : day;
}

/** new Date(ms).getUTCHours(): NaN for what a Date cannot hold. */
export function utcHour(ms: number): number {
  return Math.floor((Math.trunc(ms) - utcDay(ms) * MS_PER_DAY) / MS_PER_HOUR);
}

/** new Date(ms).getUTCDay() (0 = Sunday; 1970-01-01 was a Thursday): NaN for what a Date cannot hold. */
export function utcWeekday(ms: number): number {
  const w = (utcDay(ms) + 4) % 7;
  return w < 0 ? w + 7 : w + 0;
}

const timePart = (transform: FeatureTransform): ((ms: number) => number) | null =>
  transform === 'hourOfDay' ? utcHour : transform === 'dayOfWeek' ? utcWeekday : null;

/** A numeric feature's values from its source cells (NaN = missing), as deriveFeature gives them. */
export function deriveNumeric(transform: FeatureTransform, cells: readonly Cell[]): Float64Array {
  const values = new Float64Array(cells.length);
  const part = timePart(transform);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (typeof c === 'number') values[i] = part ? part(c) : c;
    else values[i] = !part && typeof c === 'boolean' ? Number(c) : Number.NaN;
  }
  return values;
}

/** A categorical feature's values dictionary-encoded (code −1 = missing): the strings deriveFeature gives. */
export function deriveCategorical(transform: FeatureTransform, cells: readonly Cell[]): CodedCategories {
  const part = timePart(transform);
  if (!part) return encodeCategories(cells, isMissing);
  // An hour (0–23) or weekday (0–6) is its own code.
  const dictionary = Array.from({ length: transform === 'hourOfDay' ? 24 : 7 }, (_, i) => String(i));
  const codes = new Int32Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    const v = typeof c === 'number' ? part(c) : Number.NaN;
    codes[i] = v === v ? v : -1;
  }
  return { codes, dictionary };
}
