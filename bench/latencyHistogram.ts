// A Prometheus histogram read from a worker's endpoint at two moments: the observations between them and their
// percentiles (to the bucket: the upper bound of the bucket the percentile falls in).
import { matching, scrape } from '../test/helpers/prometheus';

/** Cumulative counts by upper bound (`le`, Infinity for +Inf), summed over every label set. */
export type HistogramSnapshot = Map<number, number>;

export async function histogramSnapshot(url: string, name: string): Promise<HistogramSnapshot> {
  const snapshot: HistogramSnapshot = new Map();
  for (const s of matching(await scrape(url), `${name}_bucket`)) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    snapshot.set(le, (snapshot.get(le) ?? 0) + s.value);
  }
  return snapshot;
}

/** What was observed after `before` up to `after`. */
export function histogramDelta(before: HistogramSnapshot, after: HistogramSnapshot): HistogramSnapshot {
  return new Map([...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)]));
}

export const histogramCount = (h: HistogramSnapshot): number => h.get(Infinity) ?? 0;

/** The upper bound of the bucket holding the `p`-th percentile (0–100); Infinity past the last finite bound. */
export function histogramPercentile(h: HistogramSnapshot, p: number): number {
  const total = histogramCount(h);
  const bounds = [...h.keys()].sort((a, b) => a - b);
  for (const le of bounds) if (h.get(le)! >= (p / 100) * total) return le;
  return Infinity;
}
