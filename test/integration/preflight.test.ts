// Preflight on the real servers with real trainers: a good config passes its smoke run and trains; a config the
// trainer rejects, a checkpoint it cannot resume and a trainer that hangs each end the run at preflight, before
// anything is queued for a GPU.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { runStatus, startRetraining } from '../../client';
import { keys } from '../../core/keys';
import { ModelConfig } from '../../core/modelConfig';
import type { RunStatus } from '../../core/runStatus';
import { formatRunSummary } from '../../cli/runSummary';
import { testModelConfig } from '../helpers/flights';
import { activityRuns } from '../helpers/historyActivities';
import { trainerProcesses } from '../helpers/processes';
import { flightsTenant, recordHistory, startTestStack, type TestStack } from '../helpers/stack';

describe('preflight', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  const modelId = 'preflight';
  const withPreflight = (changes: Partial<ModelConfig> = {}): ModelConfig =>
    ModelConfig.parse({ ...testModelConfig({ preflight: true }), modelId, ...changes });
  // A config without trainer rules (hyperparameterRules) is checked by the trainer alone.
  const { hyperparameterRules, ...unchecked } = testModelConfig().trainer;

  before(async () => {
    assert.equal(hyperparameterRules, 'flight-delay');
    stack = await startTestStack();
    tenant = await flightsTenant(stack);
  });
  after(async () => stack?.stop());

  const start = (modelConfig: ModelConfig) =>
    startRetraining(
      stack.client,
      { modelId, dataset: { keys: ['data/jan.parquet'] }, modelConfig },
      { taskQueue: tenant.config.taskQueue },
    );
  const stages = (s: RunStatus) => s.timings.map((t) => t.stage);

  /** The run fails at preflight: its message, status, the activities it ran and its attempt records. */
  async function failedAtPreflight(handle: WorkflowHandle) {
    const started = Date.now();
    const err = await handle.result().then(
      () => null,
      (e: unknown) => e,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.ok(err instanceof WorkflowFailedError, `expected the run to fail, got ${String(err)}`);
    assert.ok(err.cause instanceof ApplicationFailure);
    const status = await runStatus(stack.client, handle.workflowId);
    assert.equal(status.outcome, 'failed');
    assert.equal(stages(status).at(-1), 'preflight');
    const ran = activityRuns(await handle.fetchHistory()).map((r) => r.type);
    assert.ok(!ran.includes('trainModel'), `nothing queued for a GPU: ${ran.join(',')}`);
    assert.deepEqual(await tenant.store.list(keys.attempts(modelId, status.runId)), [], 'no training attempt');
    assert.deepEqual(trainerProcesses(status.runId), [], 'no trainer process left');
    return { message: err.cause.message, status, seconds };
  }

  it('a good config passes its smoke run (steps, a checkpoint, a resume from it) and then trains', async () => {
    const handle = await start(withPreflight());
    const status = await handle.result();
    await recordHistory(stack.client, 'pipeline-preflight', handle.workflowId);
    assert.equal(status.outcome, 'promoted');
    const order = stages(status);
    assert.equal(order.indexOf('preflight') + 1, order.indexOf('train'), `stages ${order.join(',')}`);
    const p = status.preflight!;
    assert.deepEqual([p.steps, p.checkpointStep, p.resumedAtStep], [2, 2, 2]);
    assert.equal(p.rows.train, 256);
    assert.ok(p.rows.validation > 0 && p.rows.validation <= 256);
    assert.ok(p.cpuSeconds > 0 && p.seconds > 0);
    assert.match(formatRunSummary(status), /preflight: passed .*2 step\(s\).*resumed at step 2/);
    console.log(`preflight ${p.seconds.toFixed(1)} s wall, ${p.cpuSeconds.toFixed(1)} CPU-s`);
  });

  it('a trainer config error ends the run at preflight naming the trainer message, before the GPU queue', async () => {
    const handle = await start(withPreflight({ trainer: unchecked, hyperparameters: { epochs: -1 } }));
    const { message, seconds } = await failedAtPreflight(handle);
    assert.match(message, /stage preflight failed: trainer rejected its configuration in the preflight run .*epochs/);
    console.log(`config error found by preflight in ${seconds.toFixed(1)} s`);
  });

  it('a checkpoint the trainer cannot resume from ends the run at preflight (found before any preemption)', async () => {
    const trainer = { ...unchecked, command: ['python3', 'test/helpers/unresumable_trainer.py'] };
    const { message } = await failedAtPreflight(await start(withPreflight({ trainer, hyperparameters: {} })));
    assert.match(message, /could not load the checkpoint it had just written: .*holds no optimizer state/);
  });

  it('a trainer that hangs is killed at preflight.timeoutSeconds, with a clear error', async () => {
    const trainer = {
      ...unchecked,
      command: ['env', 'CT_TRAINER_STEP_DELAY_MS=60000', 'python3', 'trainers/flight_delay/train.py'],
    };
    const config = withPreflight({ trainer, preflight: { enabled: true, steps: 2, rows: 64, timeoutSeconds: 10 } });
    const { message, seconds } = await failedAtPreflight(await start(config));
    assert.match(message, /did not end within 10 s \(preflight\.timeoutSeconds\): killed/);
    assert.ok(seconds < 60, `failed after ${seconds} s`);
  });
});
