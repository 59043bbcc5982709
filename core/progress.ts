// Training progress: the heartbeat details of the training activity, also pushed to the workflow as a signal
// so its `status` query and the Web UI's current details show it.
import { z } from 'zod';

export const TRAINING_PROGRESS_SIGNAL = 'trainingProgress';

export const TrainingProgress = z.object({
  attempt: z.number().int(),
  step: z.number().int(),
  totalSteps: z.number().int().nullable(),
  epoch: z.number().int(),
  loss: z.number().nullable(),
  samplesPerSec: z.number().nullable(),
  checkpointKey: z.string().nullable(),
  checkpointSha256: z.string().nullable(),
  device: z.string().nullable(),
  gpus: z.array(z.string()).optional(),
  attemptStartedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  gpuUtilization: z.number().nullable().optional().describe('percent, mean over the attempt\'s GPUs'),
  gpuMemoryMiB: z.number().nullable().optional(),
});
export type TrainingProgress = z.infer<typeof TrainingProgress>;
