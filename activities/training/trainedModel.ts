// The trained model: stored in S3 (with the checkpoints still on their way) and reported as the activity's result.
import type { Logger } from 'pino';
import { keys } from '../../core/keys';
import type { TrainingResult } from '../../core/reports';
import type { CheckpointUploads } from '../../adapters/checkpointUploads';
import { sha256File } from '../../adapters/files';
import type { ObjectStore } from '../../adapters/objectStore';
import { retryWhileUnavailable } from '../../adapters/storeRetry';
import type { AttemptState, Finished } from './attemptState';
import { storeStepSeries } from './stepSeries';

export interface TrainedModelTarget {
  store: ObjectStore;
  modelId: string;
  runId: string;
  log: Logger;
}

/** Waits (until `until`, epoch ms) for the checkpoints and then the model to be in S3; throws the outage past it. */
export async function storeTrainedModel(
  t: TrainedModelTarget,
  finished: Finished,
  uploads: CheckpointUploads,
  until: number,
  signal: AbortSignal,
): Promise<void> {
  await uploads.flush(until, signal);
  await retryWhileUnavailable(() => t.store.uploadFile(keys.trainedModel(t.modelId, t.runId), finished.modelPath), {
    until,
    signal,
    onRetry: (err, delayMs) =>
      t.log.warn({ err: err.message, retryInMs: delayMs }, 'object store unreachable: retrying the model upload'),
  });
}

/** The result of a succeeded attempt. */
export async function trainingResult(
  t: TrainedModelTarget,
  s: AttemptState,
  command: string[],
): Promise<TrainingResult> {
  const { progress } = s;
  const done = s.finished!;
  await storeStepSeries(t, { attempt: progress.attempt, points: s.steps });
  return {
    modelKey: keys.trainedModel(t.modelId, t.runId),
    modelSha256: await sha256File(done.modelPath),
    device: progress.device ?? 'unknown',
    steps: progress.step,
    samplesProcessed: done.samples,
    seconds: done.seconds,
    attempt: progress.attempt,
    resumedFrom: s.resumeKey,
    skippedCheckpoints: s.skipped,
    gpus: progress.gpus ?? [],
    validation: s.validation,
    command,
  };
}
