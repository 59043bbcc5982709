// Experiment tracking's pure parts: params flattened, metrics from the step series and the evaluation, log-batch
// requests within MLflow's limits, the step series kept short, the config section's errors, the auth header.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizationOf } from '../../adapters/mlflowTracking';
import { recordStep } from '../../activities/training/stepSeries';
import { keys } from '../../core/keys';
import { ModelConfig } from '../../core/modelConfig';
import { parseOrThrow } from '../../core/parse';
import {
  addStepPoint,
  clip,
  flattenParams,
  logBatches,
  MLFLOW_LIMITS,
  mlflowKey,
  runParams,
  type StepPoint,
  stepMetrics,
  summaryMetrics,
  tagList,
  trialLogs,
} from '../../core/tracking';
import type { SweepStatus, TrialStatus } from '../../core/sweep';
import { testModelConfig } from '../helpers/flights';

const L = MLFLOW_LIMITS;

describe('MLflow params and tags', () => {
  it('flattens nested hyperparameters to dotted keys; arrays and scalars as JSON, strings as they are', () => {
    assert.deepEqual(
      flattenParams({ lr: 0.01, opt: { name: 'adam', betas: [0.9, 0.99] }, on: true, s: 'x', n: null }),
      [
        { key: 'lr', value: '0.01' },
        { key: 'opt.name', value: 'adam' },
        { key: 'opt.betas', value: '[0.9,0.99]' },
        { key: 'on', value: 'true' },
        { key: 's', value: 'x' },
        { key: 'n', value: 'null' },
      ],
    );
  });

  it("a run's params: hyperparameters, trainer command, seed, task, features, fingerprint", () => {
    const config = testModelConfig();
    const params = Object.fromEntries(runParams(config, 'f'.repeat(64)).map((p) => [p.key, p.value]));
    assert.equal(params['hyperparameters.epochs'], '2');
    assert.equal(params['trainer.command'], config.trainer.command.join(' '));
    assert.equal(params['seed'], String(config.seed));
    assert.equal(params['task'], 'binary');
    assert.equal(params['features'], config.features.map((f) => f.name).join(','));
    assert.equal(params['fingerprint'], 'f'.repeat(64));
    assert.ok(!('fingerprint' in Object.fromEntries(runParams(config, null).map((p) => [p.key, p.value]))));
  });

  it('keeps keys and values within MLflow limits', () => {
    assert.equal(mlflowKey('a:b@c/d e-f.g_h'), 'a_b_c/d e-f.g_h');
    assert.equal(mlflowKey('k'.repeat(300)).length, L.keyLength);
    const long = clip('v'.repeat(10_000), L.paramValueLength);
    assert.equal(long.length, L.paramValueLength);
    assert.match(long, /\[cut\]$/);
    assert.equal(clip('short', 10), 'short');
    const [tag] = tagList({ 'ct.error': 'e'.repeat(9000), empty: '' });
    assert.equal(tag!.value.length, L.tagValueLength);
    assert.equal(tagList({ empty: '' }).length, 0, 'an empty value is left out');
    const config = { ...testModelConfig(), hyperparameters: { big: 'x'.repeat(7000) } } as ModelConfig;
    assert.equal(runParams(config, null).find((p) => p.key === 'hyperparameters.big')!.value.length, 6000);
  });
});

describe('MLflow metrics', () => {
  const point = (step: number, extra: Partial<StepPoint> = {}): StepPoint => ({
    step,
    atMs: 1_000 + step,
    loss: 1 / step,
    samplesPerSec: 100,
    ...extra,
  });

  it('a step series as loss, samples/s and validation histories; non-finite values left out', () => {
    const metrics = stepMetrics([point(1), point(2, { validation: { auc: 0.7 }, loss: Number.NaN })]);
    assert.deepEqual(
      metrics.map((m) => `${m.key}@${m.step}=${m.value}`),
      ['train.loss@1=1', 'train.samples_per_sec@1=100', 'train.samples_per_sec@2=100', 'validation.auc@2=0.7'],
    );
    assert.equal(metrics[0]!.timestamp, 1001);
  });

  it('records progress events with their validation object (its null values left out)', () => {
    const points: StepPoint[] = [];
    const progress = { event: 'progress', step: 3, epoch: 1, loss: 0.5, samplesPerSec: 9 } as const;
    recordStep(points, progress, 42);
    recordStep(points, { ...progress, step: 4, validation: { accuracy: 0.9, auc: null, loss: 0.3 } }, 43);
    recordStep(points, { ...progress, step: 5, validation: { auc: null } }, 44);
    assert.deepEqual(points, [
      { step: 3, atMs: 42, loss: 0.5, samplesPerSec: 9 },
      { step: 4, atMs: 43, loss: 0.5, samplesPerSec: 9, validation: { accuracy: 0.9, loss: 0.3 } },
      { step: 5, atMs: 44, loss: 0.5, samplesPerSec: 9 },
    ]);
  });

  it("finds a model's step series beside it: a run's, a sweep trial's", () => {
    for (const runId of ['r1', keys.trialRun('r1', 't03')])
      assert.equal(keys.trainingMetricsOfModel(keys.trainedModel('m', runId)), keys.trainingMetrics('m', runId));
  });

  it('thins a long series to half, keeping the newest point', () => {
    const points: StepPoint[] = [];
    for (let s = 1; s <= 25; s++) addStepPoint(points, point(s), 10);
    assert.ok(points.length < 10, `${points.length} points`);
    assert.equal(points.at(-1)!.step, 25);
    assert.deepEqual(
      points.map((p) => p.step),
      [...points.map((p) => p.step)].sort((a, b) => a - b),
    );
  });

  it('evaluation, final validation and the gate as metrics at the last step', () => {
    const evaluation = {
      candidate: { version: null, overall: { rocAuc: 0.71, logLoss: 0.5 }, slices: [] },
      champion: { version: 1, overall: { rocAuc: 0.7 }, slices: [] },
    } as never;
    const verdict = { passed: true } as never;
    const metrics = summaryMetrics({ evaluation, verdict, validation: { loss: 0.4 } }, 5_000, 32);
    assert.deepEqual(
      metrics.map((m) => `${m.key}=${m.value}`),
      [
        'eval.rocAuc=0.71',
        'eval.logLoss=0.5',
        'eval.champion.rocAuc=0.7',
        'final.validation.loss=0.4',
        'gate.passed=1',
      ],
    );
    assert.ok(metrics.every((m) => m.timestamp === 5_000 && m.step === 32));
    assert.deepEqual(summaryMetrics({ evaluation: null, verdict: null, validation: {} }, 0, 0), []);
  });
});

describe('MLflow nested runs of a sweep', () => {
  it('one per trial: its values as params, its metric at the step it stopped, stopped and finished FINISHED', () => {
    const trial = (name: string, state: TrialStatus['state'], metric: number | null, error: string | null = null) => ({
      name,
      values: { learningRate: 0.01, channels: [8] },
      state,
      rung: 1,
      step: 34,
      metric,
      error,
    });
    const sweep: SweepStatus = {
      metric: { name: 'accuracy', goal: 'maximize' },
      halving: true,
      rungs: [17, 34],
      trials: [trial('t01', 'stopped', 0.8), trial('t02', 'finished', 0.9), trial('t03', 'failed', null, 'OOM')],
      winner: 't02',
    };
    const logs = trialLogs(sweep, 'run-1', 'parent-9', 1000);
    assert.deepEqual(
      logs.map((l) => [l.name, l.key, l.status]),
      [
        ['t01', 'run-1/t01', 'FINISHED'],
        ['t02', 'run-1/t02', 'FINISHED'],
        ['t03', 'run-1/t03', 'FAILED'],
      ],
    );
    const [stopped, , failed] = logs;
    assert.deepEqual(stopped!.batch.params, [
      { key: 'hyperparameters.learningRate', value: '0.01' },
      { key: 'hyperparameters.channels', value: '[8]' },
    ]);
    assert.deepEqual(stopped!.batch.metrics, [
      { key: 'validation.accuracy', value: 0.8, timestamp: 1000, step: 34 },
      { key: 'trial.step', value: 34, timestamp: 1000, step: 34 },
    ]);
    const tags = Object.fromEntries(failed!.batch.tags.map((t) => [t.key, t.value]));
    assert.deepEqual(tags, {
      'mlflow.parentRunId': 'parent-9',
      'ct.run_id': 'run-1/t03',
      'ct.trial': 't03',
      'ct.trial.state': 'failed',
      'ct.trial.winner': 'false',
      'ct.trial.error': 'OOM',
    });
    assert.equal(trialLogs({ ...sweep, trials: [trial('t04', 'training', null)] }, 'r', 'p', 1)[0]!.status, 'KILLED');
  });
});

describe('MLflow log-batch requests', () => {
  const kv = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ key: `${p}${i}`, value: 'v' }));
  const metric = (n: number) => Array.from({ length: n }, (_, i) => ({ key: 'm', value: i, timestamp: i, step: i }));

  it('one request when everything fits, even an empty one', () => {
    assert.equal(logBatches({ params: kv(3, 'p'), tags: kv(3, 't'), metrics: metric(10) }).length, 1);
    assert.deepEqual(logBatches({ params: [], tags: [], metrics: [] }), [{ params: [], tags: [], metrics: [] }]);
  });

  it('splits at 100 params, 100 tags, 1000 metrics and 1000 entities per request, losing nothing', () => {
    const all = { params: kv(250, 'p'), tags: kv(120, 't'), metrics: metric(2_345) };
    const batches = logBatches(all);
    for (const b of batches) {
      assert.ok(b.params.length <= L.paramsPerBatch);
      assert.ok(b.tags.length <= L.tagsPerBatch);
      assert.ok(b.metrics.length <= L.metricsPerBatch);
      assert.ok(b.params.length + b.tags.length + b.metrics.length <= L.entitiesPerBatch);
      assert.ok(b.params.length + b.tags.length + b.metrics.length > 0);
    }
    assert.deepEqual(
      batches.flatMap((b) => b.params),
      all.params,
    );
    assert.deepEqual(
      batches.flatMap((b) => b.tags),
      all.tags,
    );
    assert.deepEqual(
      batches.flatMap((b) => b.metrics),
      all.metrics,
    );
    assert.equal(batches.length, 3);
  });
});

describe('tracking config', () => {
  const base = testModelConfig();
  const parse = (tracking: unknown) => parseOrThrow(ModelConfig, { ...base, tracking }, 'model config');

  it('accepts an http(s) URI and an experiment; the registered model defaults to the model id (unset)', () => {
    const c = parse({ mlflow: { uri: 'http://127.0.0.1:5000', experiment: 'flights' } });
    assert.equal(c.tracking?.mlflow.registeredModel, undefined);
  });

  it('names the bad field', () => {
    assert.throws(
      () => parse({ mlflow: { uri: 'ftp://x', experiment: ' ' } }),
      (err: Error) => {
        assert.match(err.message, /tracking\.mlflow\.uri: the MLflow tracking server's http\(s\) URL/);
        assert.match(err.message, /tracking\.mlflow\.experiment: name the MLflow experiment/);
        return true;
      },
    );
    assert.throws(() => parse({ mlflow: { uri: 'http://x', experiment: 'e', extra: 1 } }), /tracking\.mlflow: /);
    assert.throws(() => parse({ wandb: {} }), /tracking: /);
    assert.throws(
      () => parse({ mlflow: { uri: 'https://bob:secret@mlflow.example', experiment: 'e' } }),
      /tracking\.mlflow\.uri: no credentials in the URI/,
    );
  });
});

describe('MLflow credentials', () => {
  it('a token as a bearer, else user and password as basic, else none', () => {
    assert.equal(authorizationOf({ token: 't', username: 'u', password: 'p' }), 'Bearer t');
    assert.equal(authorizationOf({ username: 'u', password: 'p' }), `Basic ${Buffer.from('u:p').toString('base64')}`);
    assert.equal(authorizationOf({ username: 'u' }), null);
  });
});
