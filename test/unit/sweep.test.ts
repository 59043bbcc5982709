// Sweeps: the config's bad inputs named by path, the trials a space expands to, the halving decisions, the rung
// metric, and a rung's end read from the trainer's exit (a sweep's scrap: factoryReport.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ModelConfigInput, ModelConfig } from '../../core/modelConfig';
import {
  keptAtRung,
  planTrials,
  rankTrials,
  rungMetric,
  rungStop,
  SweepSettings,
  type SweepSettings as Sweep,
} from '../../core/sweep';
import { classifyAttempt } from '../../core/trainingAttempt';
import { EXIT } from '../../core/trainerProtocol';

const config = (sweep: unknown, over: Partial<ModelConfigInput> = {}): ModelConfigInput => ({
  modelId: 'm',
  dataset: { format: 'parquet', timeColumn: 't', columns: { t: { type: 'timestamp' }, y: { type: 'integer' } } },
  features: [{ name: 'x', type: 'numeric', source: 'y' }],
  label: { source: 'y' },
  trainer: { command: ['python3', 'trainers/digits/train.py'], hyperparameterRules: 'digits' },
  hyperparameters: { epochs: 4 },
  sweep: sweep as ModelConfigInput['sweep'],
  ...over,
});
const problems = (input: ModelConfigInput) => {
  const r = ModelConfig.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const metric = { name: 'accuracy', goal: 'maximize' };

describe('the sweep section of a model config', () => {
  it('accepts a grid with halving and a random search', () => {
    const grid = { metric, space: { learningRate: { values: [0.001, 0.01] } }, halving: { minSteps: 20 } };
    assert.deepEqual(problems(config(grid)), []);
    const random = {
      metric,
      search: 'random',
      trials: 9,
      space: { learningRate: { min: 0.0001, max: 0.1, scale: 'log' }, batchSize: { min: 16, max: 128, integer: true } },
    };
    assert.deepEqual(problems(config(random)), []);
  });

  it('names each bad input: unknown hyperparameter, empty list or range, budget 0, a grid past its budget', () => {
    const cases: [unknown, RegExp][] = [
      [
        { metric, space: { lr: { values: [0.1] } } },
        /^sweep\.space\.lr: "lr" is not a hyperparameter of trainer digits \(it takes epochs, batchSize, learningRate/,
      ],
      [{ metric, space: { dropout: { values: [] } } }, /^sweep\.space\.dropout\.values: an empty list of values/],
      [
        { metric, search: 'random', trials: 3, space: { dropout: { min: 0.5, max: 0.5 } } },
        /^sweep\.space\.dropout\.max: an empty range: min must be below max/,
      ],
      [
        { metric, search: 'random', trials: 3, space: { learningRate: { min: 0, max: 1, scale: 'log' } } },
        /^sweep\.space\.learningRate\.min: a log scale needs min > 0/,
      ],
      [{ metric, trials: 0, space: { dropout: { values: [0.1] } } }, /^sweep\.trials: a budget of at least 1 trial/],
      [
        { metric, trials: 2, space: { dropout: { values: [0, 0.1, 0.2] } } },
        /^sweep\.trials: the grid has 3 points but the budget is 2 trials/,
      ],
      [{ metric, space: {} }, /^sweep\.space: an empty space/],
      [
        { metric, search: 'random', space: { dropout: { values: [0.1] } } },
        /^sweep\.trials: random search needs a trial budget/,
      ],
      [{ metric, space: { dropout: { min: 0, max: 0.5 } } }, /^sweep\.space\.dropout: a grid tries listed values/],
      [
        { metric, space: { dropout: { values: [0.1, 1.5] } } },
        /^sweep\.space\.dropout\.values\.1: 1\.5: .*\(rules of trainer digits\)/,
      ],
      [{ metric, space: { dropout: { values: [0.1] } }, halving: { eta: 1, minSteps: 10 } }, /^sweep\.halving\.eta: /],
      [{ metric: { name: 'accuracy' }, space: { dropout: { values: [0.1] } } }, /^sweep\.metric\.goal: /],
      [{ metric, space: { dropout: { values: [0.1] } }, extra: 1 }, /^sweep: Unrecognized key: "extra"/],
    ];
    for (const [sweep, expected] of cases) {
      const found = problems(config(sweep));
      assert.ok(
        found.some((p) => expected.test(p)),
        `${JSON.stringify(sweep)}: ${found.join(' | ')}`,
      );
    }
  });

  it('without hyperparameter rules, a swept name needs a base value', () => {
    const over = { trainer: { command: ['./train'] }, hyperparameters: { lr: 0.1 } };
    assert.deepEqual(problems(config({ metric, space: { lr: { values: [0.1, 0.2] } } }, over)), []);
    assert.match(
      problems(config({ metric, space: { lr2: { values: [0.1] } } }, over)).join('\n'),
      /sweep\.space\.lr2: "lr2" is not among hyperparameters/,
    );
  });
});

describe('trials of a sweep', () => {
  const parse = (s: unknown): Sweep => SweepSettings.parse(s);

  it('a grid tries each point in order, the last dimension fastest, over the base hyperparameters', () => {
    const sweep = parse({ metric, space: { a: { values: [1, 2] }, b: { values: ['x', 'y', 'z'] } } });
    const trials = planTrials(sweep, { a: 0, c: true }, 1);
    assert.deepEqual(
      trials.map((t) => [t.name, t.values]),
      [
        ['t01', { a: 1, b: 'x' }],
        ['t02', { a: 1, b: 'y' }],
        ['t03', { a: 1, b: 'z' }],
        ['t04', { a: 2, b: 'x' }],
        ['t05', { a: 2, b: 'y' }],
        ['t06', { a: 2, b: 'z' }],
      ],
    );
    assert.deepEqual(trials[3]!.hyperparameters, { a: 2, b: 'x', c: true });
  });

  it('random search draws the budget from its seed: the same seed the same trials, within the ranges', () => {
    const sweep = parse({
      metric,
      search: 'random',
      trials: 12,
      space: {
        lr: { min: 0.0001, max: 0.1, scale: 'log' },
        units: { min: 8, max: 64, integer: true },
        act: { values: ['relu', 'gelu'] },
      },
    });
    const a = planTrials(sweep, {}, 5);
    assert.equal(a.length, 12);
    assert.deepEqual(planTrials(sweep, {}, 5), a, 'deterministic');
    assert.notDeepEqual(planTrials(sweep, {}, 6), a, 'another seed, other trials');
    assert.deepEqual(planTrials({ ...sweep, seed: 5 }, {}, 99), a, 'sweep.seed wins over the model seed');
    for (const t of a) {
      const { lr, units, act } = t.values as { lr: number; units: number; act: string };
      assert.ok(lr >= 0.0001 && lr <= 0.1 && units >= 8 && units <= 64 && Number.isInteger(units));
      assert.ok(['relu', 'gelu'].includes(act));
    }
    // Log scale: about as many draws below 0.00316 (the geometric middle) as above.
    const below = planTrials({ ...sweep, trials: 200 }, {}, 1).filter((t) => (t.values['lr'] as number) < 0.00316);
    assert.ok(below.length > 70 && below.length < 130, `${below.length} of 200 below the geometric middle`);
  });
});

describe('successive halving', () => {
  it('ranks by the goal, a trial without a number last, ties in trial order', () => {
    const scores = [
      { name: 't1', metric: 0.5 },
      { name: 't2', metric: null },
      { name: 't3', metric: 0.9 },
      { name: 't4', metric: 0.5 },
    ];
    assert.deepEqual(
      rankTrials(scores, 'maximize').map((s) => s.name),
      ['t3', 't1', 't4', 't2'],
    );
    assert.deepEqual(
      rankTrials(scores, 'minimize').map((s) => s.name),
      ['t1', 't4', 't3', 't2'],
    );
  });

  it('keeps the best 1/eta (at least one) and places rungs at minSteps × eta^k until the end', () => {
    assert.deepEqual(
      [9, 3, 2, 1].map((n) => keptAtRung(n, 3)),
      [3, 1, 1, 1],
    );
    const halving = { eta: 3, minSteps: 10 };
    assert.deepEqual(
      [0, 1, 2].map((r) => rungStop(halving, r, null)),
      [10, 30, 90],
    );
    assert.equal(rungStop(halving, 2, 90), null, 'a rung at the end trains to the end');
    assert.equal(rungStop(halving, 1, 100), 30);
    assert.equal(rungStop(undefined, 0, 100), null, 'no halving: every trial to the end');
  });

  it('reads the sweep metric, or says what the trainer reported instead', () => {
    assert.deepEqual(rungMetric({ accuracy: 0.8, loss: 0.3 }, 'accuracy', 'trial t01'), { value: 0.8 });
    assert.deepEqual(rungMetric({ accuracy: null }, 'accuracy', 'trial t01'), { value: null });
    const missing = rungMetric({ loss: 0.3 }, 'auc', 'trial t01 at step 17');
    assert.ok('missing' in missing && /trial t01 at step 17: .* are loss, without "auc"/.test(missing.missing));
    const none = rungMetric(null, 'auc', 'trial t02');
    assert.ok('missing' in none && /reported no validation metrics/.test(none.missing));
  });

  it('a trainer stopped by maxSteps has reached its rung; a SIGTERM or a cancellation has not', () => {
    const run = { exitCode: EXIT.preempted, lastError: null, stderrTail: '' };
    const seen = { finished: false, stalled: false, shuttingDown: false };
    assert.equal(classifyAttempt(run, { ...seen, reachedMaxSteps: true }, undefined).outcome, 'rung-reached');
    assert.equal(classifyAttempt(run, seen, undefined).outcome, 'preempted');
    const cancelled = { cancelRequested: true, workerShutdown: false };
    assert.equal(classifyAttempt(run, { ...seen, reachedMaxSteps: true }, cancelled).outcome, 'cancelled');
  });
});
