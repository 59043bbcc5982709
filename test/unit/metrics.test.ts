import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classificationMetrics, logLoss, rocAuc, sliceMetrics } from '../../core/metrics';

describe('metrics', () => {
  it('computes ROC AUC by ranks, with ties at half credit', () => {
    assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75); // the sklearn docs example
    assert.equal(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
    assert.equal(rocAuc([0.9, 0.8, 0.1], [1, 1, 0]), 1);
    assert.ok(Number.isNaN(rocAuc([0.2, 0.3], [1, 1])), 'undefined with one class');
  });

  it('computes log loss with clipping', () => {
    assert.ok(Math.abs(logLoss([0.9, 0.1], [1, 0]) - -Math.log(0.9)) < 1e-12);
    assert.ok(Number.isFinite(logLoss([0, 1], [1, 0])), 'clipped, not infinite');
  });

  it('computes thresholded metrics', () => {
    const m = classificationMetrics([0.9, 0.6, 0.4, 0.2], [1, 0, 1, 0], 0.5);
    assert.equal(m.accuracy, 0.5);
    assert.equal(m.precision, 0.5);
    assert.equal(m.recall, 0.5);
  });

  it('keeps the largest slices above the minimum size', () => {
    const scores = [0.9, 0.1, 0.8, 0.2, 0.7];
    const labels = [1, 0, 1, 0, 1];
    const slices = sliceMetrics(['A', 'A', 'A', 'B', 'C'], 2, 5, (rows) =>
      classificationMetrics(
        rows.map((r) => scores[r]!),
        rows.map((r) => labels[r]!),
        0.5,
      ),
    );
    assert.deepEqual(
      slices.map((s) => [s.value, s.rows]),
      [['A', 3]],
    );
    assert.equal(slices[0]!.metrics.accuracy, 1);
  });
});
