// The synthetic wide data of bench:drift's wide case, generated block by block from a seed so that no window is ever
// held whole and any worker can produce any block: 1000 columns, the first half numeric (continuous ones, which
// pass the window's exact-count limit and go to the sketch, and integer ones with about twenty values, counted
// exactly), the second half categorical as codes + dictionary (how Parquet dictionary pages deliver them).
// A known subset drifts in the current window: numeric columns by a mean shift, categorical ones by a mix of their
// category weights with the weights reversed. About 1 value in 128 is missing everywhere.
import { DriftSettings, type FeatureColumn, type FeatureFrame, type FeatureKind } from '../core/drift';

export const WIDE_COLUMNS = 1000;
/** Drift settings of the wide case: the defaults, but a reference profile keeping a 20,000-value sample of each
 *  numeric column (instead of 100,000): 500 columns of 100,000 values would be 800 MB of profile per copy. */
export const WIDE_SETTINGS = { profile: { maxDistinct: 20_000 } } as const;
export const wideSettings = (): DriftSettings => DriftSettings.parse(WIDE_SETTINGS);
export const NUMERIC_COLUMNS = 500;
/** Rows per generated block: the unit of work of a worker and the batch handed to the window profile. */
export const BLOCK_ROWS = 8192;
/** Every DRIFT_EVERY-th column of each half drifts (20 numeric, 20 categorical of 500 each). */
const DRIFT_EVERY = 25;
const NUMERIC_SHIFT = 0.3; // standard deviations
const CATEGORY_MIX = 0.5; // share of the reversed weights in a drifted categorical column
const CODE_TABLE_BITS = 12;

export type Window = 'reference' | 'current';

export interface WideColumn {
  name: string;
  kind: FeatureKind;
  drifted: boolean;
}

export const wideColumn = (j: number): WideColumn => {
  const kind: FeatureKind = j < NUMERIC_COLUMNS ? 'numeric' : 'categorical';
  const local = kind === 'numeric' ? j : j - NUMERIC_COLUMNS;
  return { name: `${kind === 'numeric' ? 'n' : 'c'}${local}`, kind, drifted: local % DRIFT_EVERY === 7 };
};

export const wideColumns = (): WideColumn[] => Array.from({ length: WIDE_COLUMNS }, (_, j) => wideColumn(j));

/** mulberry32 state for (window, column, block): independent streams, reproducible in any order. */
function streamSeed(window: Window, column: number, block: number): number {
  let h =
    Math.imul(column + 1, 0x9e3779b1) ^ Math.imul(block + 1, 0x85ebca6b) ^ (window === 'current' ? 0x5bd1e995 : 0);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Category count, weights table (code per 12-bit uniform) for a categorical column and window. */
function codeTable(local: number, drifted: boolean): { dictionary: string[]; table: Int32Array } {
  const k = 3 + (local % 48);
  const w = Array.from({ length: k }, (_, i) => 1 / (i + 1));
  const weights = drifted ? w.map((x, i) => (1 - CATEGORY_MIX) * x + CATEGORY_MIX * w[k - 1 - i]!) : w;
  const total = weights.reduce((s, x) => s + x, 0);
  const table = new Int32Array(1 << CODE_TABLE_BITS);
  let code = 0;
  let cum = weights[0]! / total;
  for (let i = 0; i < table.length; i++) {
    while ((i + 0.5) / table.length > cum && code < k - 1) cum += weights[++code]! / total;
    table[i] = code;
  }
  return { dictionary: Array.from({ length: k }, (_, i) => `v${local}_${i}`), table };
}

const tables = new Map<string, { dictionary: string[]; table: Int32Array }>();
function codeTableOf(local: number, drifted: boolean): { dictionary: string[]; table: Int32Array } {
  const key = `${local}/${drifted}`;
  let t = tables.get(key);
  if (!t) tables.set(key, (t = codeTable(local, drifted)));
  return t;
}

/** Fills `out` with rows [block·BLOCK_ROWS, … + out.length) of column `j` of a window (Float64Array: numeric). */
export function fillColumn(window: Window, j: number, block: number, out: Float64Array | Int32Array): void {
  const col = wideColumn(j);
  let a = streamSeed(window, j, block);
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const shifted = col.drifted && window === 'current';
  if (out instanceof Float64Array) {
    const integer = j % 2 === 1;
    const scale = integer ? 3 : 1 + (j % 7);
    const mean = (j % 11) * 10 + (shifted ? NUMERIC_SHIFT * scale : 0);
    for (let i = 0; i < out.length; i++) {
      const u = next();
      const v = next();
      if ((v & 127) === 0) out[i] = Number.NaN;
      else {
        // Irwin–Hall: four 16-bit uniforms summed, rescaled to unit variance (bell-shaped, bounded at ±3.46σ).
        const g = ((u >>> 16) + (u & 0xffff) + (v >>> 16) + (v & 0xffff) - 131070) * (Math.sqrt(3) / 65536);
        out[i] = integer ? Math.round(mean + scale * g) : mean + scale * g;
      }
    }
  } else {
    const { table } = codeTableOf(j - NUMERIC_COLUMNS, shifted);
    for (let i = 0; i < out.length; i++) {
      const u = next();
      out[i] = (u & 127) === 0 ? -1 : table[u >>> (32 - CODE_TABLE_BITS)]!;
    }
  }
}

/** The dictionary of categorical column `j` (the same in both windows). */
export const dictionaryOf = (j: number): string[] => codeTableOf(j - NUMERIC_COLUMNS, false).dictionary;

/** Rows of block `block` of a window of `rows` rows. */
export const blockRows = (rows: number, block: number): number =>
  Math.max(0, Math.min(BLOCK_ROWS, rows - block * BLOCK_ROWS));

/** Columns `columns` of one block as a frame, reusing the arrays of `into` (the previous block's frame) when given. */
export function wideBlock(
  window: Window,
  block: number,
  rows: number,
  columns: readonly number[],
  into?: FeatureFrame,
): FeatureFrame {
  return columns.map((j, k): FeatureColumn => {
    const prev = into?.[k];
    const { name, kind } = wideColumn(j);
    if (kind === 'numeric') {
      const values = prev?.kind === 'numeric' && prev.values.length === rows ? prev.values : new Float64Array(rows);
      fillColumn(window, j, block, values);
      return { name, kind, values };
    }
    const codes = prev && 'codes' in prev && prev.codes.length === rows ? prev.codes : new Int32Array(rows);
    fillColumn(window, j, block, codes);
    return { name, kind, codes, dictionary: dictionaryOf(j) };
  });
}

/** The first `rows` rows of columns `columns` of a window, each column whole (for profiling and samples). */
export function wholeColumns(window: Window, rows: number, columns: readonly number[]): FeatureFrame {
  const blocks = Math.ceil(rows / BLOCK_ROWS);
  return columns.map((j): FeatureColumn => {
    const { name, kind } = wideColumn(j);
    const whole = kind === 'numeric' ? new Float64Array(rows) : new Int32Array(rows);
    for (let b = 0; b < blocks; b++)
      fillColumn(window, j, b, whole.subarray(b * BLOCK_ROWS, b * BLOCK_ROWS + blockRows(rows, b)));
    return whole instanceof Float64Array
      ? { name, kind: 'numeric', values: whole }
      : { name, kind: 'categorical', codes: whole, dictionary: dictionaryOf(j) };
  });
}
