// retrainingPipeline's branches on the time-skipping test server with fake activities (real results recorded from a
// real run): the gate's rejection registers nothing, a day of silence rejects the challenger by timeout, and a
// sweep halves its trials rung by rung, a trial's own failure ending that trial alone; tracking logs every end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { TrialInput, TrialRung } from '../../activities/training/trialRung';
import { ModelConfig } from '../../core/modelConfig';
import { gpuTaskQueueOf } from '../../core/taskQueues';
import { startRetraining } from '../../client';
import { recordedActivities, recordedStageResults } from '../helpers/cards';
import { testModelConfig } from '../helpers/flights';
import { timeSkippingEnvironment, workflowBundle } from '../helpers/stack';
import { testDataConverter } from '../helpers/codec';

const QUEUE = 'branches';

describe('retrainingPipeline branches (time-skipping server, fake activities)', () => {
  let env: TestWorkflowEnvironment;
  let workers: Worker[];
  let running: Promise<void>[];
  const calls: string[] = [];
  const recorded = recordedStageResults();
  let candidateRocAuc = recorded.evaluation.candidate.overall.rocAuc;
  let championNow: number | null = null;

  // Each fake returns what the real activity returned in a recorded run, and notes that it was called.
  const { control, gpu } = recordedActivities(
    calls,
    () => ({
      ...recorded.evaluation,
      champion: null,
      candidate: {
        ...recorded.evaluation.candidate,
        overall: { ...recorded.evaluation.candidate.overall, rocAuc: candidateRocAuc },
      },
    }),
    () => championNow,
  );
  // Tracking (README "Experiment tracking (MLflow)"): what each run logs, a server that is down, a training that fails.
  const tracked: { outcome: string; trained: boolean }[] = [];
  let trackingDown = false;
  let trainingFails = false;
  control.trackRun = async (input) => {
    calls.push('trackRun');
    tracked.push({ outcome: input.status.outcome, trained: input.trained !== null });
    if (trackingDown) throw new Error('MLflow tracking server http://127.0.0.1:9 unreachable (GET …): ECONNREFUSED');
    return { mlflowRunId: 'r1', experimentId: '1', url: 'http://mlflow/#/r1', registeredVersion: null };
  };
  const train = gpu.trainModel!;
  gpu.trainModel = async (input) => {
    if (trainingFails) throw ApplicationFailure.nonRetryable('the trainer exited 1', 'TrainerFailed');
    return train(input);
  };
  // A sweep's trials: the closer the learning rate to 0.02, the better, more so the longer it trains; 0.1 runs out of
  // memory. Each call is noted as [trial, rung, step it was asked to stop at].
  const trialCalls: [string, number, number | null][] = [];
  const TOTAL_STEPS = 90;
  async function trainTrial(input: TrialInput): Promise<TrialRung> {
    const { name, rung, stopAtStep } = input.trial;
    trialCalls.push([name, rung, stopAtStep]);
    const lr = input.config.hyperparameters['learningRate'] as number;
    if (lr === 0.1) throw ApplicationFailure.nonRetryable('trainer ran out of memory: CUDA OOM', 'TrainerOutOfMemory');
    const step = stopAtStep ?? TOTAL_STEPS;
    const metric = (-Math.abs(Math.log(lr / 0.02)) * step) / TOTAL_STEPS;
    const trained = stopAtStep === null ? recorded.trained : null;
    return { name, rung, step, totalSteps: TOTAL_STEPS, metric, trained };
  }

  before(async () => {
    env = await timeSkippingEnvironment();
    const bundle = { code: (await workflowBundle()).code };
    workers = await Promise.all([
      Worker.create({
        connection: env.nativeConnection,
        dataConverter: testDataConverter(),
        taskQueue: QUEUE,
        workflowBundle: bundle,
        activities: control,
      }),
      Worker.create({
        connection: env.nativeConnection,
        dataConverter: testDataConverter(),
        taskQueue: gpuTaskQueueOf(QUEUE),
        activities: { ...gpu, trainTrial },
      }),
    ]);
    running = workers.map((w) => w.run());
  });
  after(async () => {
    for (const w of workers ?? []) w.shutdown();
    await Promise.all(running ?? []);
    await env?.teardown();
  });

  const run = async (modelConfig: ModelConfig) => {
    calls.length = 0;
    const handle = await startRetraining(
      env.client,
      {
        modelId: modelConfig.modelId,
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 't' },
        modelConfig,
      },
      { taskQueue: QUEUE },
    );
    return handle.result();
  };

  it('a candidate below the gate ends rejected-by-gate: nothing is registered, nothing asks people', async () => {
    candidateRocAuc = 0.42;
    const result = await run(testModelConfig());
    assert.equal(result.outcome, 'rejected-by-gate');
    assert.match(result.verdict!.reasons.join('; '), /rocAuc/);
    assert.deepEqual(
      calls.filter((c) => c !== 'recordAudit'),
      [
        'resolveRunConfig',
        'governanceVerifyingKey',
        'validateDataset',
        'prepareSplits',
        'fingerprintRun',
        'trainModel',
        'recordExperiment',
        'evaluateModels',
      ],
    );
  });

  it('a challenger nobody decides on is rejected by timeout after rejectAfter, and its rejection is recorded', async () => {
    candidateRocAuc = recorded.evaluation.candidate.overall.rocAuc;
    const config = {
      ...testModelConfig({ approval: 'manual' }),
      approval: { ...testModelConfig({ approval: 'manual' }).approval, rejectAfter: '2d' },
    };
    const result = await run(config); // two days pass in seconds
    assert.equal(result.outcome, 'rejected');
    assert.deepEqual([result.decision?.by, result.decision?.mode], ['timeout', 'timeout']);
    const approval = result.timings.find((t) => t.stage === 'approval')!;
    assert.ok(Math.abs(approval.seconds! - 172_800) < 5, `rejected after ${approval.seconds} s of workflow time`);
    assert.deepEqual(
      calls.filter((c) => ['registerChallenger', 'promoteChampion', 'recordRejection'].includes(c)),
      ['registerChallenger', 'recordRejection'],
    );
  });

  it("a champion that is already this run's version (its promotion ran, the task recording it was lost) is not gated against itself", async () => {
    candidateRocAuc = recorded.evaluation.candidate.overall.rocAuc;
    championNow = 1; // the fake registers version 1: the champion read sees this run's own promotion
    try {
      const result = await run(testModelConfig());
      assert.equal(result.outcome, 'promoted');
      assert.deepEqual(
        calls.filter((c) => ['evaluateModels', 'currentChampionVersion', 'promoteChampion'].includes(c)),
        ['evaluateModels', 'currentChampionVersion', 'promoteChampion'],
        'one evaluation, then the idempotent swap again with the verdict it was made on',
      );
    } finally {
      championNow = null;
    }
  });

  it('tracking logs how each run ends, and a tracking server that stays down is skipped, not a failure', async () => {
    const config = { ...testModelConfig(), tracking: { mlflow: { uri: 'http://127.0.0.1:9', experiment: 'e' } } };
    tracked.length = 0;
    candidateRocAuc = 0.42;
    const rejected = await run(config);
    assert.equal(rejected.outcome, 'rejected-by-gate');
    assert.deepEqual(rejected.tracking, {
      mlflowRunId: 'r1',
      experimentId: '1',
      url: 'http://mlflow/#/r1',
      registeredVersion: null,
    });
    assert.deepEqual(tracked, [{ outcome: 'rejected-by-gate', trained: true }]);

    candidateRocAuc = recorded.evaluation.candidate.overall.rocAuc;
    trackingDown = true;
    try {
      const promoted = await run(config);
      assert.equal(promoted.outcome, 'promoted');
      assert.match((promoted.tracking as { skipped: string }).skipped, /127\.0\.0\.1:9 unreachable/);
      assert.equal(calls.filter((c) => c === 'trackRun').length, 5, 'five attempts, then skipped');
    } finally {
      trackingDown = false;
    }

    tracked.length = 0;
    trainingFails = true;
    try {
      await assert.rejects(run(config), WorkflowFailedError);
      assert.deepEqual(tracked, [{ outcome: 'failed', trained: false }], 'a failed run is logged as failed');
    } finally {
      trainingFails = false;
    }
    const untracked = await run(testModelConfig());
    assert.equal(untracked.tracking, null, 'no tracking section: no call');
    assert.ok(!calls.includes('trackRun'));
  });

  it('a sweep with halving keeps the best third at each rung, trains the last one to the end, and promotes it', async () => {
    candidateRocAuc = recorded.evaluation.candidate.overall.rocAuc;
    trialCalls.length = 0;
    const base = testModelConfig();
    const rates = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2];
    const result = await run(
      ModelConfig.parse({
        ...base,
        sweep: {
          metric: { name: 'accuracy', goal: 'maximize' },
          space: { learningRate: { values: rates } },
          concurrency: 3,
          halving: { eta: 3, minSteps: 10 },
        },
      }),
    );
    assert.equal(result.outcome, 'promoted', result.error ?? '');
    const byRung = (r: number) => trialCalls.filter(([, rung]) => rung === r);
    assert.equal(byRung(0).length, 9, 'every trial to the first rung');
    assert.ok(byRung(0).every(([, , stop]) => stop === 10));
    // 8 reached the first rung (t08, 0.1, ran out of memory): floor(8/3) = 2 go on, to step 30.
    assert.deepEqual(byRung(1).sort(), [
      ['t05', 1, 30],
      ['t06', 1, 30],
    ]);
    assert.deepEqual(byRung(2), [['t05', 2, null]], 'the last trial standing trains to the end');
    const sweep = result.sweep!;
    assert.equal(sweep.winner, 't05');
    assert.deepEqual(sweep.rungs, [10, 30]);
    const t08 = sweep.trials.find((t) => t.name === 't08')!;
    assert.equal(t08.state, 'failed');
    assert.match(t08.error ?? '', /out of memory/);
    assert.deepEqual(
      sweep.trials.map((t) => t.state),
      ['stopped', 'stopped', 'stopped', 'stopped', 'finished', 'stopped', 'stopped', 'failed', 'stopped'],
    );
    assert.ok(calls.includes('registerChallenger') && !calls.includes('trainModel'));
  });

  it('a sweep whose every trial fails fails the run at stage sweep, naming each trial', async () => {
    trialCalls.length = 0;
    const base = testModelConfig();
    const result = await run(
      ModelConfig.parse({
        ...base,
        sweep: { metric: { name: 'accuracy', goal: 'maximize' }, space: { learningRate: { values: [0.1] } } },
      }),
    ).catch((err: Error) => err);
    assert.ok(result instanceof Error);
    assert.match(
      String((result.cause as Error | undefined)?.message),
      /stage sweep failed: no trial of the sweep trained to the end \(t01: trainer ran out of memory: CUDA OOM\)/,
    );
  });
});
