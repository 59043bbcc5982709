// The pipeline's activities with their options, set once here: a call passes only its summary.
import {
  ActivityCancellationType,
  patched,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, GpuActivities } from '../../activities';
import type { ModelConfig } from '../../core/modelConfig';
import { gpuTaskQueueOf } from '../../core/taskQueues';
import { controlHeartbeatTimeout, controlRetry, outageRetry } from '../retryPolicies';

/** Resolving the configuration, validating and splitting the data. */
export const dataStages = proxyActivities<ControlActivities>({
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: controlRetry,
});
/** Scoring the holdout with the candidate and the champion. */
export const evaluation = proxyActivities<ControlActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: controlRetry,
});
/** Registry writes: registering the challenger (it profiles the training split), promoting it by compare-and-swap. */
export const registry = proxyActivities<ControlActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: outageRetry,
});
/** Small calls: audit records, alias reads, a rejection on a card. (Notifications: workflows/notifier.ts.) */
const bookkeeping = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: controlRetry,
});

/**
 * The short control steps: resolving the configuration, audit records, reading the champion, the promotion's
 * compare-and-swap and a rejection's record. Each is a few small object-store requests, so since this patch they run
 * as local activities: on the worker that runs the workflow task, without a round trip through the server each
 * (bench/overhead.ts measures both). A worker lost in the middle of one is noticed at the workflow task's timeout and
 * the step runs again on another worker (each step is idempotent). Runs recorded before the patch replay with the
 * regular activities they used.
 */
export const LOCAL_CONTROL_STEPS = 'local-control-steps';
const localSteps = {
  bookkeeping: proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '2 minutes', retry: controlRetry }),
  registry: proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '10 minutes', retry: outageRetry }),
};
/** The proxies of the short control steps: `config` and `bookkeeping` (control retry), `registry` (outage retry). */
export function controlSteps() {
  return patched(LOCAL_CONTROL_STEPS)
    ? { config: localSteps.bookkeeping, bookkeeping: localSteps.bookkeeping, registry: localSteps.registry }
    : { config: dataStages, bookkeeping, registry };
}
/** The governance public key: local, it is derived from the worker's own secret. */
export const governanceKey = proxyLocalActivities<ControlActivities>({ startToCloseTimeout: '10 seconds' });

/** Who acted, verified on the worker (local: the token's check and the provider's keys never enter history). */
export const identity = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

/** Training on the GPU queue beside this run's queue, with the model's own timeouts. */
export function training(config: ModelConfig) {
  return proxyActivities<GpuActivities>({
    taskQueue: gpuTaskQueueOf(workflowInfo().taskQueue),
    startToCloseTimeout: `${config.trainer.timeoutMinutes} minutes`,
    heartbeatTimeout: `${config.trainer.heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
    // On cancellation, wait until the trainer's process tree is gone before the run counts as cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
}
