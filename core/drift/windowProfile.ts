// The window's side of a drift check, built batch by batch and mergeable: what each feature of the window holds,
// in memory bounded by drift.window.memoryMiB whatever the window's size. Numeric features count their distinct
// values exactly up to a limit, then switch to a quantile sketch (sketch.ts); bins against the reference's edges,
// missing, ±Infinity and out-of-range counts stay exact throughout. Categorical features count categories exactly
// up to a cap; categories past it count together as one overflow. Merging partials in row order gives what one
// pass over the rows gives, exactly where counts are exact.
import { z } from 'zod';
import { InvalidInputError } from '../parse';
import { type CategoricalColumn, forEachCodedCategory } from './categories';
import { type FeatureColumn, type FeatureFrame, type FeatureKind, frameRows } from './frame';
import { BinLookup, binCounts, binOf } from './histogram';
import type { CategoricalProfile, NumericProfile, ReferenceProfile } from './profile';
import type { DriftSettings } from './settings';
import { CenteredSketch, SketchJson } from './sketch';
import type { Distribution } from './statistics';
import { ValueCounts } from './valueCounts';

/** Bytes one exact numeric value costs in the hash table (two float64 slots, half full at worst). */
const BYTES_PER_VALUE = 64;
/** Bytes one exact category costs (Map entry and string). */
const BYTES_PER_CATEGORY = 160;

export interface NumericWindowFeature {
  kind: 'numeric';
  name: string;
  rows: number;
  missing: number;
  nonFinite: number;
  /** counts per reference bin and outside [min, max] of the sketched values (exact values are binned at the end) */
  bins: number[];
  outside: number;
  exact: ValueCounts | null;
  sketch: CenteredSketch | null;
  /** distinct values counted when the feature switched to its sketch (0 while exact) */
  distinctAtSwitch: number;
  limit: number;
}

export interface CategoricalWindowFeature {
  kind: 'categorical';
  name: string;
  rows: number;
  missing: number;
  /** category counts in first-seen order */
  counts: Map<string, number>;
  /** rows of new categories met once `limit` categories were held */
  overflowRows: number;
  limit: number;
}

export type WindowFeature = NumericWindowFeature | CategoricalWindowFeature;

/** The numeric feature's finished counts: its distribution (exact or sketched) and bins against the reference. */
export function numericSummary(
  p: NumericProfile,
  f: NumericWindowFeature,
): {
  distribution: Distribution;
  bins: number[];
  outside: number;
  sketch?: ReturnType<CenteredSketch['toDistribution']>['bound'];
} {
  if (f.sketch) {
    const { distribution, bound } = f.sketch.toDistribution();
    return { distribution, bins: f.bins, outside: f.outside, sketch: bound };
  }
  const distribution = f.exact!.toDistribution();
  let outside = 0;
  for (let i = 0; i < distribution.values.length; i++)
    if (distribution.values[i]! < p.min || distribution.values[i]! > p.max) outside += distribution.counts[i]!;
  return { distribution, bins: binCounts(p.bins.edges, distribution), outside };
}

function toSketch(p: NumericProfile, f: NumericWindowFeature, accuracy: number): CenteredSketch {
  if (f.sketch) return f.sketch;
  const sketch = new CenteredSketch(p.quantiles.p50, accuracy);
  f.distinctAtSwitch = f.exact!.size;
  f.exact!.forEach((v, c) => addSketched(p, f, sketch, v, c));
  f.exact = null;
  f.sketch = sketch;
  return sketch;
}

function addSketched(p: NumericProfile, f: NumericWindowFeature, sketch: CenteredSketch, v: number, c: number): void {
  f.bins[binOf(p.bins.edges, v)]! += c;
  if (v < p.min || v > p.max) f.outside += c;
  sketch.add(v, c);
}

function addNumeric(p: NumericProfile, f: NumericWindowFeature, values: Float64Array, accuracy: number): void {
  f.rows += values.length;
  let i = 0;
  const exact = f.exact;
  if (exact) {
    let missing = 0;
    let nonFinite = 0;
    const limit = f.limit;
    while (i < values.length) {
      const v = values[i++]!;
      if (v !== v) missing++;
      else if (v === Infinity || v === -Infinity) nonFinite++;
      else {
        exact.add(v);
        if (exact.size > limit) break;
      }
    }
    f.missing += missing;
    f.nonFinite += nonFinite;
    if (exact.size <= limit) return;
    toSketch(p, f, accuracy);
  }
  addSketchedValues(p, f, values, i);
}

/** Each reference feature's bin lookup, built at its first sketched batch. */
const binLookups = new WeakMap<NumericProfile, BinLookup>();

/** Values [from, end) of a batch into a sketched feature: exact bins and range counts, the value into the sketch. */
function addSketchedValues(p: NumericProfile, f: NumericWindowFeature, values: Float64Array, from: number): void {
  let lookup = binLookups.get(p);
  if (!lookup) binLookups.set(p, (lookup = new BinLookup(p.bins.edges)));
  const { min, max } = p;
  const bins = f.bins;
  const sketch = f.sketch!;
  let missing = 0;
  let nonFinite = 0;
  let outside = 0;
  for (let i = from; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) missing++;
    else if (v === Infinity || v === -Infinity) nonFinite++;
    else {
      bins[lookup.of(v)]!++;
      if (v < min || v > max) outside++;
    }
  }
  sketch.addValues(values, from);
  f.missing += missing;
  f.nonFinite += nonFinite;
  f.outside += outside;
}

function addCategory(f: CategoricalWindowFeature, reference: Set<string>, v: string, c: number): void {
  const n = f.counts.get(v);
  if (n !== undefined) f.counts.set(v, n + c);
  else if (f.counts.size < f.limit || reference.has(v)) f.counts.set(v, c);
  else f.overflowRows += c;
}

function addCategorical(f: CategoricalWindowFeature, reference: Set<string>, col: CategoricalColumn): void {
  if ('codes' in col) {
    f.rows += col.codes.length;
    f.missing += forEachCodedCategory(col, (v, c) => addCategory(f, reference, v, c));
    return;
  }
  const values = col.values;
  f.rows += values.length;
  const counts = f.counts;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === '') {
      f.missing++;
      continue;
    }
    const n = counts.get(v);
    if (n !== undefined) counts.set(v, n + 1);
    else addCategory(f, reference, v, 1);
  }
}

const WindowFeatureJson = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('numeric'),
      name: z.string(),
      rows: z.number().int().min(0),
      missing: z.number().int().min(0),
      nonFinite: z.number().int().min(0),
      bins: z.array(z.number().min(0)),
      outside: z.number().min(0),
      exact: z
        .object({ values: z.array(z.number()), counts: z.array(z.number().min(1)) })
        .strict()
        .nullable(),
      sketch: SketchJson.nullable(),
      distinctAtSwitch: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      kind: z.literal('categorical'),
      name: z.string(),
      rows: z.number().int().min(0),
      missing: z.number().int().min(0),
      categories: z.array(z.string()),
      counts: z.array(z.number().min(1)),
      overflowRows: z.number().int().min(0),
    })
    .strict(),
]);

/** A window profile as JSON: what one part of a fanned-out check hands to the merge (stored in S3). */
export const WindowProfileJson = z
  .object({
    schemaVersion: z.literal(1),
    rows: z.number().int().min(0),
    features: z.array(WindowFeatureJson),
    mismatched: z.record(z.string(), z.enum(['numeric', 'categorical'])),
  })
  .strict();
export type WindowProfileJson = z.infer<typeof WindowProfileJson>;

export class WindowProfile {
  rows = 0;
  readonly features = new Map<string, WindowFeature>();
  /** features whose window column is of another kind than the reference's */
  readonly mismatched = new Map<string, FeatureKind>();
  private readonly profiles: Map<string, NumericProfile | CategoricalProfile>;
  private readonly categories = new Map<string, Set<string>>();
  private readonly numericLimit: number;
  private readonly categoryLimit: number;

  constructor(
    readonly reference: ReferenceProfile,
    private readonly settings: DriftSettings,
  ) {
    this.profiles = new Map(reference.features.map((f) => [f.name, f]));
    const budget = (settings.window.memoryMiB * 2 ** 20) / 2; // half for counts, half for the batch being read
    const numeric = reference.features.filter((f) => f.kind === 'numeric').length || 1;
    const categorical = reference.features.filter((f) => f.kind === 'categorical').length || 1;
    this.numericLimit = Math.max(
      100,
      Math.min(settings.profile.maxDistinct, Math.floor(budget / 2 / numeric / BYTES_PER_VALUE)),
    );
    this.categoryLimit = Math.max(
      2,
      Math.min(settings.profile.maxCategories, Math.floor(budget / 2 / categorical / BYTES_PER_CATEGORY)),
    );
    for (const f of reference.features)
      if (f.kind === 'categorical') this.categories.set(f.name, new Set(f.categories));
  }

  private feature(name: string, kind: FeatureKind): WindowFeature | undefined {
    const profile = this.profiles.get(name);
    if (!profile) return undefined;
    if (profile.kind !== kind) {
      this.mismatched.set(name, kind);
      return undefined;
    }
    let f = this.features.get(name);
    if (!f) {
      f =
        kind === 'numeric'
          ? {
              kind,
              name,
              rows: 0,
              missing: 0,
              nonFinite: 0,
              bins: new Array<number>((profile as NumericProfile).bins.counts.length).fill(0),
              outside: 0,
              exact: new ValueCounts(),
              sketch: null,
              distinctAtSwitch: 0,
              limit: this.numericLimit,
            }
          : { kind, name, rows: 0, missing: 0, counts: new Map(), overflowRows: 0, limit: this.categoryLimit };
      this.features.set(name, f);
    }
    return f;
  }

  /** Adds one batch of rows (columns of equal length; features outside the reference are ignored). */
  add(frame: FeatureFrame): this {
    this.rows += frameRows(frame);
    for (const col of frame) this.addColumn(col);
    return this;
  }

  /** Adds one feature's values of a batch; the batch's rows are counted by addRows. */
  addColumn(col: FeatureColumn): void {
    const f = this.feature(col.name, col.kind);
    if (!f) return;
    if (f.kind === 'numeric' && col.kind === 'numeric')
      addNumeric(
        this.profiles.get(f.name) as NumericProfile,
        f,
        col.values,
        this.settings.window.sketchRelativeAccuracy,
      );
    else if (f.kind === 'categorical' && col.kind === 'categorical')
      addCategorical(f, this.categories.get(f.name)!, col);
  }

  /** Counts rows read column by column (addColumn), once per batch. */
  addRows(rows: number): void {
    this.rows += rows;
  }

  /** Adds another part of the same window (same reference and settings), after this one in row order. */
  merge(other: WindowProfile): this {
    this.rows += other.rows;
    for (const [name, kind] of other.mismatched) this.mismatched.set(name, kind);
    for (const o of other.features.values()) {
      const f = this.feature(o.name, o.kind)!;
      f.rows += o.rows;
      f.missing += o.missing;
      if (f.kind === 'categorical' && o.kind === 'categorical') {
        for (const [v, c] of o.counts) addCategory(f, this.categories.get(f.name)!, v, c);
        f.overflowRows += o.overflowRows;
      } else if (f.kind === 'numeric' && o.kind === 'numeric') this.mergeNumeric(f, o);
    }
    return this;
  }

  private mergeNumeric(f: NumericWindowFeature, o: NumericWindowFeature): void {
    const p = this.profiles.get(f.name) as NumericProfile;
    const accuracy = this.settings.window.sketchRelativeAccuracy;
    f.nonFinite += o.nonFinite;
    if (o.sketch) {
      toSketch(p, f, accuracy).merge(o.sketch);
      o.bins.forEach((c, i) => (f.bins[i]! += c));
      f.outside += o.outside;
      f.distinctAtSwitch = Math.max(f.distinctAtSwitch, o.distinctAtSwitch);
      return;
    }
    o.exact!.forEach((v, c) => {
      if (f.exact) {
        f.exact.add(v, c);
        if (f.exact.size > f.limit) toSketch(p, f, accuracy);
      } else addSketched(p, f, f.sketch!, v, c);
    });
  }

  toJSON(): WindowProfileJson {
    const features = [...this.features.values()].map((f): z.infer<typeof WindowFeatureJson> => {
      if (f.kind === 'categorical')
        return {
          kind: f.kind,
          name: f.name,
          rows: f.rows,
          missing: f.missing,
          categories: [...f.counts.keys()],
          counts: [...f.counts.values()],
          overflowRows: f.overflowRows,
        };
      let exact: { values: number[]; counts: number[] } | null = null;
      if (f.exact) {
        exact = { values: [], counts: [] };
        f.exact.forEach((v, c) => (exact!.values.push(v), exact!.counts.push(c)));
      }
      return {
        kind: f.kind,
        name: f.name,
        rows: f.rows,
        missing: f.missing,
        nonFinite: f.nonFinite,
        bins: f.bins,
        outside: f.outside,
        exact,
        sketch: f.sketch?.toJSON() ?? null,
        distinctAtSwitch: f.distinctAtSwitch,
      };
    });
    return { schemaVersion: 1, rows: this.rows, features, mismatched: Object.fromEntries(this.mismatched) };
  }

  /** Reads a part stored by toJSON, for the same reference and settings. */
  static fromJSON(reference: ReferenceProfile, settings: DriftSettings, json: WindowProfileJson): WindowProfile {
    const w = new WindowProfile(reference, settings);
    w.rows = json.rows;
    for (const [name, kind] of Object.entries(json.mismatched)) w.mismatched.set(name, kind);
    for (const j of json.features) {
      const f = w.feature(j.name, j.kind);
      if (!f) throw new InvalidInputError('window profile', [`feature "${j.name}" does not match the reference`]);
      f.rows = j.rows;
      f.missing = j.missing;
      if (f.kind === 'categorical' && j.kind === 'categorical') {
        j.categories.forEach((c, i) => f.counts.set(c, j.counts[i]!));
        f.overflowRows = j.overflowRows;
      } else if (f.kind === 'numeric' && j.kind === 'numeric') {
        f.nonFinite = j.nonFinite;
        f.bins = [...j.bins];
        f.outside = j.outside;
        f.distinctAtSwitch = j.distinctAtSwitch;
        if (j.sketch) {
          f.exact = null;
          f.sketch = CenteredSketch.fromJSON(j.sketch);
        } else j.exact!.values.forEach((v, i) => f.exact!.add(v, j.exact!.counts[i]));
      }
    }
    return w;
  }
}
