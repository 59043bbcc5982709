// Sweeps on the real servers and the real digits trainer: a grid with successive halving trains weak trials only to
// their rung, the winner on from its own checkpoint, and the winner's hyperparameters go on to the gate and the
// card; a trainer that never reports the sweep metric fails the run at the first rung, naming what it did report.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRetraining } from '../../client';
import { readCard } from '../../adapters/registryStore';
import { AttemptRecord } from '../../core/attempts';
import { keys } from '../../core/keys';
import { type ModelConfig, ModelConfig as ModelConfigSchema } from '../../core/modelConfig';
import { digitsMonthKey, ingestDigits } from '../../cli/ingestDigits';
import { loadModelConfigFile } from '../../cli/models';
import { formatRunSummary } from '../../cli/runSummary';
import { projectRoot } from '../../stack/paths';
import { statusQuery } from '../../workflows/definitions';
import { trainerProcesses } from '../helpers/processes';
import { recordHistory, startTestStack, type TestStack } from '../helpers/stack';
import { until } from '../helpers/until';

describe('sweeps with successive halving', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const modelId = 'digits-sweep';
  const digits = loadModelConfigFile(path.join(projectRoot, 'models', 'digits.yaml'));
  // ~900 training images in batches of 64: 14 steps an epoch, 84 in all. Rungs at 17 and 34 steps.
  const config = (sweep: Record<string, unknown>, over: Record<string, unknown> = {}): ModelConfig =>
    ModelConfigSchema.parse({
      ...digits,
      modelId,
      reuse: 'never',
      ...over,
      preflight: { enabled: false },
      hyperparameters: { ...digits.hyperparameters, epochs: 6 },
      trainer: { ...digits.trainer, checkpoint: { everySteps: 0, everySeconds: 0 } },
      sweep,
    });

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    await tenant.store.ensureBucket();
    await ingestDigits(tenant.store);
    await stack.startWorkers(tenant.config);
  });
  after(async () => stack?.stop());

  const start = (modelConfig: ModelConfig) =>
    startRetraining(
      stack.client,
      { modelId, dataset: { keys: [digitsMonthKey('2026-01')] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
  const run = async (modelConfig: ModelConfig, name?: string) => {
    const handle = await start(modelConfig);
    const status = await handle.result().catch(async () => handle.query(statusQuery));
    if (name) await recordHistory(stack.client, name, handle.workflowId);
    return status;
  };

  const grid = {
    metric: { name: 'accuracy', goal: 'maximize' },
    space: { learningRate: { values: [0.0001, 0.003] }, channels: { values: [[4], [16, 32]] } },
    concurrency: 2,
    halving: { eta: 2, minSteps: 17 },
  };
  let winnerValues: Record<string, unknown>;

  it('stops weak trials at their rungs, resumes the best from their checkpoints, and promotes the winner', async () => {
    const s = await run(config(grid, { reuse: 'identical' }), 'pipeline-sweep');
    assert.equal(s.outcome, 'promoted', s.error ?? '');
    assert.ok(s.timings.some((t) => t.stage === 'sweep') && !s.timings.some((t) => t.stage === 'train'));
    const sw = s.sweep!;
    assert.deepEqual(sw.rungs, [17, 34], 'two rungs before the last trial trains to the end');
    assert.deepEqual(
      sw.trials.map((t) => t.state).sort(),
      ['finished', 'stopped', 'stopped', 'stopped'],
      JSON.stringify(sw.trials),
    );
    const stoppedAt = sw.trials.filter((t) => t.state === 'stopped').map((t) => t.step);
    assert.deepEqual(
      stoppedAt.sort((a, b) => a - b),
      [17, 17, 34],
    );
    const winner = sw.trials.find((t) => t.name === sw.winner)!;
    winnerValues = winner.values;
    assert.equal(winner.state, 'finished');
    assert.ok(winner.step > 34, `the winner trained to the end (${winner.step} steps)`);
    // The two trials kept at the first rung are the two best there; the winner is the best of the last two.
    const card = await readCard(tenant.store, modelId, 1);
    assert.deepEqual(
      card.parameters.hyperparameters['learningRate'],
      winner.values['learningRate'],
      'the card has the winner',
    );

    const records = await Promise.all(
      (await tenant.store.list(keys.attempts(modelId, s.runId))).map(async (k) =>
        AttemptRecord.parse(await tenant.store.getJson(k)),
      ),
    );
    assert.equal(records.length, 4 + 2 + 1, 'one attempt per trial and rung');
    const chain = records.filter((r) => r.trial?.name === winner.name).sort((a, b) => a.trial!.rung - b.trial!.rung);
    assert.deepEqual(
      chain.map((r) => [r.outcome, r.resumedFromStep, r.lastStep]),
      [
        ['rung-reached', 0, 17],
        ['rung-reached', 17, 34],
        ['succeeded', 34, winner.step],
      ],
      'each rung resumes from the checkpoint the rung before stopped at',
    );
    assert.ok(records.every((r) => r.deviceSeconds > 0));
    assert.deepEqual(trainerProcesses(s.runId), [], 'no trainer process left');

    const summary = formatRunSummary(s);
    assert.match(
      summary,
      /sweep: 4 trials on validation accuracy \(maximize\), successive halving \(rungs at steps 17, 34\)/,
    );
    assert.match(summary, new RegExp(`\\* ${winner.name} .* finished`));
  });

  it('reuses an identical finished sweep: nothing trains, the winner goes on with its hyperparameters', async () => {
    const s = await run(config(grid, { reuse: 'identical' }));
    assert.equal(s.outcome, 'promoted', s.error ?? '');
    assert.ok(s.reused, 'the second identical sweep reuses the first one');
    assert.equal(s.sweep, null);
    assert.deepEqual(await tenant.store.list(keys.attempts(modelId, s.runId)), [], 'no training attempt');
    const card = await readCard(tenant.store, modelId, s.registered!.version);
    assert.deepEqual(card.parameters.hyperparameters['channels'], winnerValues['channels']);
    assert.deepEqual(card.parameters.hyperparameters['learningRate'], winnerValues['learningRate']);
  });

  it('a cancelled sweep stops its trials with a checkpoint and leaves no trainer process', async () => {
    const slow = { ...digits.trainer, command: ['env', 'CT_TRAINER_STEP_DELAY_MS=100', ...digits.trainer.command] };
    const handle = await start(config(grid, { trainer: { ...slow, checkpoint: { everySteps: 0, everySeconds: 0 } } }));
    await until('a trial training', async () => {
      const s = await handle.query(statusQuery);
      return s.training?.trial && s.training.step >= 2 ? true : undefined;
    });
    await handle.cancel();
    await assert.rejects(handle.result());
    const s = await handle.query(statusQuery);
    assert.equal(s.outcome, 'cancelled');
    assert.deepEqual(trainerProcesses(s.runId), [], 'no trainer process left');
    const records = await Promise.all(
      (await tenant.store.list(keys.attempts(modelId, s.runId))).map(async (k) =>
        AttemptRecord.parse(await tenant.store.getJson(k)),
      ),
    );
    const outcomes = records.map((r) => r.outcome);
    assert.ok(outcomes.includes('cancelled'), `a trial in flight was cancelled: ${outcomes.join(', ')}`);
    assert.ok(
      outcomes.every((o) => o === 'cancelled' || o === 'rung-reached'),
      outcomes.join(', '),
    );
    for (const r of records.filter((r) => r.outcome === 'cancelled'))
      assert.match(r.message, /checkpoint .*step-\d{8}\.pt/, 'the cancelled trial checkpointed before it stopped');
  });

  it('fails at the first rung, naming what the trainer reports, when it never reports the sweep metric', async () => {
    const sweep = {
      metric: { name: 'auc', goal: 'maximize' },
      space: { dropout: { values: [0, 0.2] } },
      halving: { eta: 2, minSteps: 17 },
    };
    const s = await run(config(sweep));
    assert.equal(s.outcome, 'failed');
    assert.match(
      s.error ?? '',
      /^sweep: trial t0\d at step 17 \(rung 1\): the trainer's validation metrics are loss, accuracy, without "auc"/,
    );
    assert.ok(
      s.sweep!.trials.every((t) => t.step <= 17),
      'nothing trained past the first rung',
    );
    assert.ok(s.sweep!.trials.some((t) => t.state === 'failed' && /without "auc"/.test(t.error ?? '')));
    assert.deepEqual(trainerProcesses(s.runId), [], 'the other trial was stopped with the run: no trainer left');
  });
});
