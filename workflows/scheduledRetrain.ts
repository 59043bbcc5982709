// A periodic retrain from a Temporal Schedule: a request to the model's supervisor, which still allows only
// one run at a time (a schedule can only start workflows, and only an activity can send an Update).
import { patched, proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { ScheduledRetrainInput, type SupervisorAck } from '../core/supervisorMessages';
import { parseWorkflowInput } from './inputs';
import { controlHeartbeatTimeout, controlRetry } from './retryPolicies';

const control = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: controlRetry,
});

export async function scheduledRetrain(rawInput: ScheduledRetrainInput): Promise<SupervisorAck> {
  const input = parseWorkflowInput(ScheduledRetrainInput, rawInput, 'scheduledRetrain input');
  // A schedule may outlive its model's configuration: each firing then fails at once, naming the model, instead of
  // a running supervisor acknowledging a retrain that cannot start.
  if (patched('check-model-config')) await control.loadModelConfig(input.modelId);
  return control.requestRetrainFromSupervisor({
    modelId: input.modelId,
    request: { kind: 'schedule', requestedBy: 'schedule', reason: input.reason },
  });
}
