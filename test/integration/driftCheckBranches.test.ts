// driftCheck's fan-out branches on the time-skipping test server with fake activities: a part whose file changed
// while it was read makes the check plan again (new ETags), a file that keeps changing fails the check naming it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { DriftCheckPlan, DriftCheckResult } from '../../activities/driftActivities';
import { FailureType } from '../../activities/failures';
import type { driftCheck } from '../../workflows';
import { testDataConverter } from '../helpers/codec';
import { causeChain } from '../helpers/failures';
import { testModelConfig } from '../helpers/flights';
import { timeSkippingEnvironment, workflowBundle } from '../helpers/stack';

const QUEUE = 'drift-branches';
const part = (etag: string, first: number) => ({
  key: 'w/a.parquet',
  etag,
  size: 100,
  format: 'parquet' as const,
  rowGroups: [first, first + 1] as [number, number],
});

describe('driftCheck fan-out branches (time-skipping server, fake activities)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const calls: string[] = [];
  /** How many plans see the file still changing (each plan's first part then fails as changed). */
  let changingPlans = 0;
  let plans = 0;

  const activities = {
    loadModelConfig: async () => testModelConfig(),
    planDriftCheck: async (): Promise<{ plan: DriftCheckPlan }> => {
      calls.push('planDriftCheck');
      const etag = `"v${++plans}"`;
      return { plan: { championVersion: 1, window: ['w/a.parquet'], parts: [part(etag, 0), part(etag, 1)] } };
    },
    profileWindowPart: async (input: { index: number; part: { etag: string } }) => {
      calls.push(`profileWindowPart ${input.index} ${input.part.etag}`);
      if (input.index === 0 && plans <= changingPlans)
        throw ApplicationFailure.nonRetryable(
          `s3://b/w/a.parquet changed while being read (it was at ETag ${input.part.etag} when the read began): the window is read again from its new version`,
          FailureType.windowChanged,
        );
      return { key: `partial-${input.index}`, rows: 10 };
    },
    finishDriftCheck: async (input: { partialKeys: string[]; plan: DriftCheckPlan }): Promise<DriftCheckResult> => {
      calls.push(`finishDriftCheck ${input.partialKeys.join(',')} ${input.plan.parts[0]!.etag}`);
      return {
        status: 'checked',
        reason: 'no dataset drift',
        championVersion: 1,
        reportKey: 'r',
        window: input.plan.window,
        alert: null,
        report: { datasetDrift: false, driftedShare: 0, driftedFeatures: [] },
      };
    },
  };

  before(async () => {
    env = await timeSkippingEnvironment();
    worker = await Worker.create({
      connection: env.nativeConnection,
      dataConverter: testDataConverter(),
      taskQueue: QUEUE,
      workflowBundle: { code: (await workflowBundle()).code },
      activities,
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  const check = (id: string) =>
    env.client.workflow.execute<typeof driftCheck>('driftCheck', {
      workflowId: id,
      taskQueue: QUEUE,
      args: [{ modelId: 'flight-delay', windowKeys: ['w/a.parquet'] }],
    });

  it('a part whose file changed mid-read: the check plans again and merges parts of the new version only', async () => {
    calls.length = 0;
    plans = 0;
    changingPlans = 1;
    const result = await check('replan-once');
    assert.equal(result.status, 'checked');
    assert.deepEqual(calls.filter((c) => c.startsWith('planDriftCheck')).length, 2);
    assert.ok(calls.includes('finishDriftCheck partial-0,partial-1 "v2"'), calls.join(' | '));
    assert.ok(!calls.some((c) => c.startsWith('finishDriftCheck') && c.endsWith('"v1"')), 'nothing of v1 merged');
  });

  it('a file that keeps changing fails the check after 3 plans, naming the file', async () => {
    calls.length = 0;
    plans = 0;
    changingPlans = 99;
    const err = await check('replan-forever').then(
      () => assert.fail('the check should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(causeChain(err), /s3:\/\/b\/w\/a\.parquet changed while being read/);
    assert.equal(calls.filter((c) => c === 'planDriftCheck').length, 3, 'the first plan and 2 re-plans');
    assert.ok(!calls.some((c) => c.startsWith('finishDriftCheck')));
  });
});
