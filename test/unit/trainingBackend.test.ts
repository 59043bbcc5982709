// The training backends' pure parts: whether a Ray cluster can place an attempt, reading a job's growing log by
// line, the job's shell command line, and the backend a model config picks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ModelConfig } from '../../core/modelConfig';
import { JobLogLines, placementProblem, rayJobEntrypoint, shellCommand } from '../../core/rayAttempt';
import { RayRejectedError } from '../../adapters/rayJobs';
import { trainerBackend } from '../../activities/training/trainerBackend';
import { testModelConfig } from '../helpers/flights';

describe('Ray placement', () => {
  it('counts whole workers per node: resources split across nodes do not make a worker', () => {
    assert.equal(placementProblem([{ CPU: 2 }, { CPU: 2 }], 2, { CPU: 1 }), null);
    assert.equal(placementProblem([{ CPU: 2 }, { CPU: 2 }], 4, { CPU: 1 }), null);
    assert.match(
      placementProblem([{ CPU: 3 }, { CPU: 3 }], 2, { CPU: 4 })!,
      /cannot place 2 workers of \{"CPU":4\}: its alive nodes offer \{"CPU":3\}, \{"CPU":3\} \(room for 0\)/,
    );
  });
  it('needs every resource of a worker on one node, GPUs and custom ones included', () => {
    const nodes: Record<string, number>[] = [{ CPU: 8, GPU: 1 }, { CPU: 8 }];
    assert.match(placementProblem(nodes, 2, { CPU: 1, GPU: 1 })!, /room for 1/);
    assert.equal(placementProblem(nodes, 2, { CPU: 4 }), null);
    assert.match(placementProblem([], 1, { CPU: 1 })!, /no alive node/);
    assert.equal(placementProblem([{}], 3, { CPU: 0 }), null, 'a worker asking for nothing fits anywhere');
  });
});

describe("a Ray job's log followed by line", () => {
  it('hands out complete lines once each, keeping a line still being written for later', () => {
    const log = new JobLogLines();
    assert.deepEqual(log.add('a\nb\npar'), ['a', 'b']);
    assert.deepEqual(log.add('tial'), []);
    assert.deepEqual(log.add('\n{"x":1}\n'), ['partial', '{"x":1}']);
  });
  it('skips what an earlier stream brought when a new one replays the log from its start', () => {
    const log = new JobLogLines();
    assert.deepEqual(log.add('a\nb\nc'), ['a', 'b']);
    log.restart();
    assert.deepEqual(log.add('a\n'), []);
    assert.deepEqual(log.add('b\ncd\ne'), ['cd']);
    assert.deepEqual(log.finish('a\nb\ncd\nef'), ['ef'], 'the last line, without its newline, at the end');
  });
});

describe("the Ray job's command line", () => {
  it('runs the Ray job driver from the worker folder with the SDK on the path, every argument quoted', () => {
    const entrypoint = rayJobEntrypoint({
      cwd: '/srv/my repo',
      sdkRoot: '/srv/my repo/trainers',
      python: 'python3',
      workers: 2,
      resourcesPerWorker: { CPU: 1 },
      placement: 'SPREAD',
      stopFile: '/w/stop-1',
      trainerArgv: ['python3', 'train.py', 'train', '--config', '/w/c.json'],
    });
    assert.equal(
      entrypoint,
      `cd '/srv/my repo' && PYTHONPATH='/srv/my repo/trainers' exec python3 -m ct_trainer.ray_job --workers 2 --resources '{"CPU":1}' --placement SPREAD --stop-file /w/stop-1 -- python3 train.py train --config /w/c.json`,
    );
  });
  it('quotes what the shell would split or expand', () => {
    assert.equal(
      shellCommand(['python3', '-m', 'x.y', '--resources', '{"CPU":1}']),
      `python3 -m x.y --resources '{"CPU":1}'`,
    );
    assert.equal(shellCommand(["it's", '/a b/$HOME']), `'it'\\''s' '/a b/$HOME'`);
  });
});

describe('the backend a model config picks', () => {
  const config = (trainer: object) => {
    const base = testModelConfig();
    return ModelConfig.parse({ ...base, trainer: { ...base.trainer, ...trainer } }).trainer;
  };
  const job = { modelId: 'm', runId: 'r', attempt: 1 };
  const log = pino({ level: 'silent' });
  it('refuses ray on a worker with no Ray cluster, naming the setting', () => {
    assert.throws(
      () => trainerBackend(config({ backend: 'ray' }), { job, log }),
      (err: unknown) => err instanceof RayRejectedError && /ray\.address.*CT_RAY_ADDRESS/.test(err.message),
    );
  });
  it('gives a Ray job more time to start than a local process', () => {
    const ray = { address: 'http://127.0.0.1:8265', python: 'python3' };
    const onRay = trainerBackend(config({ backend: 'ray', workers: 2 }), { ray, job, log });
    const local = trainerBackend(config({ workers: 2 }), { job, log });
    assert.ok(onRay.startupGraceSeconds > local.startupGraceSeconds);
  });
  it('refuses workers below 1 and unknown backends in the model config', () => {
    assert.throws(() => config({ workers: 0 }), /workers/);
    assert.throws(() => config({ backend: 'slurm' }), /backend/);
  });
});
