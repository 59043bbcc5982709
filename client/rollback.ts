// Rolling a model's champion back, from any Node program: the workers apply the model's registered governance.
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workflowIds } from '../core/keys';
import { parseOrThrow } from '../core/parse';
import { RollbackInput, type RollbackInputJson, type RollbackResult } from '../core/rollback';
import type { rollbackChampion } from '../workflows';

/** A rollback the model's governance refused (or that named an unknown model): `type` says which. */
export class RollbackRefusedError extends Error {
  override readonly name = 'RollbackRefusedError';
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
  }
}

/**
 * Moves the champion of `input.modelId` back to `input.toVersion` through a `rollbackChampion` workflow and waits
 * for it (`options.workflowId` defaults to rollback/<modelId>/<UTC timestamp>). Throws {@link RollbackRefusedError} with the reason when governance refuses (also recorded in the audit log).
 */
export async function rollbackModel(
  client: Client,
  input: RollbackInputJson,
  options: { taskQueue?: string; workflowId?: string } = {},
): Promise<RollbackResult> {
  const parsed = parseOrThrow(RollbackInput, input, 'rollback input');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  try {
    return await client.workflow.execute<typeof rollbackChampion>('rollbackChampion', {
      taskQueue: options.taskQueue ?? 'ct',
      workflowId: options.workflowId ?? workflowIds.rollback(parsed.modelId, stamp),
      args: [input],
      staticSummary: `rollback ${parsed.modelId} to v${parsed.toVersion} by ${parsed.by}`,
    });
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    const failure =
      cause instanceof ApplicationFailure
        ? cause
        : cause?.cause instanceof ApplicationFailure
          ? cause.cause
          : undefined;
    if (failure && ['RollbackRefused', 'UnknownModel', 'InvalidInput'].includes(failure.type ?? ''))
      throw new RollbackRefusedError(failure.message, failure.type!);
    throw err;
  }
}
