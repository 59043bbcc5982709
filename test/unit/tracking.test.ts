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
} from '../../core/tracking';
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
