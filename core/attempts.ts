// One record per training attempt: what it cost and how it ended, so reports can compute scrap
// (device-seconds burnt on attempts that did not produce the final model) and recovery.
import { z } from 'zod';

export const AttemptOutcome = z.enum(['succeeded', 'crashed', 'preempted', 'stalled', 'cancelled', 'config-error', 'data-error', 'out-of-memory', 'lost']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

export const AttemptRecord = z.object({
  attempt: z.number().int(),
  outcome: AttemptOutcome,
  startedAt: z.string(),
  endedAt: z.string(),
  wallSeconds: z.number(),
  device: z.string().nullable(),
  gpus: z.array(z.string()),
  /** GPU-seconds (wall × GPUs) on GPU workers, CPU-seconds of the trainer process on CPU workers. */
  deviceSeconds: z.number(),
  deviceSecondsKind: z.enum(['gpu', 'cpu']),
  resumedFromStep: z.number().int(),
  lastStep: z.number().int(),
  samplesProcessed: z.number().int(),
  resumedFrom: z.string().nullable(),
  skippedCheckpoints: z.array(z.object({ key: z.string(), reason: z.string() })),
  message: z.string(),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

/** Optimizer steps done twice because an attempt resumed behind where the previous one had got to. */
export function stepsRedone(previousLastStep: number, resumedFromStep: number): number {
  return Math.max(0, previousLastStep - resumedFromStep);
}
