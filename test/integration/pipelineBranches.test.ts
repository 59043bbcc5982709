// retrainingPipeline's branches on the time-skipping test server with fake activities (real results recorded from a
// real run): the gate's rejection registers nothing, and a day of silence rejects the challenger by timeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ModelConfig } from '../../core/modelConfig';
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
        activities: gpu,
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
});
