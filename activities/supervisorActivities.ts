// What the supervisor and its triggers need from the outside world: the newest data windows, whether a run in
// flight has ended, and update-with-start on a supervisor (workflows cannot send Updates themselves).
import { Context } from '@temporalio/activity';
import { type WorkflowExecutionStatusName, type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type RunResult, runResultOf } from '../core/continuousTraining';
import type { DriftAlertJson, RetrainRequestJson, SupervisorAck } from '../core/supervisorMessages';
import { reasonOf } from '../core/parse';
import type { RunStatus } from '../core/runStatus';
import { type ActivityDeps, activityLogger } from './context';
import { newestWindows } from './dataWindows';
import { classify } from './failures';

/** How a run that closed without returning its status ended, by its execution status. */
const CLOSED_WITHOUT_STATUS: Partial<Record<WorkflowExecutionStatusName, string>> = {
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
};

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

  /** A closed run's result: its status when it returned one, else how it closed and why. */
  async function closedRunResult(handle: WorkflowHandle, status: WorkflowExecutionStatusName): Promise<RunResult> {
    try {
      return runResultOf((await handle.result()) as RunStatus);
    } catch (err) {
      const outcome = CLOSED_WITHOUT_STATUS[status] ?? status.toLowerCase();
      return { outcome, version: null, promoted: false, error: reasonOf(err) };
    }
  }

  /**
   * Whether the run has ended, and how: null while it runs. After an end notice (`settleSeconds` > 0) it waits that
   * long for the close, as the run signals a moment before it closes. A run the server no longer knows (past the
   * namespace's retention) ended unknown: no later check can learn more.
   */
  async function runOutcome(input: { workflowId: string; settleSeconds: number }): Promise<RunResult | null> {
    const handle = client().workflow.getHandle(input.workflowId);
    const until = Date.now() + input.settleSeconds * 1000;
    for (;;) {
      const description = await handle.describe().catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      });
      if (!description)
        return { outcome: 'unknown', version: null, promoted: false, error: `${input.workflowId} no longer exists` };
      if (description.status.name !== 'RUNNING') return closedRunResult(handle, description.status.name);
      if (Date.now() >= until) return null;
      await Context.current().sleep(500);
    }
  }

  /**
   * Waits (heartbeating) until the run has closed, however it closed. Kept for the supervisors that started watching
   * a run before patch run-completion-notice (and their recorded histories); newer ones use {@link runOutcome}.
   */
  async function awaitRetrainingRun(input: { workflowId: string; pollSeconds: number }): Promise<RunResult> {
    const ctx = Context.current();
    const handle = client().workflow.getHandle(input.workflowId);
    for (;;) {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return closedRunResult(handle, description.status.name);
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

  return { resolveDataWindow, runOutcome, awaitRetrainingRun, reportToSupervisor, requestRetrainFromSupervisor };
}
