// How the supervisor learns that its run in flight ended, holding no activity slot while it waits:
// - a run this generation started is awaited as its child (terminated, timed out and cancelled runs included);
// - a run inherited from an earlier generation (before continue-as-new) cannot be awaited: the run signals
//   `runFinished` when it ends by its own code, and one short activity confirms it (a Signal is only a nudge:
//   anyone may send one). It is checked once when inherited, and then every `checkSeconds` on a durable timer, for
//   the runs that cannot signal (terminated or timed out, or started by a build that did not signal yet).
// Supervisors that watched a run before this (patch run-completion-notice) keep the polling activity they started.
import {
  ChildWorkflowFailure,
  type ChildWorkflowHandle,
  CancelledFailure,
  condition,
  log,
  patched,
  proxyActivities,
  setHandler,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { type RunResult, runResultOf } from '../core/continuousTraining';
import { reasonOf } from '../core/parse';
import { RunFinishedNotice } from '../core/supervisorMessages';
import { runFinishedSignal } from './definitions';
import type { retrainingPipeline } from './retrainingPipeline';
import { controlHeartbeatTimeout, controlRetry } from './retryPolicies';

/** Confirming that a run ended: a describe (and its result once closed), never a long poll. */
const confirm = proxyActivities<ControlActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: controlRetry,
});
/** The polling watcher of earlier builds: it may wait weeks for approval, heartbeating every few polls. */
const legacyWatcher = (pollSeconds: number) =>
  proxyActivities<ControlActivities>({
    startToCloseTimeout: '30 days',
    heartbeatTimeout: `${Math.max(30, pollSeconds * 3)} seconds`,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

/** A run signals a moment before it closes: a confirmation after a notice waits this long for the close. */
const NOTICE_SETTLE_SECONDS = 10;

export interface RunWatchOptions {
  /** How often an inherited run is checked when no notice comes. */
  checkSeconds: number;
  /** The poll interval of the earlier builds' watching activity. */
  legacyPollSeconds: number;
  /** Called once per watched run, when it has ended. */
  onFinished(workflowId: string, result: RunResult): void;
}

export interface RunWatch {
  /** Watches `workflowId` until it ends: as the child `child` when this generation started it. */
  watch(workflowId: string, child?: ChildWorkflowHandle<typeof retrainingPipeline>): void;
  /** The run being watched, or null. */
  watching(): string | null;
}

/** How a child that did not return a status closed. */
function closedWithoutStatus(err: ChildWorkflowFailure): RunResult {
  const outcome =
    err.cause instanceof TerminatedFailure
      ? 'terminated'
      : err.cause instanceof TimeoutFailure
        ? 'timed-out'
        : err.cause instanceof CancelledFailure
          ? 'cancelled'
          : 'failed';
  return { outcome, version: null, promoted: false, error: reasonOf(err) };
}

/** Registers the `runFinished` handler; call before the workflow's first await. */
export function openRunWatch(options: RunWatchOptions): RunWatch {
  let watched: { workflowId: string; mode: 'child' | 'inherited' | 'legacy' } | null = null;
  let nudges = 0;

  setHandler(runFinishedSignal, (raw) => {
    const notice = RunFinishedNotice.safeParse(raw);
    if (!notice.success || watched?.mode !== 'inherited' || notice.data.workflowId !== watched.workflowId) {
      // A child's own result is awaited anyway; any other notice is about no run of ours.
      if (watched?.mode !== 'child')
        log.info('runFinished notice ignored', {
          about: notice.success ? notice.data.workflowId : 'a malformed notice',
          watching: watched?.workflowId ?? null,
        });
      return;
    }
    nudges++;
  });

  const finished = (workflowId: string, result: RunResult) => {
    watched = null;
    options.onFinished(workflowId, result);
  };

  async function awaitInherited(workflowId: string): Promise<RunResult> {
    for (let first = true; ; first = false) {
      if (!first) await condition(() => nudges > 0, options.checkSeconds * 1000);
      const settleSeconds = nudges > 0 ? NOTICE_SETTLE_SECONDS : 0;
      nudges = 0;
      try {
        const result = await confirm.runOutcome.executeWithOptions({ summary: `has ${workflowId} ended?` }, [
          { workflowId, settleSeconds },
        ]);
        if (result) return result;
      } catch (err) {
        log.warn('could not check the run in flight; checking again later', { workflowId, error: reasonOf(err) });
      }
    }
  }

  return {
    watching: () => watched?.workflowId ?? null,
    watch(workflowId, child) {
      if (!patched('run-completion-notice')) {
        watched = { workflowId, mode: 'legacy' };
        void legacyWatcher(options.legacyPollSeconds)
          .awaitRetrainingRun.executeWithOptions({ summary: `wait for ${workflowId}` }, [
            { workflowId, pollSeconds: options.legacyPollSeconds },
          ])
          .then((result) => finished(workflowId, result));
        return;
      }
      watched = { workflowId, mode: child ? 'child' : 'inherited' };
      nudges = 0;
      const ended: Promise<RunResult> = child
        ? child.result().then(runResultOf, (err: unknown) => {
            if (err instanceof ChildWorkflowFailure) return closedWithoutStatus(err);
            throw err;
          })
        : awaitInherited(workflowId);
      void ended.then(
        (result) => finished(workflowId, result),
        (err: unknown) => log.warn('stopped watching the run in flight', { workflowId, error: reasonOf(err) }),
      );
    },
  };
}
