// The training backends' pure parts: whether a Ray cluster can place an attempt, reading a job's growing log by
// line, the job's shell command line, and the backend a model config picks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelConfig } from '../../core/modelConfig';
import { newLines, placementProblem, shellCommand } from '../../core/rayPlacement';
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

describe("a Ray job's log read by line", () => {
  it('hands out complete lines once each, keeping a line still being written for later', () => {
    const first = newLines('a\nb\npart', 0);
    assert.deepEqual(first, { lines: ['a', 'b'], offset: 4 });
    assert.deepEqual(newLines('a\nb\npart', first.offset), { lines: [], offset: 4 });
    assert.deepEqual(newLines('a\nb\npartial\n{"x":1}\n', first.offset), { lines: ['partial', '{"x":1}'], offset: 20 });
  });
});

describe("the Ray job's command line", () => {
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
  it('refuses ray on a worker with no Ray cluster, naming the setting', () => {
    assert.throws(
      () => trainerBackend(config({ backend: 'ray' }), { job }),
      (err: unknown) => err instanceof RayRejectedError && /ray\.address.*CT_RAY_ADDRESS/.test(err.message),
    );
  });
  it('gives a Ray job more time to start than a local process', () => {
    const ray = { address: 'http://127.0.0.1:8265', python: 'python3' };
    const onRay = trainerBackend(config({ backend: 'ray', workers: 2 }), { ray, job });
    const local = trainerBackend(config({ workers: 2 }), { job });
    assert.ok(onRay.startupGraceSeconds > local.startupGraceSeconds);
  });
  it('refuses workers below 1 and unknown backends in the model config', () => {
    assert.throws(() => config({ workers: 0 }), /workers/);
    assert.throws(() => config({ backend: 'slurm' }), /backend/);
  });
});
