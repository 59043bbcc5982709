// kill -9 of a worker process at a moment of the run: a replacement worker is started and the run must complete.
import { runStatus, decideRun } from '../../client';
import { AttemptRecord } from '../../core/attempts';
import { keys } from '../../core/keys';
import { trainerProcesses, trainingHeartbeat, waitFor } from '../helpers/processes';
import type { Cell, CellContext, CellRun } from './cell';
import { MODEL_ID } from './cellStack';
import { activityAttempts, activityStarted, objectAppears } from './moments';
import { chaosModel } from './models';

const FINISHED = ['promoted', 'rejected-by-gate'] as const;

/** Kills the control worker (-9) once `atMoment` resolved, starts another one, and lets the run finish. */
async function killControlWorker(
  ctx: CellContext,
  options: { manual: boolean; atMoment: (workflowId: string) => Promise<string>; activity?: string },
): Promise<CellRun> {
  const { stack } = ctx;
  await stack.startWorkerProcess('gpu', 'gpu');
  const first = await stack.startWorkerProcess('control', 'control-a');
  await stack.registerModel(chaosModel({ approval: { mode: options.manual ? 'manual' : 'auto' } }));
  const workflowId = await stack.requestRun('control-kill');
  ctx.note(await options.atMoment(workflowId));
  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  await stack.startWorkerProcess('control', 'control-b');
  ctx.note(`replacement worker polling ${((Date.now() - killedAt) / 1000).toFixed(0)} s after the kill`);
  if (options.manual) await decideRun(stack.client(), workflowId, 'approved', 'chaos-approver', 'after the kill');
  const result = await stack.runResult(workflowId);
  const failures: string[] = [];
  if (options.activity) {
    const attempts = await activityAttempts(stack.client(), workflowId, options.activity);
    ctx.note(`${options.activity} attempts ${attempts.join(',')}`);
    if (!attempts.some((a) => a > 1))
      failures.push(
        `${options.activity} was not retried: the kill missed the activity (attempts ${attempts.join(',')})`,
      );
  }
  return { result, expected: { outcomes: options.manual ? ['promoted'] : [...FINISHED] }, failures };
}

const whileRunning = (ctx: CellContext, activity: string) => async (workflowId: string) => {
  const { attempt } = await activityStarted(ctx.stack.client(), workflowId, activity);
  return `killed while ${activity} attempt ${attempt} was started on it (pending activity, DescribeWorkflowExecution)`;
};

const controlKill = (moment: string, activity: string, manual = false): Cell => ({
  name: `control-kill/${moment}`,
  fault: 'kill -9 control worker',
  moment,
  rows: 300_000,
  run: (ctx) => killControlWorker(ctx, { manual, atMoment: whileRunning(ctx, activity), activity }),
});

export const workerKillCells: Cell[] = [
  controlKill('validate', 'validateDataset'),
  controlKill('evaluate', 'evaluateModels'),
  {
    name: 'control-kill/approval-wait',
    fault: 'kill -9 control worker',
    moment: 'approval wait',
    run: (ctx) =>
      killControlWorker(ctx, {
        manual: true,
        atMoment: async (workflowId) => {
          await waitFor(
            'the approval stage',
            async () => (await runStatus(ctx.stack.client(), workflowId)).stage === 'approval',
          );
          return 'killed once the status query answered stage=approval; approved on the replacement';
        },
      }),
  },
  {
    name: 'control-kill/promotion',
    fault: 'kill -9 control worker',
    moment: 'promotion',
    run: (ctx) =>
      killControlWorker(ctx, {
        manual: false,
        activity: 'promoteChampion',
        atMoment: async () => {
          await objectAppears(ctx.stack.bucketDir, keys.alias(MODEL_ID, 'champion'));
          return 'killed as promoteChampion moved the champion alias (its object appeared in MinIO), before it cleared the challenger alias';
        },
      }),
  },
  {
    name: 'gpu-kill/training',
    fault: 'kill -9 GPU worker',
    moment: 'training',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers({ gpu: false });
      const first = await stack.startWorkerProcess('gpu', 'gpu-a');
      await stack.registerModel(chaosModel({ slow: true }));
      const workflowId = await stack.requestRun('gpu-kill');
      const handle = stack.client().workflow.getHandle(workflowId);
      const { runId } = await handle.describe();
      const beat = await waitFor('step 12 with a stored checkpoint', async () => {
        const b = await trainingHeartbeat(handle);
        return b && b.step >= 12 && b.checkpointKey ? b : null;
      });
      first.child.kill('SIGKILL');
      ctx.note(
        `killed at heartbeat step ${beat.step}/${beat.totalSteps} (checkpoint ${beat.checkpointKey?.split('/').pop()})`,
      );
      await waitFor('the orphaned trainer to exit', async () => trainerProcesses(runId).length === 0, 30_000);
      await stack.startWorkerProcess('gpu', 'gpu-b');
      const result = await stack.runResult(workflowId);
      const list = (await stack.store.list(keys.attempts(MODEL_ID, runId))).sort();
      const records = await Promise.all(list.map(async (k) => AttemptRecord.parse(await stack.store.getJson(k))));
      ctx.note(`attempts ${records.map((r) => `${r.outcome}@${r.resumedFromStep}`).join(' → ')}`);
      const failures: string[] = [];
      if (records.map((r) => r.outcome).join() !== 'lost,succeeded')
        failures.push(`attempts ${records.map((r) => r.outcome).join(', ')}, expected lost, succeeded`);
      else if (records[1]!.resumedFromStep === 0) failures.push('the second attempt restarted instead of resuming');
      return { result, expected: { outcomes: [...FINISHED] }, failures };
    },
  },
];
