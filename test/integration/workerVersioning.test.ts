// Releases under Temporal Worker Versioning, on the real dev server with real workers, MinIO and the trainer: a
// pipeline started on build A and waiting for approval finishes on A after build B is made current, while a new
// run goes to B, and the supervisor (auto-upgrade) moves to B at its next task.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { temporal } from '@temporalio/proto';
import {
  decideRun,
  makeBuildCurrent,
  pauseSupervisor,
  resumeSupervisor,
  runStatus,
  startRetraining,
} from '../../client';
import type { AppConfig } from '../../core/appConfig';
import { workflowIds } from '../../core/keys';
import { registerModelConfig } from '../../cli/models';
import { activityRuns } from '../helpers/historyActivities';
import { flightsParquet, readFlightsSlice, testModelConfig } from '../helpers/flights';
import { recordHistory, startTestStack, type TestStack } from '../helpers/stack';

type History = temporal.api.history.v1.IHistory;

/** The build of every workflow task a run completed, in order (each task is stamped with its worker's version). */
const workflowTaskBuilds = (history: History): string[] =>
  (history.events ?? []).flatMap((e) => {
    const done = e.workflowTaskCompletedEventAttributes;
    return done ? [done.deploymentVersion?.buildId ?? done.workerVersion?.buildId ?? 'unversioned'] : [];
  });

/** The build named in the identity of the worker that ran each activity (workers put their build in it). */
const activityBuilds = (history: History, type: string): string[] => {
  const scheduled = new Map<string, string>();
  const builds: string[] = [];
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started && scheduled.get(String(started.scheduledEventId)) === type)
      builds.push(/\.(\S+)$/.exec(started.identity ?? '')?.[1] ?? 'unknown');
  }
  return builds;
};

describe('Worker Versioning: pipelines pinned to their build, the supervisor upgrading', () => {
  let stack: TestStack;
  let tenant: ReturnType<TestStack['tenant']>;
  let deploymentName: string;
  const build = (buildId: string): AppConfig => ({
    ...tenant.config,
    deployment: { name: deploymentName, buildId },
  });

  before(async () => {
    stack = await startTestStack();
    tenant = stack.tenant();
    deploymentName = `ct-${tenant.config.taskQueue}`;
    await tenant.store.ensureBucket();
    await tenant.store.put('data/jan.parquet', flightsParquet(await readFlightsSlice(0, 20_000)));
  });
  after(async () => stack?.stop());

  it('a run waiting for approval on build A finishes on A; a new run and the supervisor go to build B', async () => {
    const manual = { ...testModelConfig({ approval: 'manual' }), modelId: 'versioned' };
    const start = (reason: string) =>
      startRetraining(
        stack.client,
        {
          modelId: manual.modelId,
          dataset: { keys: ['data/jan.parquet'] },
          trigger: { kind: 'manual', requestedBy: 'alice', reason },
          modelConfig: manual,
        },
        { taskQueue: tenant.config.taskQueue },
      );
    const untilApproval = async (workflowId: string) => {
      for (let i = 0; i < 600 && (await runStatus(stack.client, workflowId)).stage !== 'approval'; i++)
        await new Promise((r) => setTimeout(r, 200));
      assert.equal((await runStatus(stack.client, workflowId)).stage, 'approval');
    };

    await stack.startWorkers(build('A'));
    await makeBuildCurrent(stack.client, { deploymentName, buildId: 'A' });
    const onA = await start('started on A');
    await untilApproval(onA.workflowId);
    const pinned = (await onA.describe()).raw.workflowExecutionInfo?.versioningInfo;
    assert.equal(pinned?.behavior, 1, 'retrainingPipeline is pinned (VERSIONING_BEHAVIOR_PINNED)');
    assert.equal(pinned?.deploymentVersion?.buildId, 'A');
    // A supervisor starts on A too; a signal is a workflow task, so each one shows the build that ran it.
    const supervisorId = workflowIds.supervisor('supervised');
    const file = path.join(stack.dir, 'supervised.json');
    writeFileSync(file, JSON.stringify({ ...testModelConfig(), modelId: 'supervised' }));
    await registerModelConfig(tenant.store, file);
    await stack.client.workflow.start('continuousTraining', {
      taskQueue: tenant.config.taskQueue,
      workflowId: supervisorId,
      args: [{ modelId: 'supervised' }],
    });
    await pauseSupervisor(stack.client, 'supervised', 'ops', 'before the release');

    await stack.startWorkers(build('B'));
    await makeBuildCurrent(stack.client, { deploymentName, buildId: 'B' });
    const onB = await start('started after B became current');
    await untilApproval(onB.workflowId);
    await resumeSupervisor(stack.client, 'supervised', 'ops', 'after the release');

    await decideRun(stack.client, onA.workflowId, 'approved', 'bob', 'approved after the release');
    await decideRun(stack.client, onB.workflowId, 'rejected', 'bob', 'one is enough');
    assert.equal((await onA.result()).outcome, 'promoted');
    assert.equal((await onB.result()).outcome, 'rejected');

    const historyA = await onA.fetchHistory();
    await recordHistory(stack.client, 'pipeline-pinned-across-release', onA.workflowId);
    assert.deepEqual([...new Set(workflowTaskBuilds(historyA))], ['A'], 'every workflow task of the A run ran on A');
    assert.ok(
      activityRuns(historyA).some((run) => run.type === 'promoteChampion' && run.local),
      'its promotion ran as a local activity, so inside one of those workflow tasks on A',
    );
    assert.deepEqual(activityBuilds(historyA, 'trainModel'), ['A'], 'its training ran on build A GPU workers');
    assert.deepEqual([...new Set(workflowTaskBuilds(await onB.fetchHistory()))], ['B'], 'the new run ran on B');

    const supervisorBuilds = workflowTaskBuilds(await stack.client.workflow.getHandle(supervisorId).fetchHistory());
    assert.equal(supervisorBuilds[0], 'A', `supervisor tasks: ${supervisorBuilds.join(' ')}`);
    assert.equal(supervisorBuilds.at(-1), 'B', `the supervisor upgraded: ${supervisorBuilds.join(' ')}`);
  });
});
