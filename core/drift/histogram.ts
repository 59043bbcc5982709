// Histogram helpers shared by the reference profile and the comparison: quantiles and bins.
// Their own module, so profiling and comparing do not import each other.
import type { Distribution } from './statistics';

/** The category that holds every category past profile.maxCategories. */
export const OTHER_CATEGORY = '__other__';

/** np.quantile(data, q) (linear interpolation) from a distribution. */
export function quantileOf(d: Distribution, q: number): number {
  const pos = q * (d.total - 1);
  const lo = Math.floor(pos);
  const at = (rank: number): number => {
    let cum = 0;
    for (let i = 0; i < d.values.length; i++) {
      cum += d.counts[i]!;
      if (rank < cum) return d.values[i]!;
    }
    return d.values[d.values.length - 1]!;
  };
  const a = at(lo);
  const frac = pos - lo;
  return frac === 0 ? a : a + (at(lo + 1) - a) * frac;
}

/** The bin of `value`: the number of interior edges strictly below it. */
export function binOf(edges: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Grid cells over [first edge, last edge] of a BinLookup. */
const LOOKUP_CELLS = 1024;

/**
 * binOf for a stream of values: a grid over the edges' span gives each value the bin to start from, so a value
 * costs a table read and a comparison or two where a binary search costs a branch per level, which values in
 * random order mispredict (about half the time of a sketched window feature went there).
 */
export class BinLookup {
  private readonly edges: Float64Array;
  private readonly low: number;
  private readonly high: number;
  private readonly scale: number;
  /** per cell: a bin at most the bin of any value in it (counted from the cell before, for rounding's sake) */
  private readonly start = new Int32Array(LOOKUP_CELLS + 1);

  constructor(edges: readonly number[]) {
    this.edges = Float64Array.from(edges);
    this.low = edges[0] ?? 0;
    this.high = edges[edges.length - 1] ?? 0;
    const span = this.high - this.low;
    this.scale = span > 0 && Number.isFinite(span) ? LOOKUP_CELLS / span : 0;
    if (this.scale > 0)
      for (let c = 1; c <= LOOKUP_CELLS; c++) this.start[c] = binOf(edges, this.low + (c - 1) / this.scale);
  }

  /** binOf(edges, value), for a value that is not NaN. */
  of(value: number): number {
    const edges = this.edges;
    const n = edges.length;
    if (!(value > this.low)) return 0;
    if (value > this.high) return n;
    if (this.scale === 0) return binOf(edges, value); // one edge, or a span past the largest double
    let b = this.start[Math.min(LOOKUP_CELLS, Math.floor((value - this.low) * this.scale))]!;
    while (b < n && edges[b]! < value) b++;
    // A start past the value's bin (a rounding the margin did not cover) would be wrong: then search.
    return b > 0 && !(edges[b - 1]! < value) ? binOf(edges, value) : b;
  }
}

export function binCounts(edges: readonly number[], d: Distribution): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < d.values.length; i++) counts[binOf(edges, d.values[i]!)]! += d.counts[i]!;
  return counts;
}
