// The run fingerprint (experiment memory): what changes it, what does not, and the trainer's code digest.
import assert from 'node:assert/strict';
import { SweepSettings } from '../../core/sweep';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fingerprintDocument, reusedTraining } from '../../core/experiments';
import type { ModelConfig } from '../../core/modelConfig';
import type { PreparedData, TrainingResult } from '../../core/reports';
import { trainerCodeDigest } from '../../activities/trainerCode';
import { projectRoot } from '../../stack/paths';
import { testModelConfig } from '../helpers/flights';

const split = (key: string, sha: string) => ({ key, rows: 100, sha256: sha, from: 'a', to: 'b' });
const prepared = (trainSha = 'a'.repeat(64), trainKey = 'runs/r1/train.parquet'): PreparedData => ({
  rows: 300,
  splits: {
    train: split(trainKey, trainSha),
    validation: split('runs/r1/validation.parquet', 'b'.repeat(64)),
    holdout: split('runs/r1/holdout.parquet', 'c'.repeat(64)),
  },
  sourceDigests: { 'data/jan.parquet': 'd'.repeat(64) },
});
const fp = (config: ModelConfig, data = prepared(), code = 'sha256:1') =>
  createHash('sha256')
    .update(fingerprintDocument(config, data, code))
    .digest('hex');

describe('run fingerprint', () => {
  const base = testModelConfig();

  it('is stable for the same inputs and ignores key order and what does not change the model', () => {
    assert.equal(fp(base), fp(structuredClone(base)));
    const reordered = { ...base, hyperparameters: Object.fromEntries(Object.entries(base.hyperparameters).reverse()) };
    assert.equal(fp(reordered), fp(base), 'hyperparameter order does not matter');
    const gateChanged = { ...base, gate: { ...base.gate, minimum: { rocAuc: 0.9 } } };
    const timeoutChanged = { ...base, trainer: { ...base.trainer, heartbeatTimeoutSeconds: 99 } };
    assert.equal(fp(gateChanged), fp(base), 'the gate decides promotion, not the trained model');
    assert.equal(fp(timeoutChanged), fp(base));
    // The run's own split keys differ from run to run; only their content counts.
    assert.equal(fp(base, prepared('a'.repeat(64), 'runs/r2/train.parquet')), fp(base));
  });

  it('changes with a hyperparameter, the data, the seed, the features, the label or the code', () => {
    const variants: [string, string][] = [
      ['hyperparameter', fp({ ...base, hyperparameters: { ...base.hyperparameters, epochs: 3 } })],
      ['data (same key, other content)', fp(base, prepared('e'.repeat(64)))],
      ['seed', fp({ ...base, seed: base.seed + 1 })],
      ['features', fp({ ...base, features: base.features.slice(1) })],
      ['label', fp({ ...base, label: { ...base.label, name: 'other' } })],
      ['code', fp(base, prepared(), 'sha256:2')],
      ['command', fp({ ...base, trainer: { ...base.trainer, command: [...base.trainer.command, '--x'] } })],
      [
        'sweep',
        fp({
          ...base,
          sweep: SweepSettings.parse({
            metric: { name: 'loss', goal: 'minimize' },
            space: { epochs: { values: [1, 2] } },
          }),
        }),
      ],
    ];
    for (const [what, v] of variants) assert.notEqual(v, fp(base), `${what} changes the fingerprint`);
    assert.equal(new Set(variants.map(([, v]) => v)).size, variants.length);
  });

  it('counts a reused GPU training in GPU-seconds and a CPU one in CPU-seconds', () => {
    const trained = { seconds: 12, gpus: ['0', '1'] } as TrainingResult;
    const record = { fingerprint: 'f', modelId: 'm', workflowId: 'w', runId: 'r', recordedAt: '', trained };
    assert.deepEqual(reusedTraining(record), {
      workflowId: 'w',
      runId: 'r',
      deviceSeconds: 24,
      deviceSecondsKind: 'gpu',
    });
    assert.equal(reusedTraining({ ...record, trained: { ...trained, gpus: [] } }).deviceSecondsKind, 'cpu');
  });
});

describe('trainer code digest', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-code-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(path.join(projectRoot, 'trainers'), path.join(dir, 'trainers'), {
    recursive: true,
    filter: (p) => !p.includes('__pycache__'),
  });
  const command = ['python3', 'trainers/flight_delay/train.py'];

  it('covers the trainer folder and the SDK beside it, not caches or other trainers', async () => {
    const first = await trainerCodeDigest(command, dir);
    assert.match(first ?? '', /^sha256:[0-9a-f]{64}$/);
    writeFileSync(path.join(dir, 'trainers/flight_delay/__pycache__.pyc'), 'cache');
    writeFileSync(path.join(dir, 'trainers/digits/notes.txt'), 'another trainer');
    assert.equal(await trainerCodeDigest(command, dir), first, 'caches and other trainers do not count');
    writeFileSync(path.join(dir, 'trainers/ct_trainer/extra.py'), '# sdk change\n');
    const sdkChanged = await trainerCodeDigest(command, dir);
    assert.notEqual(sdkChanged, first, 'a change to the trainer SDK is a change of code');
    writeFileSync(path.join(dir, 'trainers/flight_delay/train.py'), '# edited\n', { flag: 'a' });
    assert.notEqual(await trainerCodeDigest(command, dir), sdkChanged, 'an edited trainer file changes it');
  });

  it('is null when the command names no file', async () => {
    assert.equal(await trainerCodeDigest(['my-trainer-binary', '--fast'], dir), null);
  });
});
