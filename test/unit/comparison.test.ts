import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  binaryMeasure,
  exactMcNemarPValue,
  mcNemar,
  pairedBootstrap,
  sortOrder,
  weightedMetric,
} from '../../core/comparison';
import { evaluateGate } from '../../core/gate';
import { classificationMetrics } from '../../core/metrics';
import { ModelConfig, type MetricName } from '../../core/modelConfig';
import type { EvaluationReport, Metrics } from '../../core/reports';
import { seededRandom } from '../../core/split';

const rand = seededRandom(3);
const n = 2000;
const labels = Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
const noisy = (signal: number) =>
  labels.map((y) => Math.min(0.999, Math.max(0.001, 0.3 + signal * (y - 0.3) + (rand() - 0.5) * 0.6)));
const strong = noisy(0.8);
const weak = noisy(0.2);

describe('statistical comparison', () => {
  it('weighted metrics equal the plain metrics on the expanded (resampled) rows', () => {
    const counts = new Uint32Array(n);
    const r = seededRandom(9);
    for (let i = 0; i < n; i++) counts[Math.floor(r() * n)]!++;
    const rows = [...counts].flatMap((c, i) => Array<number>(c).fill(i));
    const plain = classificationMetrics(
      rows.map((i) => strong[i]!),
      rows.map((i) => labels[i]!),
      0.5,
    );
    for (const metric of ['rocAuc', 'logLoss', 'accuracy', 'precision', 'recall'] as MetricName[]) {
      const w = weightedMetric(metric, strong, labels, counts, sortOrder(strong), 0.5);
      assert.ok(Math.abs(w - plain[metric]!) < 1e-12, `${metric}: ${w} vs ${plain[metric]}`);
    }
  });

  it('paired bootstrap: a clearly better model has a CI above zero, the same model one around zero', () => {
    const measure = (metric: MetricName, scores: number[]) => binaryMeasure(metric, scores, labels, 0.5);
    const better = pairedBootstrap('rocAuc', measure('rocAuc', strong), measure('rocAuc', weak), n, {
      resamples: 300,
      confidence: 0.95,
      seed: 1,
    });
    assert.ok(better.estimate > 0.1 && better.lower! > 0, JSON.stringify(better));
    const same = pairedBootstrap('logLoss', measure('logLoss', weak), measure('logLoss', weak), n, {
      resamples: 200,
      confidence: 0.95,
      seed: 1,
    });
    assert.equal(same.estimate, 0);
    assert.equal(same.lower, 0);
    assert.deepEqual(
      pairedBootstrap('rocAuc', measure('rocAuc', strong), measure('rocAuc', weak), n, {
        resamples: 100,
        confidence: 0.9,
        seed: 5,
      }),
      pairedBootstrap('rocAuc', measure('rocAuc', strong), measure('rocAuc', weak), n, {
        resamples: 100,
        confidence: 0.9,
        seed: 5,
      }),
      'seeded',
    );
  });

  it("McNemar's exact p-values match the binomial test", () => {
    assert.equal(exactMcNemarPValue(10, 0), 2 * 0.5 ** 10);
    assert.ok(Math.abs(exactMcNemarPValue(1, 6) - 0.125) < 1e-12); // scipy.stats.binomtest(1, 7).pvalue
    assert.equal(exactMcNemarPValue(5, 5), 1);
    assert.equal(exactMcNemarPValue(0, 0), 1);
    const right = (scores: number[]) => scores.map((s, i) => s >= 0.5 === (labels[i] === 1));
    const m = mcNemar(right(weak), right(strong), 0.95);
    assert.ok(m.discordant!.championOnly > m.discordant!.candidateOnly && m.pValue! < 0.05);
  });
});

const metrics = (rocAuc: number): Metrics => ({ rocAuc, logLoss: 0.5, accuracy: 0.7, precision: 0.5, recall: 0.5 });
function report(candidate: number, champion: number | null, extra: Partial<EvaluationReport> = {}): EvaluationReport {
  return {
    holdoutSha256: 'abc',
    holdoutRows: 1000,
    threshold: 0.5,
    sliceBy: 'origin',
    candidate: {
      version: null,
      overall: metrics(candidate),
      slices: [
        { value: 'ORD', rows: 500, metrics: metrics(candidate - 0.1) },
        { value: 'ATL', rows: 50, metrics: metrics(0.1) },
      ],
    },
    champion:
      champion === null
        ? null
        : {
            version: 4,
            overall: metrics(champion),
            slices: [
              { value: 'ORD', rows: 500, metrics: metrics(champion) },
              { value: 'ATL', rows: 50, metrics: metrics(0.9) },
            ],
          },
    reportKey: 'k',
    ...extra,
  };
}

describe('statistical gate', () => {
  const gate = (g: object) => ModelConfig.shape.gate.parse(g);

  it('records what the verdict was computed from', () => {
    const v = evaluateGate(gate({ minimum: { rocAuc: 0.5 } }), report(0.7, 0.69));
    assert.equal(v.passed, true);
    assert.equal(v.holdoutSha256, 'abc');
    assert.equal(v.championVersion, 4);
    assert.deepEqual((v.thresholds as { minimum: object }).minimum, { rocAuc: 0.5 });
  });

  it('applies relative regression limits and per-slice rules above the minimum slice size', () => {
    const v = evaluateGate(
      gate({
        maxRelativeRegression: { rocAuc: 0.01 },
        slices: { metric: 'rocAuc', maxRegression: 0.05, minRows: 100 },
      }),
      report(0.7, 0.72),
    );
    assert.equal(v.passed, false);
    assert.deepEqual(
      v.checks.filter((c) => !c.passed).map((c) => `${c.rule}:${c.slice ?? ''}`),
      ['maxRelativeRegression:', 'slice:ORD'],
    );
    assert.ok(!v.checks.some((c) => c.slice === 'ATL'), 'ATL has too few rows to judge');
  });

  it('rejects without a champion when configured to', () => {
    assert.equal(evaluateGate(gate({ noChampion: 'reject' }), report(0.9, null)).passed, false);
    assert.equal(evaluateGate(gate({}), report(0.9, null)).passed, true);
  });

  it('judges non-inferiority on the bootstrap interval instead of the point estimate', () => {
    const g = gate({ maxRegression: { rocAuc: 0.01 }, comparison: { method: 'bootstrap' } });
    const ci = (lower: number) => ({
      method: 'bootstrap' as const,
      metric: 'rocAuc' as const,
      estimate: 0,
      lower,
      upper: 0.02,
      confidence: 0.95,
      pValue: null,
      resamples: 1000,
      discordant: null,
    });
    const inconclusive = evaluateGate(g, report(0.7, 0.705, { comparison: ci(-0.008) }));
    assert.equal(inconclusive.passed, true, 'within the margin');
    assert.ok(
      !inconclusive.checks.some((c) => c.rule === 'maxRegression' && c.metric === 'rocAuc'),
      'the point check is replaced',
    );
    const worse = evaluateGate(g, report(0.7, 0.705, { comparison: ci(-0.03) }));
    assert.equal(worse.passed, false);
    assert.match(worse.reasons[0]!, /95% CI \[-0\.0300, 0\.0200\] falls below -0\.0100/);
  });
});
