// A run's training attempts as tests and benchmarks read them: the records in S3, and the next attempt training.
import type { WorkflowHandle } from '@temporalio/client';
import { AttemptRecord } from '../../core/attempts';
import { keys } from '../../core/keys';
import type { ObjectStore } from '../../adapters/objectStore';
import { trainingHeartbeat, waitFor } from './processes';

/** The run's attempt records, in attempt order. */
export async function attemptRecords(store: ObjectStore, modelId: string, runId: string): Promise<AttemptRecord[]> {
  const found = (await store.list(keys.attempts(modelId, runId))).sort();
  return Promise.all(found.map(async (k) => AttemptRecord.parse(await store.getJson(k))));
}

/** Resolves once a later attempt than the first reports training progress (a loss). */
export async function nextAttemptProgressing(handle: WorkflowHandle, timeoutMs = 300_000): Promise<void> {
  await waitFor(
    'progress in the next attempt',
    async () => {
      const beat = await trainingHeartbeat(handle);
      return beat !== null && beat.attempt >= 2 && beat.loss !== null;
    },
    timeoutMs,
  );
}
