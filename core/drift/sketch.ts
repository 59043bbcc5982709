// The quantile sketch a numeric window feature switches to once its distinct values pass the exact-count limit:
// a DDSketch (Datadog's relative-error, mergeable sketch) of the deviations x − c from a centre c (the reference
// median), so its relative error α applies to |x − c|, on the scale of the spread, not of the values' magnitude.
//
// Bounds, written in the drift report: every value is stood in for by its bucket's representative, within
// α·|x − c| of it, so
//   Wasserstein: |W(ref, sketch) − W(ref, window)| ≤ mean displacement ≤ α · mean|x − c|
//   KS:          the sketched CDF differs from the window's by at most one bucket's mass, so
//                |D(ref, sketch) − D(ref, window)| ≤ (largest bucket count) / (window count).
import { DDSketch } from '@datadog/sketches-js';
import { z } from 'zod';
import type { Distribution } from './statistics';

type Store = DDSketch['store'];
/** The fields of sketches-js's LogarithmicMapping (DDSketch's default) that addValues inlines: key(v) is
 *  ceil(log2(v) · _multiplier) + _offset. */
type LogMapping = { minPossible: number; _multiplier: number; _offset: number; key(v: number): number };

const StoreJson = z.object({ minKey: z.number().int(), counts: z.array(z.number().min(0)) }).strict();
export const SketchJson = z
  .object({
    center: z.number(),
    relativeAccuracy: z.number().gt(0).max(0.1),
    zero: z.number().min(0),
    positive: StoreJson,
    negative: StoreJson,
    absDeviation: z.number().min(0).describe('Σ |x − center| over the sketched values (for the Wasserstein bound)'),
  })
  .strict();
export type SketchJson = z.infer<typeof SketchJson>;

/** What a sketched feature's KS and Wasserstein values may be off by (absolute). */
export interface SketchBound {
  relativeAccuracy: number;
  ksStatistic: number;
  wasserstein: number;
}

function storeKeys(store: Store, visit: (key: number, count: number) => void): void {
  if (store.count === 0) return;
  for (let key = store.minKey; key <= store.maxKey; key++) {
    const count = store.bins[key - store.offset] ?? 0;
    if (count > 0) visit(key, count);
  }
}

/** Adds one count per key to a store: its range extended once to the keys' span, then its bins counted directly. */
function countKeys(store: Store, keys: Int32Array): void {
  if (keys.length === 0) return;
  let min = keys[0]!;
  let max = min;
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    if (k < min) min = k;
    else if (k > max) max = k;
  }
  store.add(min, 0);
  store.add(max, 0);
  const bins = store.bins;
  const base = store.offset;
  for (let i = 0; i < keys.length; i++) bins[keys[i]! - base]!++;
  store.count += keys.length;
}

function storeJson(store: Store): z.infer<typeof StoreJson> {
  const counts: number[] = [];
  storeKeys(store, (key, count) => (counts[key - store.minKey] = count));
  return { minKey: store.count === 0 ? 0 : store.minKey, counts: Array.from(counts, (c) => c ?? 0) };
}

export class CenteredSketch {
  private readonly sketch: DDSketch;
  private absDeviation = 0;
  /** scratch for addValues */
  private keys = new Int32Array(0);

  constructor(
    readonly center: number,
    readonly relativeAccuracy: number,
  ) {
    this.sketch = new DDSketch({ relativeAccuracy });
    const m = this.sketch.mapping as unknown as LogMapping;
    if (Math.ceil(Math.log2(Math.E) * m._multiplier) + m._offset !== m.key(Math.E))
      throw new Error('the sketch mapping is not the logarithmic one CenteredSketch.addValues inlines');
  }

  /** Adds `weight` occurrences of the finite value `v`. */
  add(v: number, weight = 1): void {
    const d = v - this.center;
    this.sketch.accept(d, weight);
    this.absDeviation += Math.abs(d) * weight;
  }

  /**
   * Adds the finite values of `values` from index `from` on (NaN and ±Infinity skipped): the same buckets as add()
   * one by one, at a fraction of its cost — keys are computed in one pass (the library's LogarithmicMapping formula,
   * inlined), each store's range is extended once, then its bins counted directly.
   */
  addValues(values: Float64Array, from = 0): void {
    const { store, negativeStore } = this.sketch;
    const mapping = this.sketch.mapping as unknown as LogMapping;
    const tiny = mapping.minPossible;
    const multiplier = mapping._multiplier;
    const offset = mapping._offset;
    if (this.keys.length < values.length - from) this.keys = new Int32Array(values.length - from);
    const keys = this.keys;
    let positive = 0; // positive keys fill keys from the start, negative ones from the end
    let negative = keys.length;
    let zero = 0;
    let absDeviation = 0;
    for (let i = from; i < values.length; i++) {
      const v = values[i]!;
      if (v !== v || v === Infinity || v === -Infinity) continue;
      const d = v - this.center;
      if (d > tiny) {
        keys[positive++] = Math.ceil(Math.log2(d) * multiplier) + offset;
        absDeviation += d;
      } else if (d < -tiny) {
        keys[--negative] = Math.ceil(Math.log2(-d) * multiplier) + offset;
        absDeviation -= d;
      } else zero++;
    }
    countKeys(store, keys.subarray(0, positive));
    countKeys(negativeStore, keys.subarray(negative));
    this.sketch.zeroCount += zero;
    this.sketch.count += positive + (keys.length - negative) + zero;
    this.absDeviation += absDeviation;
  }

  get count(): number {
    return this.sketch.count;
  }

  /** Adds another sketch of the same centre and accuracy (the same reference and settings). */
  merge(other: CenteredSketch): void {
    if (other.center !== this.center || other.relativeAccuracy !== this.relativeAccuracy)
      throw new Error('sketches of different centres or accuracies do not merge (different references or settings)');
    // Bin by bin through the stores' public add: DDSketch.merge in sketches-js 2.1 drops the negative store.
    const into = (store: Store, from: Store) => storeKeys(from, (key, count) => store.add(key, count));
    into(this.sketch.store, other.sketch.store);
    into(this.sketch.negativeStore, other.sketch.negativeStore);
    this.sketch.zeroCount += other.sketch.zeroCount;
    this.sketch.count += other.sketch.count;
    this.absDeviation += other.absDeviation;
  }

  /** The sketch as a distribution of bucket representatives (ascending), with its error bounds. */
  toDistribution(): { distribution: Distribution; bound: SketchBound } {
    const { mapping, store, negativeStore, zeroCount } = this.sketch;
    const values: number[] = [];
    const counts: number[] = [];
    let largest = zeroCount;
    const push = (v: number, c: number) => {
      largest = Math.max(largest, c);
      const x = this.center + v;
      // Adding the centre can round neighbouring representatives to one float: keep values strictly ascending.
      if (values.length > 0 && values[values.length - 1] === x) counts[counts.length - 1]! += c;
      else {
        values.push(x);
        counts.push(c);
      }
    };
    const negative: [number, number][] = [];
    storeKeys(negativeStore, (key, count) => negative.push([key, count]));
    for (let i = negative.length - 1; i >= 0; i--) push(-mapping.value(negative[i]![0]), negative[i]![1]);
    if (zeroCount > 0) push(0, zeroCount);
    storeKeys(store, (key, count) => push(mapping.value(key), count));
    const total = this.sketch.count;
    return {
      distribution: { values: Float64Array.from(values), counts: Float64Array.from(counts), total },
      bound: {
        relativeAccuracy: this.relativeAccuracy,
        ksStatistic: total === 0 ? 0 : largest / total,
        wasserstein: total === 0 ? 0 : (this.relativeAccuracy * this.absDeviation) / total,
      },
    };
  }

  toJSON(): SketchJson {
    return {
      center: this.center,
      relativeAccuracy: this.relativeAccuracy,
      zero: this.sketch.zeroCount,
      positive: storeJson(this.sketch.store),
      negative: storeJson(this.sketch.negativeStore),
      absDeviation: this.absDeviation,
    };
  }

  static fromJSON(json: SketchJson): CenteredSketch {
    const s = new CenteredSketch(json.center, json.relativeAccuracy);
    const restore = (store: Store, from: z.infer<typeof StoreJson>) =>
      from.counts.forEach((c, i) => {
        if (c > 0) store.add(from.minKey + i, c);
      });
    restore(s.sketch.store, json.positive);
    restore(s.sketch.negativeStore, json.negative);
    s.sketch.zeroCount = json.zero;
    s.sketch.count = s.sketch.store.count + s.sketch.negativeStore.count + json.zero;
    s.absDeviation = json.absDeviation;
    return s;
  }
}
