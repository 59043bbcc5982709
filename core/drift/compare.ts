// Every metric of one feature's window against its reference profile, from the window's counts (windowProfile.ts):
// the work is on distinct values and bins, not rows.
import type { FeatureColumn } from './frame';
import { OTHER_CATEGORY } from './histogram';
import type { CategoricalProfile, FeatureProfile, NumericProfile } from './profile';
import type { DriftMethod, DriftSettings } from './settings';
import {
  type CategoricalWindowFeature,
  type NumericWindowFeature,
  numericSummary,
  type WindowFeature,
  WindowProfile,
} from './windowProfile';
import {
  chi2Contingency,
  type Distribution,
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
  /** categorical: rows of categories met past the window's category cap, counted together */
  overflowRows?: number;
  outOfRangeShare?: number;
  /** numeric past the exact-count limit: KS and Wasserstein come from a sketch, off by at most these */
  approximation?: Approximation;
}

export interface Approximation {
  sketch: 'ddsketch';
  relativeAccuracy: number;
  ksStatisticError: number;
  wassersteinError: number;
  wassersteinNormedError: number;
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

function numericMetrics(p: NumericProfile, f: NumericWindowFeature): FeatureMetrics {
  const { distribution: cur, bins: binsCur, outside, sketch } = numericSummary(p, f);
  const ref = profileDistribution(p);
  const uniqueValues = Math.max(unionSize(ref.values, cur.values), f.distinctAtSwitch);
  const w = wasserstein(ref, cur);
  const metrics: FeatureMetrics = {
    rows: f.rows,
    missing: f.missing,
    nonFinite: f.nonFinite,
    uniqueValues,
    ks: (({ statistic, pValue }) => ({ statistic, pValue }))(ks2samp(ref, cur)),
    wasserstein: w,
    wassersteinNormed: w / Math.max(p.std, 0.001),
    jensenshannon: jensenShannon(p.bins.counts, binsCur),
    psi: psi(p.bins.counts, binsCur),
    outOfRangeShare: outside / cur.total,
  };
  if (sketch)
    metrics.approximation = {
      sketch: 'ddsketch',
      relativeAccuracy: sketch.relativeAccuracy,
      ksStatisticError: sketch.ksStatistic,
      wassersteinError: sketch.wasserstein,
      wassersteinNormedError: sketch.wasserstein / Math.max(p.std, 0.001),
    };
  else if (uniqueValues <= MAX_CHI2_NUMERIC_VALUES)
    metrics.chisquare = chi2Contingency(...alignedValueCounts(ref, cur));
  return metrics;
}

function categoricalMetrics(p: CategoricalProfile, f: CategoricalWindowFeature): FeatureMetrics {
  const known = new Map(p.categories.map((c, i) => [c, i]));
  const otherIndex = known.get(OTHER_CATEGORY);
  const cur = new Array<number>(p.categories.length).fill(0);
  const ref = [...p.counts];
  const unseen: [string, number][] = [];
  for (const [category, count] of f.counts) {
    const i = known.get(category) ?? otherIndex;
    if (i !== undefined) cur[i]! += count;
    else unseen.push([category, count]);
  }
  for (const [, count] of unseen) {
    ref.push(0);
    cur.push(count);
  }
  // Categories past the window's cap: one column of their own (their split among themselves is not kept).
  if (f.overflowRows > 0 && otherIndex !== undefined) cur[otherIndex]! += f.overflowRows;
  else if (f.overflowRows > 0) {
    ref.push(0);
    cur.push(f.overflowRows);
  }
  const present = f.rows - f.missing;
  const unseenRows = unseen.reduce((s, [, c]) => s + c, 0) + (otherIndex === undefined ? f.overflowRows : 0);
  const metrics: FeatureMetrics = {
    rows: f.rows,
    missing: f.missing,
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
  if (f.overflowRows > 0) metrics.overflowRows = f.overflowRows;
  if (ref.length === 2) metrics.ztest = twoProportionZTest(ref[0]!, ref[0]! + ref[1]!, cur[0]!, cur[0]! + cur[1]!);
  return metrics;
}

/** All metrics of a window feature against the feature's profile (the feature must be of the profile's kind). */
export function windowFeatureMetrics(profile: FeatureProfile, feature: WindowFeature): FeatureMetrics {
  if (profile.kind === 'numeric' && feature.kind === 'numeric') return numericMetrics(profile, feature);
  if (profile.kind === 'categorical' && feature.kind === 'categorical') return categoricalMetrics(profile, feature);
  throw new Error(`feature "${profile.name}" is ${profile.kind} in the reference but ${feature.kind} in the window`);
}

/** All metrics of a window column against the feature's profile, counted in one batch. */
export function featureMetrics(
  profile: FeatureProfile,
  column: FeatureColumn,
  settings: DriftSettings,
): FeatureMetrics {
  const window = new WindowProfile({ schemaVersion: 1, rows: 0, features: [profile] }, settings);
  window.addColumn(column);
  const feature = window.features.get(profile.name);
  if (!feature)
    throw new Error(`feature "${profile.name}" is ${profile.kind} in the reference but ${column.kind} in the window`);
  return windowFeatureMetrics(profile, feature);
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
