import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateGate, regression } from '../../core/gate';
import { ModelConfig } from '../../core/modelConfig';
import type { EvaluationReport, Metrics } from '../../core/reports';

const m = (rocAuc: number, logLoss: number) => ({ rocAuc, logLoss, accuracy: 0.7, precision: 0.5, recall: 0.5 });
/** An evaluation report with overall metrics only (no slices, no statistical comparison). */
const report = (candidate: Metrics, champion: { version: number; metrics: Metrics } | null): EvaluationReport => ({
  holdoutSha256: 'h',
  holdoutRows: 1000,
  threshold: 0.5,
  sliceBy: null,
  candidate: { version: null, overall: candidate, slices: [] },
  champion: champion && { version: champion.version, overall: champion.metrics, slices: [] },
  comparison: null,
  reportKey: 'k',
});
const gate = ModelConfig.shape.gate.parse({
  minimum: { rocAuc: 0.6 },
  maximum: { logLoss: 0.7 },
  maxRegression: { rocAuc: 0.01, logLoss: 0.02 },
});

describe('gate', () => {
  it('is direction-aware', () => {
    assert.ok(Math.abs(regression('rocAuc', 0.7, 0.75) - 0.05) < 1e-12);
    assert.ok(Math.abs(regression('logLoss', 0.5, 0.45) - 0.05) < 1e-12);
    assert.ok(regression('logLoss', 0.4, 0.45) < 0);
  });

  it('passes on absolute bounds alone without a champion', () => {
    const v = evaluateGate(gate, report(m(0.65, 0.5), null));
    assert.equal(v.passed, true);
    assert.equal(v.championVersion, null);
    assert.equal(v.checks.length, 2);
  });

  it('fails a regression beyond the allowance and says why', () => {
    const v = evaluateGate(gate, report(m(0.65, 0.5), { version: 3, metrics: m(0.7, 0.49) }));
    assert.equal(v.passed, false);
    assert.equal(v.championVersion, 3);
    assert.deepEqual(v.reasons, ['rocAuc is 0.0500 worse than champion v3 (allowed worsening 0.0100)']);
  });

  it('fails a missing or NaN metric', () => {
    const v = evaluateGate(gate, report(m(Number.NaN, 0.5), null));
    assert.equal(v.passed, false);
    assert.match(v.reasons[0]!, /rocAuc NaN < minimum/);
  });
});
