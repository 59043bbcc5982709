// Talking to a model's supervisor (continuousTraining, workflow id ct/<modelId>). Reports and requests use
// update-with-start, so a caller never needs to know whether the supervisor is running.
import { randomUUID } from 'node:crypto';
import { type Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { SupervisorStatus } from '../core/continuousTraining';
import {
  DriftAlert,
  type DriftAlertJson,
  type PauseRequestJson,
  RetrainRequest,
  type RetrainRequestJson,
  type SupervisorAck,
  SupervisorRefusal,
} from '../core/supervisorMessages';
import { workflowIds } from '../core/keys';
import { type PushbackRetry, retryPushback } from './pushback';
import { ModelId } from '../core/modelConfig';
import { parseOrThrow } from '../core/parse';
import type { continuousTraining } from '../workflows';
import {
  pauseUpdate,
  reportDriftUpdate,
  requestRetrainUpdate,
  resumeUpdate,
  supervisorStatusQuery,
} from '../workflows/definitions';

/** Where a supervisor is started when a message finds none running. */
export interface SupervisorOptions {
  /** The control task queue of the workers (default `ct`). */
  taskQueue?: string;
  /** Hears of each retry after the server pushed back (rate limits, in-flight Update cap): log it. */
  onPushback?: (retry: PushbackRetry) => void;
}

function startOperation(modelId: string, options: SupervisorOptions) {
  return new WithStartWorkflowOperation<typeof continuousTraining>('continuousTraining', {
    workflowId: workflowIds.supervisor(modelId),
    taskQueue: options.taskQueue ?? 'ct',
    args: [{ modelId }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `supervisor of ${modelId}: drift reports and retrain requests become one run per incident`,
  });
}

/** The supervisor refused a report or request; retrying the same input cannot help. */
export { SupervisorRefusal };

/** Sends (retrying the server's pushback, client/pushback.ts); a refusal by the supervisor becomes a
 * SupervisorRefusal naming the reason. */
async function sendToSupervisor<T>(what: string, options: SupervisorOptions, fn: () => Promise<T>): Promise<T> {
  try {
    return await retryPushback(what, fn, options.onPushback);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause)
      throw new SupervisorRefusal(`${what} refused: ${err.cause.message}`, { cause: err });
    throw err;
  }
}

/** Sends a drift alert to the model's supervisor, starting the supervisor if it is not running. */
export async function reportDrift(
  client: Client,
  alert: DriftAlertJson,
  options: SupervisorOptions = {},
): Promise<SupervisorAck> {
  const parsed = parseOrThrow(DriftAlert, alert, 'drift alert');
  // One Update id for all attempts: a retry of a delivered report returns its first answer. A WithStartWorkflowOperation
  // is single-use, so each attempt gets its own.
  const updateId = randomUUID();
  return sendToSupervisor(`drift alert ${parsed.alertId}`, options, () =>
    client.workflow.executeUpdateWithStart(reportDriftUpdate, {
      args: [parsed],
      updateId,
      startWorkflowOperation: startOperation(parsed.modelId, options),
    }),
  );
}

/** Asks the model's supervisor for a retrain (manual or scheduled), starting the supervisor if needed. */
export async function requestRetrain(
  client: Client,
  modelId: string,
  request: RetrainRequestJson,
  options: SupervisorOptions = {},
): Promise<SupervisorAck> {
  // The model id names the supervisor's workflow id: a bad one must not start a supervisor that then fails.
  parseOrThrow(ModelId, modelId, 'model id');
  const parsed = parseOrThrow(RetrainRequest, request, 'retrain request');
  const updateId = randomUUID();
  return sendToSupervisor(`retrain request for ${modelId}`, options, () =>
    client.workflow.executeUpdateWithStart(requestRetrainUpdate, {
      args: [parsed],
      updateId,
      startWorkflowOperation: startOperation(modelId, options),
    }),
  );
}

/** The supervisor's state: phase, champion, open incident with its evidence, cooldown, last runs. */
export async function supervisorStatus(client: Client, modelId: string): Promise<SupervisorStatus> {
  return client.workflow.getHandle(workflowIds.supervisor(modelId)).query(supervisorStatusQuery);
}

/** Pauses the supervisor: drift is still recorded but starts no run (Update `pauseSupervisor`); resolves once it
 * took effect, or fails with why it was refused (who acts, where identities are verified). */
export async function pauseSupervisor(
  client: Client,
  modelId: string,
  by: string,
  reason = '',
  idToken?: string,
): Promise<{ paused: boolean; by: string }> {
  return setPaused(client, modelId, pauseUpdate, { by, reason, ...(idToken ? { idToken } : {}) });
}

/** Resumes a paused supervisor (Update `resumeSupervisor`); the same identity rules as pausing. */
export async function resumeSupervisor(
  client: Client,
  modelId: string,
  by: string,
  reason = '',
  idToken?: string,
): Promise<{ paused: boolean; by: string }> {
  return setPaused(client, modelId, resumeUpdate, { by, reason, ...(idToken ? { idToken } : {}) });
}

async function setPaused(
  client: Client,
  modelId: string,
  update: typeof pauseUpdate,
  request: PauseRequestJson,
): Promise<{ paused: boolean; by: string }> {
  const what = `${update === pauseUpdate ? 'pause' : 'resume'} of ${modelId}'s supervisor`;
  return sendToSupervisor(what, {}, () =>
    client.workflow.getHandle(workflowIds.supervisor(modelId)).executeUpdate(update, { args: [request] }),
  );
}
