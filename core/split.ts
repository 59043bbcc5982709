// Deterministic, time-aware train/validation/holdout split: the newest rows are held out, so the
// holdout measures what deployment will see (the future), not a shuffled copy of the past.
import type { SplitName } from './reports';

/** mulberry32: a tiny seeded PRNG; the same seed gives the same sample on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded uniform sample of `k` of the indices 0..n-1 (all of them when k >= n), in ascending order. */
export function sampleIndices(n: number, k: number | undefined, seed: number): number[] {
  if (k === undefined || k >= n) return Array.from({ length: n }, (_, i) => i);
  // A partial Fisher–Yates shuffle over a typed array (no array allocated per swap), sorted as numbers.
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const rand = seededRandom(seed);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  return Array.from(all.subarray(0, k).sort());
}

export function timeAwareSplit(
  times: ArrayLike<number>,
  options: { sampleRows?: number; seed: number; validationFraction: number; holdoutFraction: number },
): Record<SplitName, number[]> {
  const rows = sampleIndices(times.length, options.sampleRows, options.seed);
  rows.sort((a, b) => times[a]! - times[b]! || a - b);
  const holdoutStart = Math.floor(rows.length * (1 - options.holdoutFraction));
  const validationStart = Math.floor(rows.length * (1 - options.holdoutFraction - options.validationFraction));
  return {
    train: rows.slice(0, validationStart),
    validation: rows.slice(validationStart, holdoutStart),
    holdout: rows.slice(holdoutStart),
  };
}
