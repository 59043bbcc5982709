// Training progress: the heartbeat details of the training activity, also pushed to the workflow as a signal
// so its `status` query and the Web UI's current details show it.
import { z } from 'zod';

export const TRAINING_PROGRESS_SIGNAL = 'trainingProgress';

export const TrainingProgress = z.object({
  attempt: z.number().int(),
  trial: z.string().optional().describe('the sweep trial training (README "Sweeps"); absent outside sweeps'),
  step: z.number().int(),
  totalSteps: z.number().int().nullable(),
  epoch: z.number().int(),
  loss: z.number().nullable(),
  samplesPerSec: z.number().nullable(),
  checkpointKey: z.string().nullable(),
  checkpointSha256: z.string().nullable(),
  // Of a checkpoint this attempt stored (absent while the key is still the previous attempt's): what a resume keeps.
  checkpointStep: z.number().int().optional(),
  checkpointWrittenAt: z.string().optional(),
  device: z.string().nullable(),
  gpus: z.array(z.string()).optional(),
  slot: z.string().optional().describe('the worker slot training: <host>/gpu<ids> or <host>/cpu'),
  attemptStartedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  gpuUtilization: z.number().nullable().optional().describe("percent, mean over the attempt's GPUs"),
  gpuMemoryMiB: z.number().nullable().optional(),
  // What the next attempt needs to account for this one if its worker vanishes.
  resumedFromStep: z.number().int().optional(),
  resumedFrom: z.string().nullable().optional(),
  samplesProcessed: z.number().int().optional().describe('cumulative across resumes, as the trainer reports it'),
  pendingCheckpoints: z.number().int().optional().describe('checkpoints on local disk waiting for the object store'),
  storeUnavailableSince: z.string().nullable().optional().describe('when checkpoint uploads started failing'),
});
export type TrainingProgress = z.infer<typeof TrainingProgress>;

/** Where attempt `attempt` starts: the step, epoch and checkpoint the previous attempt's last heartbeat named. */
export function attemptProgress(
  attempt: number,
  previous: TrainingProgress | null,
  gpus: string[],
  startedAt: Date,
  slot?: string,
): TrainingProgress {
  return {
    attempt,
    step: previous?.step ?? 0,
    totalSteps: previous?.totalSteps ?? null,
    epoch: previous?.epoch ?? 0,
    loss: null,
    samplesPerSec: null,
    checkpointKey: previous?.checkpointKey ?? null,
    checkpointSha256: previous?.checkpointSha256 ?? null,
    device: null,
    gpus,
    ...(slot ? { slot } : {}),
    attemptStartedAt: startedAt.toISOString(),
    updatedAt: startedAt.toISOString(),
    resumedFromStep: 0,
    resumedFrom: null,
    samplesProcessed: 0,
    pendingCheckpoints: 0,
    storeUnavailableSince: null,
  };
}
