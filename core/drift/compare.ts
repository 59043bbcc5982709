// Every metric of one feature's window against its reference profile: one pass over the window builds its
// counts, the rest works on distinct values and bins.
import { absentCounts, type FeatureColumn } from './frame';
import { binCounts, categoryCounts, OTHER_CATEGORY } from './histogram';
import type { CategoricalProfile, FeatureProfile, NumericProfile } from './profile';
import type { DriftMethod } from './settings';
import {
  chi2Contingency,
  type Distribution,
  distributionOf,
  jensenShannon,
  ks2samp,
  psi,
  twoProportionZTest,
  wasserstein,
} from './statistics';

/** Numeric chi-squared treats distinct values as categories: only computed up to this many of them. */
const MAX_CHI2_NUMERIC_VALUES = 1000;

export interface TestValue {
  statistic: number;
  pValue: number;
}

export interface FeatureMetrics {
  rows: number;
  missing: number;
  /** numeric: ±Infinity values (left out of every statistic, like missing ones) */
  nonFinite?: number;
  /** distinct non-missing values (categories) over reference and window together */
  uniqueValues: number;
  ks?: TestValue;
  wasserstein?: number;
  wassersteinNormed?: number;
  chisquare?: TestValue & { dof: number };
  ztest?: TestValue;
  jensenshannon: number;
  psi: number;
  unseen?: { count: number; share: number; examples: string[] };
  outOfRangeShare?: number;
}

const profileDistribution = (p: NumericProfile): Distribution => ({
  values: Float64Array.from(p.values),
  counts: Float64Array.from(p.counts),
  total: p.counts.reduce((s, c) => s + c, 0),
});

function unionSize(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const v = Math.min(i < a.length ? a[i]! : Infinity, j < b.length ? b[j]! : Infinity);
    if (a[i] === v) i++;
    if (b[j] === v) j++;
    n++;
  }
  return n;
}

function alignedValueCounts(ref: Distribution, cur: Distribution): [number[], number[]] {
  const r: number[] = [];
  const c: number[] = [];
  let i = 0;
  let j = 0;
  while (i < ref.values.length || j < cur.values.length) {
    const v = Math.min(
      i < ref.values.length ? ref.values[i]! : Infinity,
      j < cur.values.length ? cur.values[j]! : Infinity,
    );
    r.push(ref.values[i] === v ? ref.counts[i++]! : 0);
    c.push(cur.values[j] === v ? cur.counts[j++]! : 0);
  }
  return [r, c];
}

function numericMetrics(p: NumericProfile, values: Float64Array): FeatureMetrics {
  const cur = distributionOf(values);
  const ref = profileDistribution(p);
  const base = { rows: values.length, ...absentCounts(values), uniqueValues: unionSize(ref.values, cur.values) };
  const binsCur = binCounts(p.bins.edges, cur);
  let outside = 0;
  for (let i = 0; i < cur.values.length; i++)
    if (cur.values[i]! < p.min || cur.values[i]! > p.max) outside += cur.counts[i]!;
  const w = wasserstein(ref, cur);
  const metrics: FeatureMetrics = {
    ...base,
    ks: (({ statistic, pValue }) => ({ statistic, pValue }))(ks2samp(ref, cur)),
    wasserstein: w,
    wassersteinNormed: w / Math.max(p.std, 0.001),
    jensenshannon: jensenShannon(p.bins.counts, binsCur),
    psi: psi(p.bins.counts, binsCur),
    outOfRangeShare: outside / cur.total,
  };
  if (base.uniqueValues <= MAX_CHI2_NUMERIC_VALUES)
    metrics.chisquare = chi2Contingency(...alignedValueCounts(ref, cur));
  return metrics;
}

function categoricalMetrics(p: CategoricalProfile, values: readonly string[]): FeatureMetrics {
  const { counts, missing } = categoryCounts(values);
  const known = new Map(p.categories.map((c, i) => [c, i]));
  const otherIndex = known.get(OTHER_CATEGORY);
  const cur = new Array<number>(p.categories.length).fill(0);
  const ref = [...p.counts];
  const unseen: [string, number][] = [];
  for (const [category, count] of counts) {
    const i = known.get(category) ?? otherIndex;
    if (i !== undefined) cur[i]! += count;
    else unseen.push([category, count]);
  }
  for (const [, count] of unseen) {
    ref.push(0);
    cur.push(count);
  }
  const present = values.length - missing;
  const unseenRows = unseen.reduce((s, [, c]) => s + c, 0);
  const metrics: FeatureMetrics = {
    rows: values.length,
    missing,
    uniqueValues: ref.length,
    chisquare: chi2Contingency(ref, cur),
    jensenshannon: jensenShannon(ref, cur),
    psi: psi(ref, cur),
    unseen: {
      count: unseen.length,
      share: present === 0 ? 0 : unseenRows / present,
      examples: unseen
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([k]) => k),
    },
  };
  if (ref.length === 2) metrics.ztest = twoProportionZTest(ref[0]!, ref[0]! + ref[1]!, cur[0]!, cur[0]! + cur[1]!);
  return metrics;
}

/** All metrics of a window column against the feature's profile (the column must be of the profile's kind). */
export function featureMetrics(profile: FeatureProfile, column: FeatureColumn): FeatureMetrics {
  if (profile.kind === 'numeric' && column.kind === 'numeric') return numericMetrics(profile, column.values);
  if (profile.kind === 'categorical' && column.kind === 'categorical')
    return categoricalMetrics(profile, column.values);
  throw new Error(`feature "${profile.name}" is ${profile.kind} in the reference but ${column.kind} in the window`);
}

/** The value a method decides on: a p-value (ks, chisquare, ztest) or a distance; undefined when not computed. */
export function methodValue(
  method: DriftMethod,
  m: FeatureMetrics,
): TestValue | { statistic: number; pValue: null } | undefined {
  switch (method) {
    case 'ks':
      return m.ks;
    case 'chisquare':
      return m.chisquare && { statistic: m.chisquare.statistic, pValue: m.chisquare.pValue };
    case 'ztest':
      return m.ztest;
    case 'wasserstein':
      return m.wassersteinNormed === undefined ? undefined : { statistic: m.wassersteinNormed, pValue: null };
    case 'jensenshannon':
      return { statistic: m.jensenshannon, pValue: null };
    case 'psi':
      return { statistic: m.psi, pValue: null };
  }
}
