// What one training attempt learns on the way, and what the previous attempt left it in its heartbeat.
import type { Logger } from 'pino';
import { TrainingHeartbeat } from '../../core/attempts';
import { attemptProgress, type TrainingProgress } from '../../core/progress';
import type { StepPoint } from '../../core/tracking';
import type { TrainerRun } from '../../adapters/trainerProcess';

export interface Finished {
  modelPath: string;
  samples: number;
  seconds: number;
}

/** Everything an attempt learns on the way that its record and result report. */
export interface AttemptState {
  progress: TrainingProgress;
  run: TrainerRun | null;
  finished: Finished | null;
  stalled: boolean;
  validation: Record<string, number>;
  /** Its progress events as a step series (activities/training/stepSeries.ts). */
  steps: StepPoint[];
  /** The newest validation metrics of a progress event (what a sweep's rung ranks trials by). */
  lastValidation: Record<string, number | null> | null;
  /** The step the trainer stopped at because the config's maxSteps said so (a sweep rung's end). */
  stoppedAtMaxSteps: number | null;
  resumeKey: string | null;
  skipped: { key: string; reason: string }[];
  /** CPU-seconds of every trainer process the attempt ran. */
  cpu: number;
}

export function newAttemptState(
  attempt: number,
  previous: TrainingHeartbeat | null,
  gpus: string[],
  startedAt: Date,
  slot: string,
): AttemptState {
  return {
    progress: attemptProgress(attempt, previous, gpus, startedAt, slot),
    run: null,
    finished: null,
    stalled: false,
    validation: {},
    steps: [],
    lastValidation: null,
    stoppedAtMaxSteps: null,
    resumeKey: null,
    skipped: [],
    cpu: 0,
  };
}

/** The heartbeat details the previous attempt left, or null (first attempt, or details we cannot read). */
export function lastHeartbeat(details: unknown, log: Logger): TrainingHeartbeat | null {
  if (details === undefined || details === null) return null;
  const parsed = TrainingHeartbeat.safeParse(details);
  if (parsed.success) return parsed.data;
  log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'previous heartbeat details unreadable: starting without them');
  return null;
}
