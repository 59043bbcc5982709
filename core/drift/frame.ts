// Feature frames: the columns drift is measured on, derived from dataset columns.
import { type Cell, type Columns, isMissing } from '../features';
import type { ModelConfig } from '../modelConfig';
import { InvalidInputError } from '../parse';
import { type CategoricalColumn, categoricalRows, type CodedCategories, encodeCategories } from './categories';
import { deriveCategorical, deriveNumeric } from './deriveColumns';

export type NumericColumn = { name: string; kind: 'numeric'; values: Float64Array }; // NaN = missing; ±Infinity kept
export type FeatureColumn = NumericColumn | CategoricalColumn;
export type FeatureFrame = FeatureColumn[];
export type FeatureKind = FeatureColumn['kind'];

const MAX_EXAMPLES = 3;

/** The rows of a column. */
export const columnRows = (col: FeatureColumn): number =>
  col.kind === 'numeric' ? col.values.length : categoricalRows(col);

/** The rows of a frame (its longest column). */
export const frameRows = (frame: FeatureFrame): number => frame.reduce((n, c) => Math.max(n, columnRows(c)), 0);

/** Missing (NaN) and non-finite (±Infinity) values of a numeric column: neither enters a statistic. */
export function absentCounts(values: Float64Array): { missing: number; nonFinite: number } {
  let missing = 0;
  let nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) missing++;
    else if (!Number.isFinite(v)) nonFinite++;
  }
  return { missing, nonFinite };
}

/** Why a numeric feature without a single finite value cannot be compared (`where`: "the reference", …). */
export function noFiniteValues(name: string, where: string, rows: number, missing: number, nonFinite: number): string {
  if (nonFinite === 0) return `feature "${name}" is 100% missing in ${where}`;
  return `feature "${name}" has no finite values in ${where} (${rows} rows: ${missing} missing, ${nonFinite} ±Infinity)`;
}

/**
 * A numeric feature's source holds strings where it needs numbers: how many and a few distinct examples, or null.
 * Any string is bad input (a CSV cell that did not parse, a Parquet string column): read as missing, it would
 * hide a broken file behind a missing rate.
 */
function nonNumeric(cells: readonly Cell[], wanted = 'numbers'): string | null {
  let count = 0;
  const examples = new Set<string>();
  for (const c of cells) {
    if (typeof c !== 'string') continue;
    count++;
    if (examples.size < MAX_EXAMPLES) examples.add(JSON.stringify(c));
  }
  return count === 0 ? null : `${count} of ${cells.length} values are not ${wanted} (e.g. ${[...examples].join(', ')})`;
}

/**
 * The source columns a reader may deliver as dictionary codes: those only categorical features take as they are
 * (a numeric or timestamp feature needs the cells).
 */
export function codedSources(config: Pick<ModelConfig, 'features'>): Set<string> {
  const sources = config.features.filter(takesAsIs).map((f) => f.source);
  return new Set(sources.filter((s) => config.features.every((f) => f.source !== s || takesAsIs(f))));
}

/** A categorical feature that takes its source as it is: the one kind of feature dictionary codes can feed. */
const takesAsIs = (f: ModelConfig['features'][number]): boolean =>
  f.type === 'categorical' && f.transform === 'identity';

/**
 * The model's features, derived from the dataset's columns as prepare derives them; `what` names the data in
 * errors (e.g. "--current jun.csv"); a source in `coded` (dictionary codes, see codedSources) is taken as it is.
 * Throws when a source column is missing or a numeric source holds strings.
 */
export function featureFrame(
  config: ModelConfig,
  columns: Columns,
  what = 'drift data',
  coded: Record<string, CodedCategories> = {},
): FeatureFrame {
  const cellsOf = (source: string): Cell[] | undefined => {
    const codes = coded[source];
    return columns[source] ?? (codes && Array.from(codes.codes, (c) => (c < 0 ? null : codes.dictionary[c]!)));
  };
  const problems = config.features.flatMap((f) => {
    if (takesAsIs(f) && coded[f.source]) return [];
    const cells = cellsOf(f.source);
    if (!cells) return [`column "${f.source}" (source of feature "${f.name}") is missing`];
    const timestamp = f.transform !== 'identity';
    const bad = f.type === 'numeric' || timestamp ? nonNumeric(cells, timestamp ? 'timestamps' : 'numbers') : null;
    const needs = timestamp ? `a timestamp (${f.transform})` : 'numeric';
    return bad ? [`column "${f.source}" (source of feature "${f.name}") is ${needs}, but ${bad}`] : [];
  });
  if (problems.length > 0) throw new InvalidInputError(what, problems);
  return config.features.map((f): FeatureColumn => {
    const codes = coded[f.source];
    if (takesAsIs(f) && codes) return { name: f.name, kind: 'categorical', ...codes };
    const cells = cellsOf(f.source)!;
    if (f.type === 'numeric') return { name: f.name, kind: 'numeric', values: deriveNumeric(f.transform, cells) };
    return { name: f.name, kind: 'categorical', ...deriveCategorical(f.transform, cells) };
  });
}

function kindOf(cells: Cell[]): FeatureKind {
  const first = cells.find((c) => !isMissing(c));
  return typeof first === 'number' ? 'numeric' : 'categorical';
}

/**
 * Every column as a feature, for data without a model config: numbers (and timestamps, as epoch ms) are numeric,
 * strings and booleans categorical. `kinds` fixes the kind per column (the reference's, when reading the current
 * window); a column of numeric kind holding strings is bad input, named with `what`.
 */
export function columnsFrame(columns: Columns, kinds?: Record<string, FeatureKind>, what = 'drift data'): FeatureFrame {
  const frame = Object.entries(columns).map(([name, cells]): FeatureColumn => {
    const kind = kinds?.[name] ?? kindOf(cells);
    if (kind === 'numeric')
      return {
        name,
        kind,
        values: deriveNumeric('identity', cells),
      };
    return { name, kind, ...encodeCategories(cells, isMissing) };
  });
  const problems = frame.flatMap((col) => {
    const bad = col.kind === 'numeric' ? nonNumeric(columns[col.name]!) : null;
    return bad ? [`feature "${col.name}" is numeric, but ${bad}`] : [];
  });
  if (problems.length > 0) throw new InvalidInputError(what, problems);
  return frame;
}
