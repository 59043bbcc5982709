// The baseline of bench/overhead.ts, as a workflow interceptor: each short control step the pipeline runs as a
// local activity (LOCAL_CONTROL_STEPS in workflows/pipeline/proxies.ts) runs as the regular activity, with the
// regular proxy's options, that it was before that patch.
import { type ActivityOptions, proxyActivities, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { controlHeartbeatTimeout } from '../../workflows/retryPolicies';

const CONTROL_STEPS = new Set([
  'resolveRunConfig',
  'recordAudit',
  'currentChampionVersion',
  'promoteChampion',
  'recordRejection',
]);

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleLocalActivity(input, next) {
        if (!CONTROL_STEPS.has(input.activityType)) return next(input);
        // Local-only options (localRetryThreshold) mean nothing to a regular activity: dropped.
        const options: ActivityOptions = {
          ...(input.options as ActivityOptions),
          heartbeatTimeout: controlHeartbeatTimeout,
        };
        delete (options as { localRetryThreshold?: unknown }).localRetryThreshold;
        return proxyActivities(options)[input.activityType]!(...input.args);
      },
    },
  ],
});
