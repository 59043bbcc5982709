// The typed TypeScript client: start, watch and decide retraining runs from any Node program.
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { workflowIds } from '../core/keys';
import { parseOrThrow } from '../core/parse';
import type { Decision } from '../core/reports';
import { runDetails } from '../core/runMetadata';
import { RunInput, type RunInputJson } from '../core/runInput';
import type { ApprovalResult, RunStatus } from '../core/runStatus';
import type { retrainingPipeline } from '../workflows';
import { approveUpdate, rejectUpdate, statusQuery } from '../workflows/definitions';

/** Where and under which id {@link startRetraining} starts a run. */
export interface StartOptions {
  /** The control task queue of the workers (default `ct`). */
  taskQueue?: string;
  /** Defaults to retrain/<modelId>/<UTC timestamp>. */
  workflowId?: string;
}

/**
 * Validates the input here (an `InvalidInputError` names every bad field) and starts a `retrainingPipeline` run.
 * Returns the workflow handle: `handle.result()` resolves to the run's {@link RunStatus}.
 */
export async function startRetraining(client: Client, input: RunInputJson, options: StartOptions = {}) {
  const parsed = parseOrThrow(RunInput, input, 'retrainingPipeline input');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const workflowId = options.workflowId ?? workflowIds.run(parsed.modelId, stamp);
  return client.workflow.start<typeof retrainingPipeline>('retrainingPipeline', {
    taskQueue: options.taskQueue ?? 'ct',
    workflowId,
    args: [input],
    staticDetails: runDetails(parsed, workflowId),
    staticSummary: `retrain ${parsed.modelId} on ${parsed.dataset.keys.join(', ')} (${parsed.trigger.kind} by ${parsed.trigger.requestedBy})`,
  });
}

/** A run's stage, progress, metrics, verdict and decision (the `status` query; it also answers for closed runs). */
export async function runStatus(client: Client, workflowId: string): Promise<RunStatus> {
  return client.workflow.getHandle(workflowId).query(statusQuery);
}

/**
 * Approves or rejects a run awaiting approval (Update `approve` / `reject`), as `by`, with the signed `token` where
 * the model requires one. A refusal surfaces as an Error carrying the workflow's reason; it is final (non-retryable).
 */
export async function decideRun(
  client: Client,
  workflowId: string,
  outcome: Decision['outcome'],
  by: string,
  comment = '',
  token?: string,
  idToken?: string,
): Promise<ApprovalResult> {
  try {
    return await client.workflow
      .getHandle(workflowId)
      .executeUpdate(outcome === 'approved' ? approveUpdate : rejectUpdate, {
        args: [{ by, comment, ...(token ? { token } : {}), ...(idToken ? { idToken } : {}) }],
      });
  } catch (err) {
    const verb = outcome === 'approved' ? 'approve' : 'reject';
    if (err instanceof WorkflowUpdateFailedError && err.cause)
      throw new Error(`${verb} refused: ${err.cause.message}`, { cause: err });
    // A run that finished while the decision was on its way (or before it) no longer takes updates: say so.
    if (err instanceof WorkflowNotFoundError) {
      const closed = await client.workflow
        .getHandle(workflowId)
        .describe()
        .then((d) => (d.status.name === 'RUNNING' ? null : d.status.name))
        .catch(() => null);
      if (closed)
        throw new Error(`${verb} refused: run ${workflowId} is not awaiting approval: it has finished (${closed})`, {
          cause: err,
        });
    }
    throw err;
  }
}
export * from './supervisor';
export * from './rollback';
export * from './releases';
