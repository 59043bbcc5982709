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
export function binOf(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function binCounts(edges: readonly number[], d: Distribution): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < d.values.length; i++) counts[binOf(edges, d.values[i]!)]! += d.counts[i]!;
  return counts;
}
