// Task kinds: the config checks that tie label, metrics and comparison to the task, the label rules of validation,
// and the multiclass and regression metrics (plain, weighted, per slice) that evaluation and the gate use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mcNemar, pairedBootstrap } from '../../core/comparison';
import { labelOf } from '../../core/features';
import { evaluateGate } from '../../core/gate';
import { type ModelConfigInput, ModelConfig } from '../../core/modelConfig';
import { multiclassMetrics } from '../../core/multiclassMetrics';
import { correctness, evaluatePredictions, parsePredictions, weightedMeasure } from '../../core/predictions';
import { regressionMetrics } from '../../core/regressionMetrics';
import { seededRandom } from '../../core/split';
import { validateColumns } from '../../core/validation';

const base = (over: Partial<ModelConfigInput>): ModelConfigInput => ({
  modelId: 'm',
  dataset: {
    format: 'parquet',
    timeColumn: 't',
    columns: { t: { type: 'timestamp' }, x: { type: 'number' }, digit: { type: 'integer', min: 0, max: 9 } },
    minRows: 1,
  },
  features: [{ name: 'x', type: 'numeric', source: 'x' }],
  label: { source: 'digit', classes: 10 },
  task: 'multiclass',
  trainer: { command: ['true'] },
  ...over,
});
const problems = (input: ModelConfigInput) => {
  const r = ModelConfig.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('task kinds in the model config', () => {
  it('accepts a multiclass config and a regression one', () => {
    assert.deepEqual(problems(base({})), []);
    assert.deepEqual(
      problems(base({ task: 'regression', label: { source: 'x' }, gate: { maximum: { rmse: 2 } } })),
      [],
    );
  });

  it('refuses a binary label with 10 classes, naming the fix', () => {
    const p = problems(base({ task: 'binary', label: { source: 'digit' } }));
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0]!, /^label: task binary .* allows values up to 9: use task multiclass with label\.classes 10/);
  });

  it('refuses gate and approval metrics that the task does not have', () => {
    const p = problems(
      base({
        gate: { minimum: { rocAuc: 0.6 }, slices: { metric: 'precision', maxRegression: 0.1 } },
        approval: { mode: 'policy', autoApprove: { minMargin: { rmse: 0 } } },
      }),
    );
    assert.deepEqual(p.sort(), [
      'approval.autoApprove.minMargin.rmse: rmse is not a metric of task multiclass (its metrics: accuracy, macroF1, logLoss, recall)',
      'gate.minimum.rocAuc: rocAuc is not a metric of task multiclass (its metrics: accuracy, macroF1, logLoss, recall)',
      'gate.slices.metric: precision is not a metric of task multiclass (its metrics: accuracy, macroF1, logLoss, recall)',
    ]);
    assert.match(
      problems(base({ task: 'regression', label: { source: 'x' }, gate: { maxRegression: { accuracy: 0.1 } } }))[0]!,
      /accuracy is not a metric of task regression \(its metrics: rmse, mae, r2\)/,
    );
  });

  it('refuses label fields of another task, a missing class count and McNemar for regression', () => {
    assert.deepEqual(problems(base({ label: { source: 'digit' } })), [
      'label.classes: task multiclass needs label.classes (the number of classes)',
    ]);
    assert.deepEqual(problems(base({ label: { source: 'digit', classes: 5 } })), [
      'label.classes: label.classes is 5 (classes 0..4) but column "digit" allows values up to 9',
    ]);
    assert.deepEqual(problems(base({ label: { source: 'digit', classes: 10, positiveWhen: { op: '>', value: 4 } } })), [
      'label.positiveWhen: positiveWhen makes a binary label; task is multiclass',
    ]);
    assert.deepEqual(
      problems(base({ task: 'regression', label: { source: 'x' }, gate: { comparison: { method: 'mcnemar' } } })),
      ['gate.comparison.method: mcnemar compares per-example correctness, which regression has not: use bootstrap'],
    );
  });
});

describe('labels by task', () => {
  const multi = ModelConfig.parse(base({}));
  it('maps source values to labels, refusing the ones outside the task', () => {
    assert.equal(labelOf(multi, 7), 7);
    assert.equal(labelOf(multi, 10), null);
    assert.equal(labelOf(multi, 2.5), null);
    const binary = ModelConfig.parse(base({ task: 'binary', label: { source: 'x' } }));
    assert.equal(labelOf(binary, 1), 1);
    assert.equal(labelOf(binary, 3), null);
  });

  it('validation names the bad labels: a class out of range, a binary column with many values', () => {
    const cols = { t: [1, 2, 3, 4], x: [0, 1, 2, 3], digit: [0, 9, 10, 3] };
    const r = validateColumns(multi, cols, 4, ['k'], 'r');
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.violations.map((v) => [v.rule, v.count, v.message]),
      [
        ['max', 1, 'values of "digit" above the maximum 9'],
        [
          'label',
          1,
          'values of "digit" are not labels of the task: task multiclass needs integer classes 0..9 (label.classes 10)',
        ],
      ],
    );
    const binary = ModelConfig.parse(
      base({
        task: 'binary',
        dataset: {
          format: 'parquet',
          timeColumn: 't',
          columns: { t: { type: 'timestamp' }, x: { type: 'number' } },
          minRows: 1,
        },
        label: { source: 'x' },
      }),
    );
    const b = validateColumns(binary, { t: [1, 2, 3], x: [0, 1, 7] }, 3, ['k'], 'r');
    assert.deepEqual(
      b.violations.map((v) => v.message),
      [
        'values of "x" are not labels of the task: task binary without label.positiveWhen needs labels 0 or 1 (use task multiclass for more classes): the column holds 3 distinct values',
      ],
    );
  });
});

describe('multiclass metrics', () => {
  // 4 rows, 3 classes: predicted 0, 1, 1, 2; true 0, 1, 2, 2.
  const text = ['0.7,0.2,0.1', '0.1,0.8,0.1', '0.2,0.5,0.3', '0.1,0.1,0.8'].join('\n');
  const labels = [0, 1, 2, 2];
  const p = parsePredictions('multiclass', text, 3);

  it('accuracy, log loss, macro recall and macro F1 by hand', () => {
    const m = evaluatePredictions(
      p,
      labels,
      { threshold: 0.5, sliceValues: null, minSliceRows: 1, maxSlices: 9 },
      null,
    );
    assert.equal(m.overall.accuracy, 0.75);
    const logLoss = -(Math.log(0.7) + Math.log(0.8) + Math.log(0.3) + Math.log(0.8)) / 4;
    assert.ok(Math.abs(m.overall.logLoss! - logLoss) < 1e-12);
    assert.ok(Math.abs(m.overall.recall! - (1 + 1 + 0.5) / 3) < 1e-12);
    // F1 per class: 1, 2/3 (tp 1, fp 1), 2/3 (tp 1, fn 1)
    assert.ok(Math.abs(m.overall.macroF1! - (1 + 2 / 3 + 2 / 3) / 3) < 1e-12);
    // no slice feature: one slice per true class, with its recall
    assert.deepEqual(
      m.slices.map((s) => [s.value, s.rows, s.metrics.recall]),
      [
        ['0', 1, 1],
        ['1', 1, 1],
        ['2', 2, 0.5],
      ],
    );
  });

  it('weighted metrics equal the plain ones on the expanded rows (what the bootstrap relies on)', () => {
    const rand = seededRandom(3);
    const n = 200;
    const probabilities = Float64Array.from({ length: n * 4 }, () => rand());
    const ys = Array.from({ length: n }, () => Math.floor(rand() * 4));
    const preds = parsePredictions(
      'multiclass',
      Array.from({ length: n }, (_, r) => [...probabilities.subarray(r * 4, r * 4 + 4)].join(',')).join('\n'),
      4,
    );
    const weights = new Uint32Array(n);
    for (let i = 0; i < n; i++) weights[Math.floor(rand() * n)]!++;
    const rows = [...weights].flatMap((c, i) => Array<number>(c).fill(i));
    const expanded = parsePredictions(
      'multiclass',
      rows.map((r) => [...probabilities.subarray(r * 4, r * 4 + 4)].join(',')).join('\n'),
      4,
    );
    const plain = evaluatePredictions(
      expanded,
      rows.map((r) => ys[r]!),
      { threshold: 0.5, sliceValues: null, minSliceRows: 1, maxSlices: 1 },
      null,
    ).overall;
    for (const metric of ['accuracy', 'logLoss', 'recall', 'macroF1'] as const) {
      const w = weightedMeasure(preds, metric, ys, 0.5)(weights);
      assert.ok(Math.abs(w - plain[metric]!) < 1e-12, `${metric}: ${w} vs ${plain[metric]}`);
    }
    assert.ok(multiclassMetrics(preds as never, (preds as { predicted: Int32Array }).predicted, ys).accuracy < 0.5);
  });

  it('McNemar on per-example correctness', () => {
    const right = correctness(p, labels, 0.5);
    assert.deepEqual(right, [true, true, false, true]);
    const allWrong = parsePredictions('multiclass', ['0,1,0', '1,0,0', '1,0,0', '1,0,0'].join('\n'), 3);
    const m = mcNemar(correctness(allWrong, labels, 0.5), right, 0.95);
    assert.deepEqual(m.discordant, { candidateOnly: 0, championOnly: 3 });
  });

  it('refuses predictions of the wrong shape, naming the line', () => {
    assert.throws(
      () => parsePredictions('multiclass', '0.5,0.5\n0.2,0.3,0.5', 3),
      /line 1: 2 probabilities, expected one per class \(3\)/,
    );
    assert.throws(() => parsePredictions('regression', '1.5\nabc', undefined), /line 2: "abc" is not a number/);
  });
});

describe('regression metrics and gate', () => {
  it('RMSE, MAE and R² by hand, and the bootstrap of the error difference', () => {
    const labels = [1, 2, 3, 4];
    const m = regressionMetrics([1.5, 2, 2, 4], labels);
    assert.equal(m.mae, 0.375);
    assert.ok(Math.abs(m.rmse - Math.sqrt(1.25 / 4)) < 1e-12);
    assert.ok(Math.abs(m.r2 - (1 - 1.25 / 5)) < 1e-12);
    const rand = seededRandom(1);
    const y = Array.from({ length: 300 }, () => rand() * 10);
    const good = parsePredictions('regression', y.map((v) => v + (rand() - 0.5)).join('\n'), undefined);
    const bad = parsePredictions('regression', y.map((v) => v + 4 * (rand() - 0.5)).join('\n'), undefined);
    const c = pairedBootstrap(
      'rmse',
      weightedMeasure(good, 'rmse', y, 0.5),
      weightedMeasure(bad, 'rmse', y, 0.5),
      y.length,
      { resamples: 300, confidence: 0.95, seed: 1 },
    );
    // lower is better: the better model's improvement is positive, with its whole interval above 0
    assert.ok(c.estimate > 0.5 && c.lower! > 0, JSON.stringify(c));
  });

  it('the gate holds RMSE to a maximum and to the champion, direction-aware', () => {
    const gate = ModelConfig.parse(
      base({
        task: 'regression',
        label: { source: 'x' },
        gate: { maximum: { rmse: 1 }, maxRegression: { rmse: 0.1 } },
      }),
    ).gate;
    const report = (rmse: number, championRmse: number) => ({
      task: 'regression' as const,
      holdoutSha256: 'h',
      holdoutRows: 10,
      threshold: 0.5,
      sliceBy: null,
      candidate: { version: null, overall: { rmse, mae: 0, r2: 0 }, slices: [] },
      champion: { version: 1, overall: { rmse: championRmse, mae: 0, r2: 0 }, slices: [] },
      reportKey: 'r',
    });
    assert.equal(evaluateGate(gate, report(0.8, 0.75)).passed, true);
    const worse = evaluateGate(gate, report(0.9, 0.75));
    assert.equal(worse.passed, false);
    assert.match(worse.reasons.join('\n'), /rmse is 0\.1500 worse than champion v1 \(allowed worsening 0\.1000\)/);
  });
});
