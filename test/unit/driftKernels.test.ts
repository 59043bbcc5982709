// The drift engine's fast paths give what the plain paths give: categorical codes + dictionary count like strings,
// the typed derivation of a feature column is deriveFeature cell by cell, exact value counts are exact, the bin
// lookup is the binary search.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectDrift,
  detectWindowDrift,
  DriftSettings,
  type FeatureFrame,
  profileReference,
  WindowProfile,
} from '../../core/drift';
import { categoryStrings, countCodes, encodeCategories } from '../../core/drift/categories';
import { deriveCategorical, deriveNumeric, utcHour, utcWeekday } from '../../core/drift/deriveColumns';
import { BinLookup, binOf } from '../../core/drift/histogram';
import { distributionOf } from '../../core/drift/statistics';
import { CenteredSketch } from '../../core/drift/sketch';
import { ValueCounts } from '../../core/drift/valueCounts';
import { type Cell, deriveFeature, isMissing } from '../../core/features';
import type { FeatureTransform } from '../../core/modelConfig';
import { InvalidInputError } from '../../core/parse';
import { seededRandom } from '../../core/split';

/** A frame whose categorical columns are strings, with '' (missing) rows and many rare categories. */
function stringFrame(n: number, seed: number, shift = 0): FeatureFrame {
  const rand = seededRandom(seed);
  return [
    { name: 'x', kind: 'numeric', values: Float64Array.from({ length: n }, () => Math.round(100 * rand()) + shift) },
    {
      name: 'city',
      kind: 'categorical',
      values: Array.from({ length: n }, () => {
        const u = rand() ** (1 + shift);
        return u < 0.05 ? '' : u < 0.2 ? `rare${Math.floor(1000 * rand())}` : `c${Math.floor(8 * u)}`;
      }),
    },
  ];
}

/** The same frame with its categorical columns as codes + dictionary: '' as code −1 or as a '' entry, and one
 *  category under two codes (a dictionary that repeats a string). */
function coded(frame: FeatureFrame): FeatureFrame {
  return frame.map((c) => {
    if (c.kind === 'numeric' || !('values' in c)) return c;
    const { codes, dictionary } = encodeCategories(c.values, () => false);
    const twice = [...dictionary, dictionary[0]!];
    const recoded = Int32Array.from(codes, (code, i) =>
      c.values[i] === '' && i % 2 === 0 ? -1 : code === 0 && i % 3 === 0 ? twice.length - 1 : code,
    );
    return { name: c.name, kind: 'categorical', codes: recoded, dictionary: twice };
  });
}

describe('categorical codes + dictionary', () => {
  it('profile, window (batches, merged parts) and report equal those of the same strings', () => {
    for (const extra of [{}, { window: { memoryMiB: 16 }, profile: { maxCategories: 20 } }]) {
      const settings = DriftSettings.parse(extra);
      const refStrings = stringFrame(4000, 1);
      const reference = profileReference(refStrings, settings);
      assert.deepEqual(profileReference(coded(refStrings), settings), reference);
      const current = stringFrame(9000, 2, 0.4);
      const expected = detectDrift(reference, current, settings);
      assert.deepEqual(detectDrift(reference, coded(current), settings), expected);
      const cut = (f: FeatureFrame, start: number, end: number): FeatureFrame =>
        f.map((c) =>
          c.kind === 'numeric'
            ? { ...c, values: c.values.subarray(start, end) }
            : 'codes' in c
              ? { ...c, codes: c.codes.subarray(start, end) }
              : { ...c, values: c.values.slice(start, end) },
        );
      // batches alternate the two forms; parts are merged only without a cap (past it a merge is not one pass)
      const capped = 'profile' in extra;
      const parts = (capped ? [0] : [0, 2500, 6000]).map((start, i, all) => {
        const w = new WindowProfile(reference, settings);
        const end = all[i + 1] ?? 9000;
        for (let b = start; b < end; b += 700)
          w.add(
            b % 1400 === 0 ? coded(cut(current, b, Math.min(end, b + 700))) : cut(current, b, Math.min(end, b + 700)),
          );
        return w;
      });
      const merged = parts.slice(1).reduce((w, p) => w.merge(p), parts[0]!);
      assert.deepEqual(detectWindowDrift(reference, merged, settings), expected);
      if (capped) assert.ok(expected.features.find((f) => f.name === 'city')!.categoryOverflowRows! > 0);
    }
  });

  it('counts codes in first-seen order and names a code past the dictionary', () => {
    const { counts, order, distinct, missing } = countCodes(
      Int32Array.from([2, -1, 0, 2, 2, -5]),
      ['a', 'b', 'c'],
      'f',
    );
    assert.deepEqual([Array.from(counts), Array.from(order.subarray(0, distinct)), missing], [[1, 0, 3], [2, 0], 2]);
    assert.throws(
      () => countCodes(Int32Array.from([0, 3]), ['a', 'b', 'c'], 'origin'),
      (err: unknown) =>
        err instanceof InvalidInputError &&
        /feature "origin": code 3 at row 1 is past its dictionary of 3/.test(err.message),
    );
  });
});

describe('typed feature derivation', () => {
  const rand = seededRandom(7);
  const times: Cell[] = [
    0,
    -0,
    -0.5,
    0.5,
    -1,
    86_399_999.9,
    -86_400_000,
    -86_400_000.5,
    Date.UTC(2001, 0, 1, 7),
    Date.UTC(1969, 11, 31, 23, 59, 59, 999),
    8.64e15,
    -8.64e15,
    8.64e15 + 1,
    Number.NaN,
    Infinity,
    -Infinity,
    null,
    'noon',
    true,
    ...Array.from({ length: 5000 }, () => (rand() - 0.5) * 1.7e16),
    ...Array.from({ length: 5000 }, () => Math.round((rand() - 0.5) * 2e13)),
  ];

  it('utcHour and utcWeekday are the Date accessors', () => {
    for (const t of times) {
      if (typeof t !== 'number') continue;
      const d = new Date(t);
      assert.deepEqual([utcHour(t), utcWeekday(t)], [d.getUTCHours(), d.getUTCDay()], `time value ${t}`);
    }
  });

  it('deriveNumeric and deriveCategorical give deriveFeature cell by cell', () => {
    const cells: Cell[] = [...times, 'ATL', 'ORD', 'ATL', '', 1, '1', false, 'false', 2.5];
    for (const transform of ['identity', 'hourOfDay', 'dayOfWeek'] as FeatureTransform[]) {
      const spec = (type: 'numeric' | 'categorical') => ({ name: 'f', source: 's', type, transform });
      const numeric = deriveNumeric(transform, cells);
      assert.deepEqual(
        Array.from(numeric),
        cells.map((c) => deriveFeature(spec('numeric'), c)),
        transform,
      );
      const strings = categoryStrings({ name: 'f', kind: 'categorical', ...deriveCategorical(transform, cells) });
      assert.deepEqual(
        strings,
        cells.map((c) => deriveFeature(spec('categorical'), c)),
        transform,
      );
    }
    assert.deepEqual(encodeCategories([1, '1', null, 1], isMissing).dictionary, ['1', '1']);
  });
});

describe('exact value counts', () => {
  it('count integers, fractions and -0 exactly, as the sorted column does', () => {
    const rand = seededRandom(3);
    const values = Float64Array.from({ length: 200_000 }, (_, i) =>
      i % 3 === 0 ? Math.floor(70_000 * rand()) : i % 3 === 1 ? Math.round(1e4 * rand()) / 8 : -0,
    );
    const counts = new ValueCounts();
    for (const v of values) counts.add(v);
    const expected = distributionOf(values);
    const got = counts.toDistribution();
    assert.equal(counts.size, expected.values.length);
    assert.deepEqual(
      [Array.from(got.values), Array.from(got.counts), got.total],
      [
        Array.from(expected.values, (v) => v + 0), // -0 sorts among the zeros; the counts hold them as 0
        Array.from(expected.counts),
        expected.total,
      ],
    );
  });
});

describe('bin lookup', () => {
  it('BinLookup.of is binOf: on the edges, beside them, outside them, at large magnitudes and tiny spans', () => {
    const rand = seededRandom(5);
    const cases: number[][] = [
      [0.5],
      [-3, -1, 0, 2, 7.25, 100],
      Array.from({ length: 9 }, (_, i) => 1e15 + i * 0.25), // cells narrower than the values' spacing
      Array.from({ length: 9 }, (_, i) => (i - 4) * 1e-300),
      [1, 1 + 2 ** -52, 1 + 2 ** -51],
      [-1e308, 0, 1e308], // a span past the largest double
    ];
    for (const edges of cases) {
      const lookup = new BinLookup(edges);
      const lo = edges[0]!;
      const hi = edges.at(-1)!;
      const values = [
        ...edges.flatMap((e) => [e, e - Math.abs(e) * 1e-16 - 1e-320, e + Math.abs(e) * 1e-16 + 1e-320]),
        -Infinity,
        Infinity,
        ...Array.from({ length: 20_000 }, () => lo + (hi - lo) * (rand() * 1.2 - 0.1)),
      ];
      for (const v of values) assert.equal(lookup.of(v), binOf(edges, v), `edges ${edges.join(',')}, value ${v}`);
    }
  });
});

describe('sketch batches', () => {
  it('addValues fills the same buckets as add one value at a time, skipping NaN and ±Infinity', () => {
    const rand = seededRandom(11);
    const values = Float64Array.from({ length: 50_000 }, (_, i) =>
      i % 101 === 0
        ? Number.NaN
        : i % 103 === 0
          ? -Infinity
          : i % 7 === 0
            ? 5
            : 5 + (rand() - 0.5) * 10 ** (6 * rand() - 3),
    );
    const one = new CenteredSketch(5, 0.001);
    for (const v of values.subarray(17)) if (Number.isFinite(v)) one.add(v);
    const batch = new CenteredSketch(5, 0.001);
    batch.addValues(values.subarray(0, 30_000), 17);
    batch.addValues(values.subarray(30_000));
    assert.deepEqual(batch.toJSON(), { ...one.toJSON(), absDeviation: batch.toJSON().absDeviation });
    assert.ok(Math.abs(batch.toJSON().absDeviation - one.toJSON().absDeviation) < 1e-9 * one.toJSON().absDeviation);
    assert.equal(batch.count, one.count);
  });
});
