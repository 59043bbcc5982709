// Two-sample statistics on compact distributions (sorted distinct values with counts), matching SciPy:
// ks_2samp (method 'auto'), wasserstein_distance, spatial.distance.jensenshannon (natural log),
// chi2_contingency (Yates correction only when dof = 1), PSI and Evidently's two-proportion z-test.
import { chi2Sf, normalTwoSided } from './gamma';
import { kolmogorovSf } from './kolmogorov';

/** An empirical distribution: distinct values ascending, their counts, and the total count. */
export interface Distribution {
  values: Float64Array;
  counts: Float64Array;
  total: number;
}

/** One pass over a column, finite values only (NaN = missing and ±Infinity skipped): sort a copy, run-length encode. */
export function distributionOf(column: ArrayLike<number>): Distribution {
  const sorted = new Float64Array(column.length);
  let n = 0;
  for (let i = 0; i < column.length; i++) {
    const v = column[i]!;
    if (Number.isFinite(v)) sorted[n++] = v;
  }
  const data = sorted.subarray(0, n).sort();
  // Distinct values are written over the sorted ones in place (never ahead of the read position).
  const counts = new Float64Array(n);
  let distinct = 0;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && data[j] === data[i]) j++;
    data[distinct] = data[i]!;
    counts[distinct++] = j - i;
    i = j;
  }
  return { values: data.slice(0, distinct), counts: counts.slice(0, distinct), total: n };
}

/** Visits the union of both distributions' distinct values in order with both cumulative counts (≤ value). */
function mergeWalk(a: Distribution, b: Distribution, visit: (value: number, cumA: number, cumB: number) => void): void {
  let i = 0;
  let j = 0;
  let cumA = 0;
  let cumB = 0;
  while (i < a.values.length || j < b.values.length) {
    const va = i < a.values.length ? a.values[i]! : Infinity;
    const vb = j < b.values.length ? b.values[j]! : Infinity;
    const v = Math.min(va, vb);
    if (va === v) cumA += a.counts[i++]!;
    if (vb === v) cumB += b.counts[j++]!;
    visit(v, cumA, cumB);
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** Pr(D ≥ h/n) for equal sample sizes (SciPy's _compute_prob_outside_square). */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
  }
  return 2 * P;
}

/** 1 − (lattice paths staying strictly inside the band) / all paths (SciPy's _compute_outer_prob_inside_method). */
function probOutsideBand(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 < n0 ? [n0, m0] : [m0, n0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const A = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

export interface KsResult {
  statistic: number;
  pValue: number;
  mode: 'exact' | 'asymp';
}

/** scipy.stats.ks_2samp(a, b) with alternative='two-sided', method='auto'. */
export function ks2samp(a: Distribution, b: Distribution): KsResult {
  const n1 = a.total;
  const n2 = b.total;
  let maxS = -Infinity;
  let minD = Infinity;
  mergeWalk(a, b, (_v, ca, cb) => {
    const diff = ca / n1 - cb / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minD) minD = diff;
  });
  const minS = Math.min(Math.max(-minD, 0), 1);
  let d = minS > maxS ? minS : maxS;
  const g = gcd(n1, n2);
  if (Math.max(n1, n2) <= 10000) {
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, mode: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
    if (p >= 0 && p <= 1) return { statistic: d, pValue: p, mode: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  const p = kolmogorovSf(roundHalfEven(en), d);
  return { statistic: d, pValue: Math.min(1, Math.max(0, p)), mode: 'asymp' };
}

/** scipy.stats.wasserstein_distance(a, b): the area between the two empirical CDFs. */
export function wasserstein(a: Distribution, b: Distribution): number {
  let sum = 0;
  let prev = Number.NaN;
  let prevDiff = 0;
  mergeWalk(a, b, (v, ca, cb) => {
    if (!Number.isNaN(prev)) sum += prevDiff * (v - prev);
    prev = v;
    prevDiff = Math.abs(ca / a.total - cb / b.total);
  });
  return sum;
}

function sumOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

const relEntr = (x: number, y: number): number =>
  x > 0 && y > 0 ? x * Math.log(x / y) : x === 0 && y >= 0 ? 0 : Infinity;

/** scipy.spatial.distance.jensenshannon(p, q) (natural log): inputs are counts or weights, normalised here. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const sp = sumOf(p);
  const sq = sumOf(q);
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    const qi = q[i]! / sq;
    const m = (pi + qi) / 2;
    left += relEntr(pi, m);
    right += relEntr(qi, m);
  }
  return Math.sqrt((left + right) / 2);
}

/** Population stability index Σ (r − c)·ln(r/c) over bin shares; empty bins count as `epsilon` (Evidently: 0.0001). */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>, epsilon = 1e-4): number {
  const sr = sumOf(reference);
  const sc = sumOf(current);
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i]! / sr || epsilon;
    const c = current[i]! / sc || epsilon;
    sum += (r - c) * Math.log(r / c);
  }
  return sum;
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** scipy.stats.chi2_contingency on the 2×k table [reference; current] (every column must have a count). */
export function chi2Contingency(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): TestResult & { dof: number } {
  const k = reference.length;
  const rows = [reference, current];
  const rowSums = rows.map(sumOf);
  const total = rowSums[0]! + rowSums[1]!;
  const colSums = Array.from({ length: k }, (_, j) => reference[j]! + current[j]!);
  const dof = k - 1;
  if (dof === 0) return { statistic: 0, pValue: 1, dof };
  let statistic = 0;
  for (let r = 0; r < 2; r++) {
    for (let j = 0; j < k; j++) {
      const expected = (rowSums[r]! * colSums[j]!) / total;
      let observed = rows[r]![j]!;
      if (dof === 1) {
        const diff = expected - observed;
        observed += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      statistic += (observed - expected) ** 2 / expected;
    }
  }
  return { statistic, pValue: chi2Sf(statistic, dof), dof };
}

/**
 * Evidently's z_stat_test for a binary feature: two-proportion z statistic of category `first` (pooled variance),
 * two-sided p-value 2·(1 − Φ(|z|)) computed as erfc(|z|/√2) so it stays exact in the far tail.
 */
export function twoProportionZTest(
  refPositive: number,
  refTotal: number,
  curPositive: number,
  curTotal: number,
): TestResult {
  const p1 = refPositive / refTotal;
  const p2 = curPositive / curTotal;
  const pooled = (p1 * refTotal + p2 * curTotal) / (refTotal + curTotal);
  if (pooled === 0 || pooled === 1) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / refTotal + 1 / curTotal));
  return { statistic: z, pValue: normalTwoSided(z) };
}
