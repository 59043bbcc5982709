// The baseline of bench/overhead.ts, as a workflow interceptor: each short control step the pipeline runs as a
// local activity (LOCAL_CONTROL_STEPS in workflows/pipeline/proxies.ts) runs as the regular activity, with the
// regular proxy's options, that it was before that patch.
import { proxyActivities, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
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
        const { localRetryThreshold: _local, ...options } = input.options;
        const proxy = proxyActivities({ ...options, heartbeatTimeout: controlHeartbeatTimeout });
        return proxy[input.activityType]!(...(input.args as unknown[]));
      },
    },
  ],
});
