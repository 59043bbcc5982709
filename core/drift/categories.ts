// Categorical columns in either form a reader delivers: strings ('' = missing), or integer codes into a dictionary
// (as Parquet dictionary pages hold them; a negative code or a '' entry = missing). Counting codes is one
// typed-array increment a row; a category's string is looked up once per batch, not once per row.
import { InvalidInputError } from '../parse';

export interface CodedCategories {
  codes: Int32Array;
  dictionary: readonly string[];
}

export type CategoricalColumn =
  { name: string; kind: 'categorical'; values: string[] } | ({ name: string; kind: 'categorical' } & CodedCategories);

export interface CodeCounts {
  /** rows per code */
  counts: Float64Array;
  /** the codes met, in first-seen order (the first `distinct` entries) */
  order: Int32Array;
  distinct: number;
  /** rows with a negative code */
  missing: number;
}

/** Rows per code of `codes`, with the codes in first-seen order; `name` names the column in errors. */
export function countCodes(codes: Int32Array, dictionary: readonly string[], name: string): CodeCounts {
  const size = dictionary.length;
  const counts = new Float64Array(size);
  const order = new Int32Array(size);
  let distinct = 0;
  let missing = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c < 0) missing++;
    else if (c < size) {
      const n = counts[c]!;
      counts[c] = n + 1;
      if (n === 0) order[distinct++] = c;
    } else
      throw new InvalidInputError('categorical column', [
        `feature "${name}": code ${c} at row ${i} is past its dictionary of ${size} categories`,
      ]);
  }
  return { counts, order, distinct, missing };
}

/**
 * Visits each category of a coded batch once, in first-seen order, with its rows; returns the missing rows.
 * A dictionary may repeat a string (Parquet does not promise it does not): the visitor then sees it once per code.
 */
export function forEachCodedCategory(
  col: CodedCategories & { name: string },
  visit: (category: string, rows: number) => void,
): number {
  const { counts, order, distinct, missing } = countCodes(col.codes, col.dictionary, col.name);
  let absent = missing;
  for (let k = 0; k < distinct; k++) {
    const code = order[k]!;
    const category = col.dictionary[code]!;
    if (category === '') absent += counts[code]!;
    else visit(category, counts[code]!);
  }
  return absent;
}

/** Category counts of a column, in first-seen order. */
export function categoryCounts(col: CategoricalColumn): { counts: Map<string, number>; missing: number } {
  const counts = new Map<string, number>();
  if ('codes' in col) {
    const missing = forEachCodedCategory(col, (v, c) => counts.set(v, (counts.get(v) ?? 0) + c));
    return { counts, missing };
  }
  let missing = 0;
  for (const v of col.values) {
    if (v === '') missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { counts, missing };
}

/** The rows of a categorical column. */
export const categoricalRows = (col: CategoricalColumn): number => ('codes' in col ? col.codes : col.values).length;

/** The column as strings ('' = missing), whichever form it has. */
export function categoryStrings(col: CategoricalColumn): string[] {
  if (!('codes' in col)) return col.values;
  return Array.from(col.codes, (c) => (c < 0 ? '' : col.dictionary[c]!));
}

/** Rows [start, end) of a categorical column, in its own form. */
export function sliceCategorical(col: CategoricalColumn, start: number, end: number): CategoricalColumn {
  return 'codes' in col
    ? { ...col, codes: col.codes.subarray(start, end) }
    : { ...col, values: col.values.slice(start, end) };
}

/**
 * Dictionary-encodes cells: one Map lookup a row on the cell itself, its string made once per distinct cell.
 * `missing(cell)` marks the rows that are missing (code −1). Cells that differ but print alike (1 and '1') get
 * codes of their own with the same string, which every count merges.
 */
export function encodeCategories<C>(cells: readonly C[], missing: (cell: C) => boolean): CodedCategories {
  const codeOf = new Map<C, number>();
  const dictionary: string[] = [];
  const codes = new Int32Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (missing(cell)) {
      codes[i] = -1;
      continue;
    }
    let code = codeOf.get(cell);
    if (code === undefined) {
      code = dictionary.length;
      codeOf.set(cell, code);
      dictionary.push(String(cell));
    }
    codes[i] = code;
  }
  return { codes, dictionary };
}
