// The typed TypeScript client: start, watch and decide retraining runs from any Node program.
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { workflowIds } from '../core/keys';
import { parseOrThrow } from '../core/parse';
import type { Decision } from '../core/reports';
import { RunInput, type RunInputJson } from '../core/runInput';
import type { ApprovalResult, RunStatus } from '../core/runStatus';
import type { retrainingPipeline } from '../workflows';
import { approveUpdate, rejectUpdate, statusQuery } from '../workflows/definitions';

export interface StartOptions {
  taskQueue?: string;
  /** Defaults to retrain/<modelId>/<UTC timestamp>. */
  workflowId?: string;
}

/** Validates the input here (naming any bad field) and starts a retrainingPipeline run. */
export async function startRetraining(client: Client, input: RunInputJson, options: StartOptions = {}) {
  const parsed = parseOrThrow(RunInput, input, 'retrainingPipeline input');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return client.workflow.start<typeof retrainingPipeline>('retrainingPipeline', {
    taskQueue: options.taskQueue ?? 'ct',
    workflowId: options.workflowId ?? workflowIds.run(parsed.modelId, stamp),
    args: [input],
    staticSummary: `retrain ${parsed.modelId} on ${parsed.dataset.keys.join(', ')} (${parsed.trigger.kind} by ${parsed.trigger.requestedBy})`,
  });
}

export async function runStatus(client: Client, workflowId: string): Promise<RunStatus> {
  return client.workflow.getHandle(workflowId).query(statusQuery);
}

/** Sends Update approve/reject; a refusal (validator) surfaces as an Error carrying the workflow's reason. */
export async function decideRun(client: Client, workflowId: string, outcome: Decision['outcome'], by: string, comment = '', token?: string): Promise<ApprovalResult> {
  try {
    return await client.workflow.getHandle(workflowId).executeUpdate(outcome === 'approved' ? approveUpdate : rejectUpdate, { args: [{ by, comment, ...(token ? { token } : {}) }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw new Error(`${outcome === 'approved' ? 'approve' : 'reject'} refused: ${err.cause.message}`, { cause: err });
    throw err;
  }
}
export * from './supervisor';
export * from './rollback';
