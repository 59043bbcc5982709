// A rollback of a model's champion: one audited act, run by the workers so the registered governance (roles,
// signed tokens, which versions may be champion) is applied by the party that holds the keys, not by the caller.
import { patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { RollbackInput, type RollbackInputJson, type RollbackResult } from '../core/rollback';
import { CtModel, CtTrigger } from '../core/searchAttributes';
import { parseWorkflowInput } from './inputs';
import { followChampionInMlflow, MLFLOW_TRACKING } from './pipeline/tracking';
import { controlHeartbeatTimeout, controlRetry } from './retryPolicies';

const control = proxyActivities<ControlActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: controlHeartbeatTimeout,
  retry: controlRetry,
});

export async function rollbackChampion(rawInput: RollbackInputJson): Promise<RollbackResult> {
  const input = parseWorkflowInput(RollbackInput, rawInput, 'rollbackChampion input');
  upsertSearchAttributes([
    { key: CtModel, value: input.modelId },
    { key: CtTrigger, value: 'rollback' },
  ]);
  const result = await control.rollbackChampion(input);
  if (!patched(MLFLOW_TRACKING)) return result;
  const tracking = await followChampionInMlflow(result.modelId, result.to);
  return tracking === null ? result : { ...result, tracking };
}
