// A scheduled drift check: the newest data window against the champion's reference profile; the report is
// stored in S3 and its verdict goes to the model's supervisor (which decides whether a retrain starts).
import { proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import type { DriftCheckResult } from '../activities/driftActivities';
import { DriftCheckInput, type SupervisorAck } from '../core/supervisorMessages';
import { CtModel, CtStage, CtTrigger } from '../core/searchAttributes';
import { parseWorkflowInput } from './inputs';
import { controlHeartbeatTimeout, outageRetry } from './retryPolicies';

// A check that meets an object-store outage waits it out (README, "Chaos matrix": 60 s unreachable mid-check).
const control = proxyActivities<ControlActivities>({
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: outageRetry,
});

export async function driftCheck(rawInput: DriftCheckInput): Promise<DriftCheckResult & { ack: SupervisorAck | null }> {
  const input = parseWorkflowInput(DriftCheckInput, rawInput, 'driftCheck input');
  const { modelId } = input;
  const { runId } = workflowInfo();
  upsertSearchAttributes([
    { key: CtModel, value: modelId },
    { key: CtTrigger, value: 'schedule' },
    { key: CtStage, value: 'drift-check' },
  ]);
  const config = await control.loadModelConfig(modelId);
  const checkId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${runId.slice(0, 8)}`;
  const result = await control.checkDriftWindow({
    modelId,
    config,
    checkId,
    ...(input.windowKeys ? { windowKeys: input.windowKeys } : {}),
  });
  const ack = result.alert ? await control.reportToSupervisor(result.alert) : null;
  upsertSearchAttributes([{ key: CtStage, value: 'done' }]);
  setCurrentDetails(
    `**${modelId}** drift check: ${result.reason}${ack ? ` → supervisor: ${ack.message}` : ''}${result.reportKey ? `\n\nreport: ${result.reportKey}` : ''}`,
  );
  return { ...result, ack };
}
