// One record per training attempt: what it cost and how it ended, so reports can compute scrap
// (device-seconds burnt on attempts that did not produce the final model) and recovery.
import { z } from 'zod';
import { TrainingProgress } from './progress';

export const AttemptOutcome = z.enum([
  'succeeded',
  'crashed',
  'preempted',
  'stalled',
  'cancelled',
  'config-error',
  'data-error',
  'out-of-memory',
  'store-unavailable',
  /** The training backend (a Ray cluster) did not answer: retried. */
  'backend-unavailable',
  /** The training backend refused the attempt (no cluster configured, resources it does not have): not retried. */
  'backend-rejected',
  'lost',
  'rung-reached',
]);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

export const AttemptRecord = z.object({
  attempt: z.number().int(),
  outcome: AttemptOutcome,
  startedAt: z.string(),
  endedAt: z.string(),
  wallSeconds: z.number(),
  device: z.string().nullable(),
  gpus: z.array(z.string()),
  /** The worker slot it trained on (core/gpuIdle.ts slotName); absent in records written before slots were. */
  slot: z.string().optional(),
  /** GPU-seconds (wall × GPUs) on GPU workers, CPU-seconds of the trainer process on CPU workers. */
  deviceSeconds: z.number(),
  deviceSecondsKind: z.enum(['gpu', 'cpu']),
  resumedFromStep: z.number().int(),
  lastStep: z.number().int(),
  samplesProcessed: z.number().int(),
  resumedFrom: z.string().nullable(),
  skippedCheckpoints: z.array(z.object({ key: z.string(), reason: z.string() })),
  lastCheckpoint: z
    .object({ step: z.number().int(), writtenAt: z.string() })
    .nullable()
    .default(null)
    .describe('the newest checkpoint this attempt stored: the work after it is lost unless the attempt succeeds'),
  message: z.string(),
  fingerprint: z.string().optional().describe("the run's fingerprint (absent in records of older runs)"),
  trial: z
    .object({ name: z.string(), rung: z.int() })
    .optional()
    .describe('the sweep trial and rung this attempt trained (README "Sweeps"); absent outside sweeps'),
  /** Written by a later attempt from this one's last heartbeat (its worker vanished): an estimate, never over a record. */
  reconstructed: z.boolean().default(false),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

/** The training activity's heartbeat details: its progress plus the attempt records the object store has not taken. */
export const TrainingHeartbeat = TrainingProgress.extend({ unrecorded: z.array(AttemptRecord).default([]) });
export type TrainingHeartbeat = z.infer<typeof TrainingHeartbeat>;

/** The record of an attempt whose worker vanished without writing one, as far as its last heartbeat tells. */
export function reconstructedAttempt(beat: TrainingProgress): AttemptRecord {
  const startedAt = beat.attemptStartedAt ?? beat.updatedAt ?? new Date(0).toISOString();
  const endedAt = beat.updatedAt ?? startedAt;
  const wallSeconds = (Date.parse(endedAt) - Date.parse(startedAt)) / 1000;
  const gpus = beat.gpus ?? [];
  const since = beat.storeUnavailableSince;
  const store = since ? `; the object store was unreachable since ${since}` : '';
  return {
    attempt: beat.attempt,
    outcome: 'lost',
    startedAt,
    endedAt,
    wallSeconds,
    device: beat.device,
    gpus,
    ...(beat.slot ? { slot: beat.slot } : {}),
    deviceSeconds: wallSeconds * Math.max(1, gpus.length),
    deviceSecondsKind: gpus.length ? 'gpu' : 'cpu',
    resumedFromStep: beat.resumedFromStep ?? 0,
    lastStep: beat.step,
    samplesProcessed: beat.samplesProcessed ?? 0,
    resumedFrom: beat.resumedFrom ?? null,
    skippedCheckpoints: [],
    lastCheckpoint: lastCheckpointOf(beat),
    message: `worker lost: last heartbeat at ${endedAt}${store}`,
    reconstructed: true,
  };
}

/** What a finished attempt knows of itself when it writes its record. */
export interface AttemptSummary {
  attempt: number;
  startedAt: Date;
  endedAt: Date;
  outcome: AttemptOutcome;
  message: string;
  progress: TrainingProgress;
  /** CPU-seconds of the trainer process tree: the device-seconds of a CPU-only attempt. */
  trainerCpuSeconds: number;
  resumedFrom: string | null;
  skippedCheckpoints: { key: string; reason: string }[];
}

/** The record an attempt writes of itself. */
export function attemptRecord(a: AttemptSummary): AttemptRecord {
  const { progress } = a;
  const gpus = progress.gpus ?? [];
  const wallSeconds = (a.endedAt.getTime() - a.startedAt.getTime()) / 1000;
  return {
    attempt: a.attempt,
    outcome: a.outcome,
    startedAt: a.startedAt.toISOString(),
    endedAt: a.endedAt.toISOString(),
    wallSeconds,
    device: progress.device,
    gpus,
    ...(progress.slot ? { slot: progress.slot } : {}),
    deviceSeconds: gpus.length ? wallSeconds * gpus.length : a.trainerCpuSeconds,
    deviceSecondsKind: gpus.length ? 'gpu' : 'cpu',
    resumedFromStep: progress.resumedFromStep ?? 0,
    lastStep: progress.step,
    samplesProcessed: progress.samplesProcessed ?? 0,
    resumedFrom: a.resumedFrom,
    skippedCheckpoints: a.skippedCheckpoints,
    lastCheckpoint: lastCheckpointOf(progress),
    message: a.outcome === 'succeeded' ? '' : a.message,
    reconstructed: false,
  };
}

function lastCheckpointOf(p: TrainingProgress): AttemptRecord['lastCheckpoint'] {
  return p.checkpointStep !== undefined && p.checkpointWrittenAt
    ? { step: p.checkpointStep, writtenAt: p.checkpointWrittenAt }
    : null;
}

/** Optimizer steps done twice because an attempt resumed behind where the previous one had got to. */
export function stepsRedone(previousLastStep: number, resumedFromStep: number): number {
  return Math.max(0, previousLastStep - resumedFromStep);
}
