// The window profile: read in batches and merged from parts it gives the one-pass report exactly while counts are
// exact; past the exact-count limit KS and Wasserstein come from a sketch within the bounds the report states.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectDrift,
  detectWindowDrift,
  DriftSettings,
  type FeatureFrame,
  profileReference,
  WindowProfile,
  WindowProfileJson,
} from '../../core/drift';
import { sliceCategorical } from '../../core/drift/categories';
import type { NumericColumn } from '../../core/drift/frame';
import { ks2samp, distributionOf, wasserstein } from '../../core/drift/statistics';
import { seededRandom } from '../../core/split';

function frame(n: number, seed: number, shift = 0, distinctX = 0): FeatureFrame {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const cities = ['ATL', 'ORD', 'DFW', 'LAX', 'SEA', `NEW${seed}`];
  return [
    {
      name: 'x',
      kind: 'numeric',
      values: Float64Array.from({ length: n }, (_, i) => {
        if (i % 97 === 0) return Number.NaN;
        if (i % 1013 === 0) return Infinity;
        const v = 1000 + 10 * gauss() + shift;
        return distinctX > 0 ? Math.round(v * distinctX) / distinctX : v;
      }),
    },
    { name: 'hour', kind: 'numeric', values: Float64Array.from({ length: n }, () => Math.floor(24 * rand())) },
    {
      name: 'city',
      kind: 'categorical',
      values: Array.from({ length: n }, (_, i) => (i % 50 === 0 ? '' : cities[Math.floor(6 * rand() ** (1 + shift))]!)),
    },
  ];
}

function slice(f: FeatureFrame, start: number, end: number): FeatureFrame {
  return f.map((c) =>
    c.kind === 'numeric' ? { ...c, values: c.values.subarray(start, end) } : sliceCategorical(c, start, end),
  );
}

const roundTrip = (w: WindowProfile, reference: Parameters<typeof WindowProfile.fromJSON>[0], s: DriftSettings) =>
  WindowProfile.fromJSON(reference, s, WindowProfileJson.parse(JSON.parse(JSON.stringify(w.toJSON()))));

describe('window profile', () => {
  it('batches and parts merged (through JSON) give the one-pass report exactly while counts are exact', () => {
    const settings = DriftSettings.parse({});
    for (const refRows of [800, 5000]) {
      const reference = profileReference(frame(refRows, 1, 0, 100), settings);
      const current = frame(20_000, 2, 0.3, 100);
      const onePass = detectDrift(reference, current, settings);
      const cuts = [0, 3000, 3001, 11_000, 20_000];
      const parts = cuts.slice(1).map((end, i) => {
        const w = new WindowProfile(reference, settings);
        for (let s = cuts[i]!; s < end; s += 700) w.add(slice(current, s, Math.min(end, s + 700)));
        return roundTrip(w, reference, settings);
      });
      const merged = parts.reduce((a, b) => a.merge(b));
      assert.deepEqual(detectWindowDrift(reference, merged, settings), onePass);
      assert.ok(onePass.features.every((f) => f.approximation === undefined));
    }
  });

  it('past the exact-count limit KS and Wasserstein are approximate within the bounds written in the report', () => {
    const settings = DriftSettings.parse({ window: { memoryMiB: 16 }, profile: { maxDistinct: 100 } });
    const exactSettings = DriftSettings.parse({});
    const referenceFrame = frame(5000, 3);
    const reference = profileReference(referenceFrame, settings);
    for (const shift of [0, 2]) {
      const current = frame(50_000, 4 + shift, shift);
      const parts = [0, 20_000, 50_000].slice(1).map((end, i, ends) => {
        const w = new WindowProfile(reference, settings).add(slice(current, i === 0 ? 0 : ends[i - 1]!, end));
        return roundTrip(w, reference, settings);
      });
      const report = detectWindowDrift(reference, parts[0]!.merge(parts[1]!), settings);
      const x = report.features.find((f) => f.name === 'x')!;
      assert.ok(x.approximation, 'x has more distinct values than the limit: sketched');
      assert.equal(x.approximation.relativeAccuracy, settings.window.sketchRelativeAccuracy);
      // exact values from the same data, by SciPy-matching kernels on every value
      const refProfile = reference.features.find((f) => f.name === 'x')!;
      assert.equal(refProfile.kind, 'numeric');
      const refDist = {
        values: Float64Array.from(refProfile.kind === 'numeric' ? refProfile.values : []),
        counts: Float64Array.from(refProfile.kind === 'numeric' ? refProfile.counts : []),
        total: refProfile.kind === 'numeric' ? refProfile.counts.reduce((s, c) => s + c, 0) : 0,
      };
      const curDist = distributionOf((current[0] as NumericColumn).values);
      const exactKs = ks2samp(refDist, curDist).statistic;
      const exactW = wasserstein(refDist, curDist);
      assert.ok(Math.abs(x.metrics.ks!.statistic - exactKs) <= x.approximation.ksStatisticError + 1e-12);
      assert.ok(Math.abs(x.metrics.wasserstein! - exactW) <= x.approximation.wassersteinError + 1e-12);
      assert.ok(x.approximation.ksStatisticError < 0.01 && x.approximation.wassersteinNormedError < 0.01);
      // the exact metrics stay exact: PSI/JS on bins, missing and ±Infinity counts, the verdict
      const exact = detectDrift(reference, current, exactSettings).features.find((f) => f.name === 'x')!;
      assert.equal(x.metrics.psi, exact.metrics.psi);
      assert.equal(x.metrics.jensenshannon, exact.metrics.jensenshannon);
      assert.deepEqual(x.missingRate, exact.missingRate);
      assert.deepEqual(x.nonFiniteRate, exact.nonFiniteRate);
      assert.equal(x.outOfRangeShare, exact.outOfRangeShare);
      assert.equal(x.drifted, shift > 0);
      // the hour feature (24 values) stays exact
      assert.equal(report.features.find((f) => f.name === 'hour')!.approximation, undefined);
    }
  });

  it('categories past the cap are counted together, named in the report', () => {
    const settings = DriftSettings.parse({ window: { memoryMiB: 16 }, profile: { maxCategories: 2 } });
    const reference = profileReference(frame(2000, 5), settings);
    const current = frame(3000, 6);
    const city = current[2]!;
    assert.ok(city.kind === 'categorical' && 'values' in city);
    city.values = city.values.map((v, i) => (i % 3 === 0 ? `rare${i}` : v));
    const report = detectDrift(reference, current, settings);
    const f = report.features.find((r) => r.name === 'city')!;
    assert.ok(f.categoryOverflowRows! > 0);
    assert.ok(f.drifted);
  });
});
