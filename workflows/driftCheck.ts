// A scheduled drift check: the newest data window against the champion's reference profile; the report is
// stored in S3 and its verdict goes to the model's supervisor (which decides whether a retrain starts).
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import {
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
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

/** A window file rewritten while its part was read: the check plans again (new ETags) this many times at most. */
const REPLANS = 2;

const windowChanged = (err: unknown) =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'WindowChanged';

/**
 * Plan the window into parts (files, runs of row groups), profile every part in parallel (one activity each, the
 * profiles stored in S3 and passed by key), then merge them in window order and report.
 */
async function fannedOutCheck(check: Parameters<ControlActivities['planDriftCheck']>[0] & { checkId: string }) {
  for (let attempt = 0; ; attempt++) {
    const planned = await control.planDriftCheck(check);
    if ('skipped' in planned) return planned.skipped;
    const { plan } = planned;
    try {
      const partials = await Promise.all(
        plan.parts.map((part, index) =>
          control.profileWindowPart({
            modelId: check.modelId,
            config: check.config,
            championVersion: plan.championVersion,
            checkId: check.checkId,
            index,
            part,
          }),
        ),
      );
      return await control.finishDriftCheck({ ...check, plan, partialKeys: partials.map((p) => p.key) });
    } catch (err) {
      if (!windowChanged(err) || attempt >= REPLANS) throw err;
    }
  }
}

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
  const check = { modelId, config, checkId, ...(input.windowKeys ? { windowKeys: input.windowKeys } : {}) };
  const result = patched('drift-fan-out') ? await fannedOutCheck(check) : await control.checkDriftWindow(check);
  const ack = result.alert ? await control.reportToSupervisor(result.alert) : null;
  upsertSearchAttributes([{ key: CtStage, value: 'done' }]);
  setCurrentDetails(
    `**${modelId}** drift check: ${result.reason}${ack ? ` → supervisor: ${ack.message}` : ''}${result.reportKey ? `\n\nreport: ${result.reportKey}` : ''}`,
  );
  return { ...result, ack };
}
