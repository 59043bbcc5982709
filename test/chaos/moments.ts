// Hitting a moment precisely: a workflow's pending activity as the server holds it (no worker needed to answer),
// an object appearing in MinIO's data folder while MinIO writes it, a run's stage.
import { activityRuns } from '../helpers/historyActivities';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { waitFor } from '../helpers/processes';

/** The pending activity of `type` once its attempt has started on a worker (from DescribeWorkflowExecution). */
export async function activityStarted(
  client: Client,
  workflowId: string,
  type: string,
  timeoutMs = 180_000,
): Promise<{ attempt: number }> {
  return waitFor(
    `activity ${type} of ${workflowId} to start`,
    async () => {
      const desc = await client.workflow.getHandle(workflowId).describe();
      const a = desc.raw.pendingActivities?.find((p) => p.activityType?.name === type);
      // PENDING_ACTIVITY_STATE_STARTED = 2
      return a && Number(a.state) === 2 ? { attempt: a.attempt ?? 1 } : null;
    },
    timeoutMs,
  );
}

/** Resolves as soon as `key` exists in the bucket's folder of MinIO's data (polled every millisecond). */
export async function objectAppears(bucketDir: string, key: string, timeoutMs = 180_000): Promise<void> {
  const file = path.join(bucketDir, key);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${key} to appear in MinIO's data folder`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The attempts the server started for each activity of `type` in a closed run's history. */
export async function activityAttempts(client: Client, workflowId: string, type: string): Promise<number[]> {
  return activityRuns(await client.workflow.getHandle(workflowId).fetchHistory())
    .filter((run) => run.type === type && !run.local)
    .map((run) => run.attempt);
}
