// What the supervisor and its triggers need from the outside world: the newest data windows, the fate of a
// run in flight, and update-with-start on a supervisor (workflows cannot send Updates themselves).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DriftAlertJson, RetrainRequestJson, SupervisorAck } from '../core/supervisorMessages';
import { reasonOf } from '../core/parse';
import type { RunStatus } from '../core/runStatus';
import { type ActivityDeps, activityLogger } from './context';
import { newestWindows } from './dataWindows';
import { classify } from './failures';

export interface RunResult {
  outcome: string;
  version: number | null;
  promoted: boolean;
  error: string | null;
}

export function createSupervisorActivities(deps: ActivityDeps) {
  const client = () => {
    if (!deps.client)
      throw ApplicationFailure.nonRetryable(
        'this worker has no Temporal client for supervisor activities',
        'WorkerMisconfigured',
      );
    return deps.client;
  };

  const messenger = () => {
    if (!deps.supervisor)
      throw ApplicationFailure.nonRetryable(
        'this worker has no supervisor messenger (deps.supervisor)',
        'WorkerMisconfigured',
      );
    return deps.supervisor;
  };

  /** The newest `count` data files under `prefix` (key order is time order), oldest first. */
  async function resolveDataWindow(input: { prefix: string; count: number }): Promise<string[]> {
    return newestWindows(deps.store, input.prefix, input.count);
  }

  /** Waits (heartbeating) until the run has closed, however it closed: completed, failed, cancelled, terminated. */
  async function awaitRetrainingRun(input: { workflowId: string; pollSeconds: number }): Promise<RunResult> {
    const ctx = Context.current();
    const handle = client().workflow.getHandle(input.workflowId);
    for (;;) {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') {
        try {
          const status = (await handle.result()) as RunStatus;
          return {
            outcome: status.outcome,
            version: status.registered?.version ?? null,
            promoted: status.registered?.promoted ?? false,
            error: status.error,
          };
        } catch (err) {
          return {
            outcome: description.status.name.toLowerCase(),
            version: null,
            promoted: false,
            error: reasonOf(err),
          };
        }
      }
      ctx.heartbeat();
      await ctx.sleep(input.pollSeconds * 1000);
    }
  }

  async function reportToSupervisor(alert: DriftAlertJson): Promise<SupervisorAck> {
    const ack = await messenger().reportDrift(alert, { taskQueue: Context.current().info.taskQueue }).catch(classify);
    activityLogger(deps.logger).info(
      { alertId: alert.alertId, action: ack.action, incident: ack.incidentId },
      'drift reported to supervisor',
    );
    return ack;
  }

  async function requestRetrainFromSupervisor(input: {
    modelId: string;
    request: RetrainRequestJson;
  }): Promise<SupervisorAck> {
    return messenger()
      .requestRetrain(input.modelId, input.request, { taskQueue: Context.current().info.taskQueue })
      .catch(classify);
  }

  return { resolveDataWindow, awaitRetrainingRun, reportToSupervisor, requestRetrainFromSupervisor };
}
