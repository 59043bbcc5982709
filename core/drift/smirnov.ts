// The one-sided Smirnov survival function Pr(D+_n ≥ x) (scipy.special.smirnov), following xsf's cephes
// kolmogorov.h (Birnbaum–Tingey sum with its early termination), with each term computed in the log domain
// in double precision instead of xsf's double-double: ~1e-12 relative for the n and x drift detection meets.
// Past 5,000 terms the sum is taken on a sampled grid of them instead (sampledTermSum): ~1e-13, in microseconds.
const MINLOG = -708.3964185322641;
const EPS = 2.220446049250313e-16;
const LOG_2PI = Math.log(2 * Math.PI);

/** a + b as an unevaluated sum hi + lo (Knuth's TwoSum). */
function twoSum(a: number, b: number): [number, number] {
  const hi = a + b;
  const bb = hi - a;
  return [hi, a - (hi - bb) + (b - bb)];
}

/** log of A_v(n, x) = C(n, v) (1 − x − v/n)^(n−v) (x + v/n)^(v−1), given log C(n, v). */
function logTerm(n: number, x: number, v: number, logC: number): number {
  const [s, e] = twoSum(v / n, x); // x + v/n carried to ~2 ulps beyond double
  const t2 = n - v === 0 ? 0 : (n - v) * (Math.log1p(-s) - e / (1 - s));
  const t1 = v - 1 === 0 ? 0 : (v - 1) * (Math.log(s) + e / s);
  return logC + t1 + t2;
}

/** log1p(a) − a, without the cancellation of computing it that way for small a. */
function log1pmx(a: number): number {
  if (Math.abs(a) > 0.25) return Math.log1p(a) - a;
  const t = a / (2 + a);
  const t2 = t * t;
  let power = t * t2;
  let series = 0;
  for (let k = 3; ; k += 2) {
    const term = power / k;
    series += term;
    if (Math.abs(term) <= 1e-18 * Math.abs(series)) break;
    power *= t2;
  }
  return -(a * a) / (2 + a) + 2 * series;
}
/** log m! − Stirling's (m + ½) log m − m + ½ log 2π, for m ≥ 30. */
function stirlingTail(m: number): number {
  const r = 1 / (m * m);
  return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r / 1680))) / m;
}
const MIN_M = 30;
/** log A_v for real v in [MIN_M, n − MIN_M], with the first-order parts of its logs cancelled analytically:
 * absolute error ~1e-14 where log C(n, v) alone is ~n. */
function logTermAt(n: number, x: number, v: number): number {
  const w = n - v;
  const nx = n * x;
  return (
    v * log1pmx(nx / v) +
    w * log1pmx(-nx / w) -
    Math.log(x + v / n) +
    0.5 * (Math.log(n / (v * w)) - LOG_2PI) +
    stirlingTail(n) -
    stirlingTail(v) -
    stirlingTail(w)
  );
}

/**
 * Σ_v A_v by the trapezoid rule on a grid of step h through the terms' peak. The terms are a smooth unimodal
 * function of v, many thousands wide at the n this path serves, so the grid sum converges to the integer sum
 * faster than exponentially in width/h; h is halved until two grids agree to 1e-14. Undefined when the terms
 * are not negligible at the edges of the range (then only the exact sum will do).
 */
function sampledTermSum(n: number, x: number, last: number): number | undefined {
  const lo = MIN_M;
  const hi = Math.min(last, n - MIN_M);
  if (hi - lo < 1000) return undefined;
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const m1 = a + (b - a) / 3;
    const m2 = b - (b - a) / 3;
    if (logTermAt(n, x, m1) < logTermAt(n, x, m2)) a = m1;
    else b = m2;
  }
  const peak = (a + b) / 2;
  const logPeak = logTermAt(n, x, peak);
  const gridSum = (h: number): number | undefined => {
    let sum = 0;
    for (const dir of [1, -1]) {
      for (let j = dir === 1 ? 0 : 1; ; j++) {
        const v = peak + dir * j * h;
        if (v < lo || v > hi) return undefined;
        const rel = Math.exp(logTermAt(n, x, v) - logPeak);
        sum += rel;
        if (rel < 1e-20 * sum) break;
      }
    }
    return sum * h;
  };
  let h = (hi - lo) / 64;
  let coarse = gridSum(h);
  while (coarse !== undefined && h >= 8) {
    h /= 2;
    const fine = gridSum(h);
    if (fine === undefined) return undefined;
    if (Math.abs(fine - coarse) <= 1e-14 * fine) return fine * Math.exp(logPeak);
    coarse = fine;
  }
  return undefined;
}

export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  let nxfl = Math.floor(nx);
  let alpha = nx - nxfl;
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  let n1mxceil = n - nxfl;
  if (alpha === 0) {
    n1mxfl -= 1;
    n1mxceil += 1;
  }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return 1 - x * Math.pow(1 + x, n - 1);
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return Math.pow(1 - x, n);
  if (n > 1_000_000) {
    const logp = -Math.pow(6 * n * x + 1, 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  const nUpperTerms = n - n1mxceil + 1;
  const useUpper = (nUpperTerms <= 1 && x < 0.5) || (n >= 10 && nUpperTerms <= 3 && x <= 0.5 / Math.sqrt(n));
  const start = useUpper ? n : 0;
  const step = useUpper ? -1 : 1;
  const nTerms = useUpper ? n - n1mxceil + 1 : n1mxfl + 1;
  if (!useUpper && nTerms > 5000) {
    const sum = sampledTermSum(n, x, nTerms - 1);
    if (sum !== undefined) return Math.min(1, Math.max(0, x * sum));
  }
  const vmid = Math.floor(n / 2);
  // log C(n, v), v = start + j·step (C(n, n) = C(n, 0) = 1), carried as hi + lo: it grows to ~n and would
  // otherwise lose ~1e-11 of absolute precision per step over tens of thousands of steps.
  let logC = 0;
  let logCLo = 0;
  let sum = 0;
  let sumLo = 0;
  for (let j = 0; j < nTerms; j++) {
    const v = start + j * step;
    if (j > 0) {
      const [hi, lo] = twoSum(logC, useUpper ? Math.log((v + 1) / (n - v)) : Math.log((n - v + 1) / v));
      logC = hi;
      logCLo += lo;
    }
    const aj = Math.exp(logTerm(n, x, v, logC) + logCLo);
    const [hi, lo] = twoSum(sum, aj);
    sum = hi;
    sumLo += lo;
    if (aj !== 0) {
      if (4 * (nTerms - j) * aj < EPS * sum && j !== nTerms - 1) break;
    } else if (j > vmid) break;
  }
  const prob = x * (sum + sumLo);
  return Math.min(1, Math.max(0, useUpper ? 1 - prob : prob));
}
