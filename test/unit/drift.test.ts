// The drift engine's decisions: method selection, multiple-testing correction, dataset verdict, adaptive
// thresholds, bad inputs and the profile's JSON round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adjustPValues,
  codedSources,
  columnsFrame,
  datasetVerdict,
  defaultMethod,
  detectDrift,
  DriftReport,
  DriftSettings,
  type FeatureFrame,
  featureFrame,
  profileReference,
  ReferenceProfile,
} from '../../core/drift';
import { categoryStrings } from '../../core/drift/categories';
import type { NumericColumn } from '../../core/drift/frame';
import { ModelConfig } from '../../core/modelConfig';
import { InvalidInputError } from '../../core/parse';
import { seededRandom } from '../../core/split';

const settings = (extra: Record<string, unknown> = {}) => DriftSettings.parse(extra);

function frame(n: number, seed: number, shift = 0, opts: { cities?: string[]; missing?: number } = {}): FeatureFrame {
  const rand = seededRandom(seed);
  const cities = opts.cities ?? ['ATL', 'ORD', 'DFW', 'LAX'];
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return [
    {
      name: 'x',
      kind: 'numeric',
      values: Float64Array.from({ length: n }, () =>
        rand() < (opts.missing ?? 0) ? Number.NaN : 10 + gauss() + shift,
      ),
    },
    {
      name: 'hour',
      kind: 'numeric',
      values: Float64Array.from({ length: n }, () => Math.floor(24 * rand() ** (1 + shift))),
    },
    {
      name: 'city',
      kind: 'categorical',
      values: Array.from({ length: n }, () => cities[Math.floor(cities.length * rand() ** (1 + shift))]!),
    },
    {
      name: 'member',
      kind: 'categorical',
      values: Array.from({ length: n }, () => (rand() < 0.3 + shift / 4 ? 'yes' : 'no')),
    },
  ];
}

const feature = (r: DriftReport, name: string) => r.features.find((f) => f.name === name)!;
const errorMatching = (re: RegExp) => (err: unknown) => err instanceof InvalidInputError && re.test(err.message);

describe('method selection (Evidently defaults)', () => {
  it('small references use tests, large ones distances', () => {
    assert.equal(defaultMethod('numeric', 1000, 24), 'ks');
    assert.equal(defaultMethod('numeric', 1000, 5), 'chisquare');
    assert.equal(defaultMethod('categorical', 1000, 2), 'ztest');
    assert.equal(defaultMethod('categorical', 1000, 7), 'chisquare');
    assert.equal(defaultMethod('numeric', 1001, 6), 'wasserstein');
    assert.equal(defaultMethod('numeric', 1001, 5), 'jensenshannon');
    assert.equal(defaultMethod('categorical', 5000, 2), 'jensenshannon');
  });

  it('detectDrift reports the chosen method per feature and honours overrides', () => {
    const small = detectDrift(profileReference(frame(800, 1), settings()), frame(600, 2), settings());
    assert.deepEqual(
      small.features.map((f) => f.method),
      ['ks', 'ks', 'chisquare', 'ztest'],
    );
    const large = detectDrift(profileReference(frame(5000, 1), settings()), frame(3000, 2), settings());
    assert.deepEqual(
      large.features.map((f) => f.method),
      ['wasserstein', 'wasserstein', 'jensenshannon', 'jensenshannon'],
    );
    const s = settings({ features: { x: { method: 'psi', threshold: 0.2 }, city: { method: 'chisquare' } } });
    const over = detectDrift(profileReference(frame(5000, 1), s), frame(3000, 2), s);
    assert.equal(feature(over, 'x').method, 'psi');
    assert.equal(feature(over, 'x').threshold, 0.2);
    assert.equal(feature(over, 'x').thresholdSource, 'override');
    assert.equal(feature(over, 'city').threshold, 0.05);
    assert.equal(feature(over, 'city').thresholdSource, 'fixed');
  });

  it('a method that does not fit the feature is refused, naming feature and method', () => {
    const s = settings({ features: { city: { method: 'ks' }, x: { method: 'ztest' } } });
    assert.throws(
      () => detectDrift(profileReference(frame(500, 1), s), frame(500, 2), s),
      (err: unknown) =>
        errorMatching(/method "ks" does not fit feature "city"/)(err) &&
        /method "ztest" does not fit feature "x"/.test((err as Error).message),
    );
  });
});

describe('verdict and multiple-testing correction', () => {
  it('bonferroni and benjamini-hochberg on known inputs', () => {
    const p = [0.01, 0.04, 0.03, 0.005];
    assert.deepEqual(adjustPValues(p, 'none'), p);
    assert.deepEqual(adjustPValues(p, 'bonferroni'), [0.04, 0.16, 0.12, 0.02]);
    // sorted 0.005, 0.01, 0.03, 0.04 → 4·p/rank = 0.02, 0.02, 0.04, 0.04 (step-up minimum)
    const bh = adjustPValues(p, 'benjamini-hochberg');
    [0.02, 0.04, 0.04, 0.02].forEach((v, i) => assert.ok(Math.abs(bh[i]! - v) < 1e-15, `${bh[i]} vs ${v}`));
    assert.deepEqual(adjustPValues([0.9, 0.5], 'bonferroni'), [1, 1]);
  });

  it('dataset drift when the drifted share reaches the fraction', () => {
    assert.deepEqual(datasetVerdict(2, 4, 0.5), { datasetDrift: true, driftedShare: 0.5 });
    assert.deepEqual(datasetVerdict(1, 4, 0.5), { datasetDrift: false, driftedShare: 0.25 });
    assert.equal(datasetVerdict(0, 0, 0.5).datasetDrift, false);
  });

  it('a shifted window drifts, a sample of the same distribution does not; the correction is applied to p-values', () => {
    const ref = profileReference(frame(900, 1), settings());
    const same = detectDrift(ref, frame(900, 2), settings());
    assert.equal(same.datasetDrift, false, JSON.stringify(same.features.map((f) => [f.name, f.pValue])));
    assert.deepEqual(same.driftedFeatures, []);
    const shifted = detectDrift(ref, frame(900, 3, 0.5), settings());
    assert.equal(shifted.datasetDrift, true);
    assert.deepEqual(shifted.driftedFeatures, ['x', 'hour', 'city', 'member']);
    for (const f of shifted.features) assert.ok(f.adjustedPValue! >= f.pValue!, f.name);
    const none = detectDrift(ref, frame(900, 3, 0.5), settings({ correction: 'none' }));
    for (const f of none.features) assert.equal(f.adjustedPValue, f.pValue);
  });

  it('reports unseen categories and missing-rate changes on their own', () => {
    const ref = profileReference(frame(2000, 1), settings());
    const report = detectDrift(
      ref,
      frame(2000, 2, 0, { cities: ['ATL', 'ORD', 'DFW', 'LAX', 'SFO', 'BOS'], missing: 0.2 }),
      settings(),
    );
    const city = feature(report, 'city');
    assert.equal(city.unseenCategories?.count, 2);
    assert.deepEqual([...city.unseenCategories.examples].sort(), ['BOS', 'SFO']);
    assert.ok(
      city.unseenCategories.share > 0.2 && city.unseenCategories.share < 0.45,
      String(city.unseenCategories.share),
    );
    assert.equal(feature(report, 'x').missingRateDrifted, true);
    assert.deepEqual(report.missingRateDrifted, ['x']);
    assert.ok(Math.abs(feature(report, 'x').missingRate.current - 0.2) < 0.03);
  });
});

describe('adaptive thresholds', () => {
  const s = settings({ adaptive: { enabled: true, chunks: 10, k: 3 } });
  it('are calibrated per distance feature, used and reported; a stable reference does not drift on a fresh sample', () => {
    const ref = profileReference(frame(20000, 1), s);
    for (const f of ref.features)
      assert.ok(f.adaptive && f.adaptive.threshold > f.adaptive.mean && f.adaptive.chunks === 10, f.name);
    const same = detectDrift(ref, frame(2000, 7), s);
    assert.deepEqual(
      same.features.map((f) => f.thresholdSource),
      ['adaptive', 'adaptive', 'adaptive', 'adaptive'],
    );
    assert.equal(
      same.datasetDrift,
      false,
      JSON.stringify(same.features.map((f) => [f.name, f.statistic, f.threshold])),
    );
    const shifted = detectDrift(ref, frame(2000, 7, 0.5), s);
    assert.equal(shifted.datasetDrift, true);
    const fixed = detectDrift(ref, frame(2000, 7), settings());
    assert.deepEqual(
      fixed.features.map((f) => f.thresholdSource),
      ['fixed', 'fixed', 'fixed', 'fixed'],
    );
  });

  it('p-value methods keep their fixed threshold', () => {
    const ref = profileReference(frame(800, 1), s);
    assert.ok(ref.features.every((f) => f.adaptive === undefined));
    assert.ok(detectDrift(ref, frame(800, 2), s).features.every((f) => f.thresholdSource === 'fixed'));
  });
});

describe('bad inputs', () => {
  const ref = profileReference(frame(500, 1), settings());
  it('empty window, missing or mistyped feature, all-missing feature, unknown override', () => {
    assert.throws(() => detectDrift(ref, frame(0, 2), settings()), errorMatching(/current window has no rows/));
    assert.throws(
      () =>
        detectDrift(
          ref,
          frame(100, 2).filter((c) => c.name !== 'city'),
          settings(),
        ),
      errorMatching(/feature "city" is missing from the current window/),
    );
    const retyped = frame(100, 2).map((c) =>
      c.name === 'member' ? { name: 'member', kind: 'numeric' as const, values: new Float64Array(100) } : c,
    );
    assert.throws(
      () => detectDrift(ref, retyped, settings()),
      errorMatching(/feature "member" is categorical in the reference but numeric/),
    );
    assert.throws(
      () => detectDrift(ref, frame(100, 2, 0, { missing: 1 }), settings()),
      errorMatching(/feature "x" is 100% missing/),
    );
    assert.throws(
      () => detectDrift(ref, frame(100, 2), settings({ features: { nope: { threshold: 0.2 } } })),
      errorMatching(/drift.features.nope: "nope" is not a feature/),
    );
  });

  it('the model config refuses overrides of undeclared features and bad methods', () => {
    const base = {
      modelId: 'm',
      dataset: {
        format: 'csv',
        timeColumn: 't',
        columns: { t: { type: 'timestamp' }, d: { type: 'number' }, y: { type: 'number' } },
      },
      features: [
        { name: 'hour', type: 'numeric', source: 't', transform: 'hourOfDay' },
        { name: 'd', type: 'numeric', source: 'd' },
      ],
      label: { source: 'y', positiveWhen: { op: '>', value: 0 } },
      trainer: { command: ['true'] },
    };
    const ok = ModelConfig.parse(base);
    assert.equal(ok.drift.fraction, 0.5);
    assert.equal(ok.drift.correction, 'benjamini-hochberg');
    assert.equal(ok.drift.persistence, 1);
    assert.deepEqual(ok.drift.adaptive, { enabled: false, chunks: 10, k: 3 });
    const bad = ModelConfig.safeParse({ ...base, drift: { features: { distance: { method: 'ks' } } } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error.issues[0]!.path, ['drift', 'features', 'distance']);
    assert.match(bad.error.issues[0]!.message, /"distance"/);
    assert.equal(ModelConfig.safeParse({ ...base, drift: { features: { d: { method: 'cosine' } } } }).success, false);
    assert.equal(ModelConfig.safeParse({ ...base, drift: { persistence: 0 } }).success, false);
  });

  it("featureFrame derives the config's features and names a missing source column", () => {
    const cfg = ModelConfig.parse({
      modelId: 'm',
      dataset: {
        format: 'csv',
        timeColumn: 't',
        columns: { t: { type: 'timestamp' }, o: { type: 'string' }, y: { type: 'number' } },
      },
      features: [
        { name: 'hour', type: 'numeric', source: 't', transform: 'hourOfDay' },
        { name: 'origin', type: 'categorical', source: 'o' },
      ],
      label: { source: 'y', positiveWhen: { op: '>', value: 0 } },
      trainer: { command: ['true'] },
    });
    const f = featureFrame(cfg, { t: [Date.UTC(2001, 0, 1, 7), null], o: ['ATL', null], y: [1, 0] });
    const [hour, origin] = f;
    assert.ok(hour?.kind === 'numeric' && origin?.kind === 'categorical');
    assert.deepEqual(Array.from(hour.values), [7, Number.NaN]);
    assert.deepEqual(categoryStrings(origin), ['ATL', '']);
    assert.throws(
      () => featureFrame(cfg, { t: [1] }),
      errorMatching(/column "o" \(source of feature "origin"\) is missing/),
    );
  });

  it('featureFrame takes a categorical source as dictionary codes, and only codedSources may come as codes', () => {
    const cfg = ModelConfig.parse({
      modelId: 'm',
      dataset: {
        format: 'parquet',
        timeColumn: 't',
        columns: {
          t: { type: 'timestamp' },
          o: { type: 'string' },
          d: { type: 'string' },
          n: { type: 'number' },
          y: { type: 'number' },
        },
      },
      features: [
        { name: 'origin', type: 'categorical', source: 'o' },
        { name: 'dest', type: 'categorical', source: 'd' },
        { name: 'dest_again', type: 'numeric', source: 'd' },
        { name: 'n', type: 'numeric', source: 'n' },
      ],
      label: { source: 'y', positiveWhen: { op: '>', value: 0 } },
      trainer: { command: ['true'] },
    });
    // d also feeds a numeric feature, which needs its cells; n is numeric.
    assert.deepEqual([...codedSources(cfg)], ['o']);
    const o = { codes: Int32Array.from([1, -1, 0, 1]), dictionary: ['ATL', 'SFO'] };
    const cells = { d: ['1', '2', null, '3'], n: [1, 2, 3, 4] };
    const frame = featureFrame({ ...cfg, features: cfg.features.filter((f) => f.name !== 'dest_again') }, cells, 'w', {
      o,
    });
    const origin = frame[0]!;
    assert.ok(origin.kind === 'categorical' && 'codes' in origin);
    assert.equal(origin.codes, o.codes, 'the codes are taken as they are, not copied');
    assert.deepEqual(categoryStrings(origin), ['SFO', '', 'ATL', 'SFO']);
    // Codes for a source a numeric feature needs: read as its strings, and named as not numbers.
    assert.throws(
      () => featureFrame(cfg, { o: ['x', 'y', 'z', 'w'], n: [1, 2, 3, 4] }, 'w', { d: o }),
      errorMatching(/column "d" \(source of feature "dest_again"\) is numeric, but 3 of 4 values are not numbers/),
    );
  });
});

describe('non-finite, non-numeric and empty inputs', () => {
  /** The frame with some `x` values replaced (row → value). */
  const withX = (f: FeatureFrame, set: Record<number, number>): FeatureFrame =>
    f.map((c) =>
      c.kind === 'numeric' && c.name === 'x' ? { ...c, values: Float64Array.from(c.values, (v, i) => set[i] ?? v) } : c,
    );
  const statistics = (r: DriftReport) =>
    r.features.flatMap((f) => [
      f.statistic,
      f.threshold,
      ...Object.values(f.metrics).flatMap((m) => (typeof m === 'number' ? [m] : [m.statistic, m.pValue])),
    ]);

  it('±Infinity is counted apart and left out of every statistic: a single one neither breaks nor drifts a check', () => {
    for (const s of [settings(), settings({ adaptive: { enabled: true } })]) {
      const ref = profileReference(withX(frame(3000, 1), { 5: Infinity }), s);
      const x = ref.features[0]!;
      assert.ok(x.kind === 'numeric');
      assert.deepEqual([x.nonFinite, x.nonFiniteRate, x.missing], [1, 1 / 3000, 0]);
      assert.ok([x.mean, x.std, x.min, x.max, ...x.values].every(Number.isFinite), 'reference statistics stay finite');
      assert.ok(x.adaptive === undefined || Number.isFinite(x.adaptive.threshold));
      const report = detectDrift(ref, withX(frame(2000, 2), { 0: Infinity, 1: -Infinity, 2: Number.NaN }), s);
      const fx = feature(report, 'x');
      assert.equal(fx.method, 'wasserstein');
      assert.ok(
        statistics(report).every(Number.isFinite),
        JSON.stringify(report.features.map((f) => [f.name, f.metrics])),
      );
      assert.equal(fx.drifted, false, `x: ${fx.statistic} vs ${fx.threshold}`);
      assert.deepEqual(fx.nonFiniteRate, { reference: 1 / 3000, current: 2 / 2000 });
      assert.deepEqual([fx.missingRate.current, fx.nonFiniteRateDrifted], [1 / 2000, false]);
      const json = JSON.stringify(report);
      // null only where a distance method has no p-value, never for an infinite statistic
      JSON.parse(json, (k, v: unknown) => {
        if (v === null) assert.ok(k === 'pValue' || k === 'adjustedPValue', `null ${k}`);
        return v;
      });
      assert.deepEqual(DriftReport.parse(JSON.parse(json)), report);
    }
  });

  it('a jump in the ±Infinity share is reported like a missing-rate change; a window of only ±Infinity is refused', () => {
    const ref = profileReference(frame(2000, 1), settings());
    const inf = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [i * 10, i % 2 ? Infinity : -Infinity]));
    const report = detectDrift(ref, withX(frame(2000, 2), inf), settings());
    assert.deepEqual([feature(report, 'x').nonFiniteRateDrifted, report.nonFiniteRateDrifted], [true, ['x']]);
    assert.equal(feature(report, 'hour').nonFiniteRateDrifted, false);
    assert.equal(feature(report, 'city').nonFiniteRate, undefined, 'categorical features have no non-finite values');
    const allInf = withX(
      frame(100, 2),
      Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, i < 10 ? Number.NaN : Infinity])),
    );
    assert.throws(
      () => detectDrift(ref, allInf, settings()),
      errorMatching(/feature "x" has no finite values in the current window \(100 rows: 10 missing, 90 ±Infinity\)/),
    );
    assert.throws(
      () => profileReference(allInf, settings()),
      errorMatching(/feature "x" has no finite values in the reference/),
    );
  });

  it('profiles stored before non-finite values were counted still load (nonFinite 0)', () => {
    const ref = profileReference(frame(500, 1), settings());
    const old = JSON.parse(JSON.stringify(ref)) as { features: Record<string, unknown>[] };
    for (const f of old.features) {
      delete f.nonFinite;
      delete f.nonFiniteRate;
    }
    assert.deepEqual(ReferenceProfile.parse(old), ref);
  });

  it('an empty window is named as such, not as missing features', () => {
    const ref = profileReference(frame(500, 1), settings());
    assert.throws(
      () => detectDrift(ref, frame(0, 2).slice(1), settings()),
      errorMatching(/^invalid drift check:\n {2}- current window has no rows$/),
    );
    assert.throws(() => profileReference([], settings()), errorMatching(/reference has no rows/));
    assert.throws(() => profileReference(frame(0, 1), settings()), errorMatching(/reference has no rows/));
  });

  it('strings in a numeric feature are bad input naming the column, the count and examples, not missing values', () => {
    const cfg = ModelConfig.parse({
      modelId: 'm',
      dataset: {
        format: 'csv',
        timeColumn: 't',
        columns: { t: { type: 'timestamp' }, d: { type: 'number' }, o: { type: 'string' }, y: { type: 'number' } },
      },
      features: [
        { name: 'hour', type: 'numeric', source: 't', transform: 'hourOfDay' },
        { name: 'distance', type: 'numeric', source: 'd' },
        { name: 'origin', type: 'categorical', source: 'o' },
      ],
      label: { source: 'y', positiveWhen: { op: '>', value: 0 } },
      trainer: { command: ['true'] },
    });
    const columns = { t: [0, 'noon', 0, 0], d: ['abc', 1, 'abc', 'n/a'], o: ['1', 'ATL', null, 'x'], y: [1, 0, 1, 0] };
    assert.throws(
      () => featureFrame(cfg, columns, '--current jun.csv'),
      (err: unknown) =>
        errorMatching(/^invalid --current jun\.csv:/)(err) &&
        /column "d" \(source of feature "distance"\) is numeric, but 3 of 4 values are not numbers \(e\.g\. "abc", "n\/a"\)/.test(
          (err as Error).message,
        ) &&
        /column "t" \(source of feature "hour"\) is a timestamp \(hourOfDay\), but 1 of 4 values are not timestamps \(e\.g\. "noon"\)/.test(
          (err as Error).message,
        ),
    );
    const ok = featureFrame(cfg, { ...columns, t: [0, null, 0, 0], d: [1, null, Number.NaN, Infinity] });
    assert.deepEqual(
      Array.from((ok[1] as NumericColumn).values),
      [1, Number.NaN, Number.NaN, Infinity],
      'null and NaN are missing, Infinity stays',
    );
    assert.throws(
      () => columnsFrame({ d: ['abc', 2] }, { d: 'numeric' }, '--current w.csv'),
      errorMatching(
        /^invalid --current w\.csv:\n {2}- feature "d" is numeric, but 1 of 2 values are not numbers \(e\.g\. "abc"\)$/,
      ),
    );
  });
});

describe('profile', () => {
  it('round-trips through JSON and the zod schema, and detects the same way afterwards', () => {
    const s = settings({ adaptive: { enabled: true } });
    const ref = profileReference(frame(3000, 1), s);
    const loaded = ReferenceProfile.parse(JSON.parse(JSON.stringify(ref)));
    assert.deepEqual(loaded, ref);
    const report = detectDrift(loaded, frame(1000, 2, 0.3), s);
    assert.deepEqual(DriftReport.parse(JSON.parse(JSON.stringify(report))), report);
    assert.deepEqual(report, detectDrift(ref, frame(1000, 2, 0.3), s));
    assert.throws(() => ReferenceProfile.parse({ ...ref, schemaVersion: 2 }));
  });

  it('keeps exact distinct values up to the cap, else a seeded sample; bins are reference quantiles', () => {
    const ref = profileReference(frame(5000, 1), settings({ profile: { maxDistinct: 1000 } }));
    const x = ref.features[0]!;
    assert.ok(x.kind === 'numeric' && x.sampled && x.values.length === 1000 && x.distinct === 5000);
    assert.ok(x.kind === 'numeric' && x.bins.edges.length === 9 && x.bins.counts.every((c) => c === 500));
    const again = profileReference(frame(5000, 1), settings({ profile: { maxDistinct: 1000 } }));
    assert.deepEqual(again, ref);
    const hour = ref.features[1]!;
    assert.ok(hour.kind === 'numeric' && !hour.sampled && hour.values.length === 24);
    const capped = profileReference(frame(1000, 1), settings({ profile: { maxCategories: 2 } })).features[2]!;
    assert.ok(
      capped.kind === 'categorical' &&
        capped.capped &&
        capped.categories.length === 3 &&
        capped.categories[2] === '__other__',
    );
  });
});
