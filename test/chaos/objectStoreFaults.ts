// MinIO killed (-9) and started again on the same port and data at a moment of the run: a checkpoint upload,
// registration, an audit append; and the object store unreachable for 60 s during a drift check.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decideRun, runStatus } from '../../client';
import type { DriftCheckResult } from '../../activities/driftActivities';
import { keys, workflowIds } from '../../core/keys';
import type { driftCheck } from '../../workflows';
import { createAuditLog } from '../../workers/config';
import { causeChain } from '../helpers/failures';
import { waitFor } from '../helpers/processes';
import type { Cell, CellContext } from './cell';
import { MODEL_ID } from './cellStack';
import { activityAttempts, objectAppears } from './moments';
import { chaosModel } from './models';

const FINISHED = ['promoted', 'rejected-by-gate'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Kills MinIO, keeps it down `downMs` (while `during` runs, if given), starts it again; notes the downtime. */
async function restartObjectStore(ctx: CellContext, downMs: number, during?: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  const start = await ctx.stack.killObjectStore();
  await during?.();
  await sleep(downMs - (Date.now() - t0));
  await start();
  ctx.note(`MinIO down ${((Date.now() - t0) / 1000).toFixed(0)} s (kill -9, same data and port)`);
}

/** Notes an activity's attempts and fails the cell when it never saw the outage (the kill missed it). */
async function retriedThrough(ctx: CellContext, workflowId: string, activity: string): Promise<string[]> {
  const attempts = await activityAttempts(ctx.stack.client(), workflowId, activity);
  ctx.note(`${activity} attempts ${attempts.join(',')}`);
  return attempts.some((a) => a > 1)
    ? []
    : [`${activity} never failed: the outage missed it (attempts ${attempts.join(',')})`];
}

/** The local checkpoint files of the run's first training attempt (the trainer writes them before the upload). */
function localCheckpoints(workDir: string, runId: string): string[] {
  try {
    return readdirSync(path.join(workDir, runId, 'attempt-1', 'checkpoints')).filter((f) => f.endsWith('.pt'));
  } catch {
    return [];
  }
}

export const objectStoreCells: Cell[] = [
  {
    name: 'minio-restart/checkpoint-upload',
    fault: 'restart MinIO',
    moment: 'checkpoint upload',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers();
      await stack.registerModel(chaosModel({ slow: true }));
      const workflowId = await stack.requestRun('minio-checkpoint');
      const { runId } = await stack.client().workflow.getHandle(workflowId).describe();
      // Polled every millisecond: the file lives only until its upload (tens of ms) is done.
      let file: string | undefined;
      for (const deadline = Date.now() + 180_000; !file; await sleep(1)) {
        if (Date.now() > deadline) throw new Error('timed out waiting for a local checkpoint past step 10');
        file = localCheckpoints(stack.config.workDir, runId).find((f) => Number(/(\d+)/.exec(f)?.[1]) >= 10);
      }
      ctx.note(`killed as the trainer finished writing ${file} (before its upload)`);
      await restartObjectStore(ctx, 8_000);
      const result = await stack.runResult(workflowId);
      const kept = ctx.logged(/object store unreachable/).length;
      ctx.note(`${kept} upload outage log line(s)`);
      const failures = kept > 0 ? [] : ['no checkpoint upload met the outage (no "object store unreachable" log line)'];
      return { result, expected: { outcomes: [...FINISHED] }, failures };
    },
  },
  {
    name: 'minio-restart/registration',
    fault: 'restart MinIO',
    moment: 'registration',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers();
      await stack.registerModel(chaosModel());
      const workflowId = await stack.requestRun('minio-registration');
      await objectAppears(stack.bucketDir, keys.versionCard(MODEL_ID, 1));
      ctx.note('killed as the version card appeared in MinIO (before the artifact copy and the run marker)');
      await restartObjectStore(ctx, 5_000);
      const result = await stack.runResult(workflowId);
      return {
        result,
        expected: { outcomes: ['promoted'] },
        failures: await retriedThrough(ctx, workflowId, 'registerChallenger'),
      };
    },
  },
  {
    name: 'minio-restart/audit-append',
    fault: 'restart MinIO',
    moment: 'audit append',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers();
      await stack.registerModel(chaosModel({ approval: { mode: 'manual' } }));
      const workflowId = await stack.requestRun('minio-audit');
      await waitFor(
        'the approval stage',
        async () => (await runStatus(stack.client(), workflowId)).stage === 'approval',
      );
      let decided: Promise<unknown> = Promise.resolve();
      await restartObjectStore(ctx, 8_000, async () => {
        // The approval's audit record is appended by the Update handler: it starts against the dead store.
        decided = decideRun(stack.client(), workflowId, 'approved', 'chaos-approver', 'during the outage');
        await sleep(500);
      });
      ctx.note('MinIO killed, then the approval sent: its audit append ran into the outage');
      await decided;
      const result = await stack.runResult(workflowId);
      const failures = await retriedThrough(ctx, workflowId, 'recordAudit');
      const approvals = (await createAuditLog(stack.config).records(MODEL_ID)).filter((r) => r.kind === 'approval');
      if (approvals.length !== 1) failures.push(`${approvals.length} approval records in the audit chain, expected 1`);
      return { result, expected: { outcomes: ['promoted'] }, failures };
    },
  },
  {
    name: 'minio-outage/drift-check',
    fault: 'object store unreachable 60 s',
    moment: 'drift check',
    async run(ctx) {
      const { stack } = ctx;
      await stack.startWorkers();
      await stack.registerModel(chaosModel());
      const workflowId = await stack.requestRun('champion-for-drift');
      const result = await stack.runResult(workflowId);
      const failures: string[] = [];
      const checkId = workflowIds.driftCheck(MODEL_ID, 'chaos');
      let check: Promise<DriftCheckResult & { ack: { action: string } | null }> | undefined;
      await restartObjectStore(ctx, 60_000, async () => {
        check = stack.client().workflow.execute<typeof driftCheck>('driftCheck', {
          workflowId: checkId,
          taskQueue: stack.config.taskQueue,
          args: [{ modelId: MODEL_ID }],
        });
        check.catch(() => undefined);
      });
      ctx.note('killed before the drift check started; back after 60 s');
      const checked = await check!.catch((err: Error) => err);
      if (checked instanceof Error) failures.push(`the drift check failed: ${causeChain(checked)}`);
      else {
        ctx.note(`drift check ${checked.status}: ${checked.reason}; supervisor ${checked.ack?.action ?? 'not told'}`);
        if (checked.status !== 'checked') failures.push(`the drift check ended ${checked.status}, expected checked`);
        failures.push(...(await retriedThrough(ctx, checkId, 'loadModelConfig')));
      }
      return { result, expected: { outcomes: ['promoted'] }, failures };
    },
  },
];
