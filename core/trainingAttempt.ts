// The pure decisions of one training attempt: how long it may wait on the object store, which checkpoints to
// resume from, when a silent trainer counts as stalled, and how its trainer's exit reads as an outcome.
import type { AttemptOutcome } from './attempts';
import { EXIT } from './trainerProtocol';

/** How an attempt ended, as its record and its failure say it. */
export interface AttemptEnd {
  outcome: AttemptOutcome;
  message: string;
}

/** What a trainer run left behind that decides the outcome (adapters/trainerProcess.ts TrainerRun). */
export interface TrainerExit {
  exitCode: number | null;
  lastError: { message: string } | null;
  stderrTail: string;
}

/** Why the activity was cancelled, as far as the outcome cares (Temporal's ActivityCancellationDetails). */
export interface CancellationReason {
  cancelRequested: boolean;
  workerShutdown: boolean;
}

/** Kept back from the activity's start-to-close timeout when waiting out an outage, to report the attempt. */
const REPORT_MARGIN_MS = 30_000;
/** The least a trainer is given to say its first word (see silenceLimitMs). */
export const STARTUP_GRACE_SECONDS = 30;

/** When (epoch ms) an attempt started at `startedAt` stops waiting on the store, leaving time to report itself. */
export function storeDeadline(startedAt: number, startToCloseTimeoutMs: number): number {
  return startedAt + startToCloseTimeoutMs - Math.min(REPORT_MARGIN_MS, startToCloseTimeoutMs / 10);
}

/**
 * Resume points, newest (highest step) first: the last heartbeat's checkpoint and whatever S3 holds for this run
 * (a checkpoint stored just before a crash may be newer than the last heartbeat that reached the server).
 */
export function resumeCandidates(heartbeatKey: string | null | undefined, stored: readonly string[]): string[] {
  return [...new Set([...(heartbeatKey ? [heartbeatKey] : []), ...stored])].sort().reverse();
}

/**
 * How long a trainer may stay silent before it counts as stalled. Until its first event it is starting up
 * (importing its framework, loading data): on a loaded machine that alone can outlast a short heartbeat timeout.
 */
export function silenceLimitMs(
  heardFrom: boolean,
  heartbeatTimeoutSeconds: number,
  startupGraceSeconds = STARTUP_GRACE_SECONDS,
): number {
  return (heardFrom ? heartbeatTimeoutSeconds : Math.max(heartbeatTimeoutSeconds, startupGraceSeconds)) * 1000;
}

/** What the attempt saw of its trainer besides the exit. */
export interface Observed {
  finished: boolean;
  stalled: boolean;
  shuttingDown: boolean;
  /** It stopped at the step its config's maxSteps asked for (a sweep rung's end), with a checkpoint. */
  reachedMaxSteps?: boolean;
}

/** How an attempt whose trainer has run ended: the exit, what we observed, and why we were cancelled (if we were). */
export function classifyAttempt(
  run: TrainerExit | null,
  observed: Observed,
  cancelled: CancellationReason | undefined,
): AttemptEnd {
  const stderrEnd = run?.stderrTail.split('\n').slice(-5).join('\n');
  const message = run?.lastError?.message ?? stderrEnd ?? 'no resume point usable';
  return { outcome: outcomeOf(run, observed, cancelled), message: namingFullDisk(message) };
}

/** A full disk as Python and the OS say it ("[Errno 28] No space left on device"), or Node ("ENOSPC: …"). */
const FULL_DISK = /\bENOSPC\b|No space left on device|\[Errno 28\]/i;

/**
 * The message with a full disk named first: "the work directory is full (ENOSPC): …". The attempt stays a crash
 * (retried): a full disk is usually transient, and the retry resumes from the newest stored checkpoint.
 */
export function namingFullDisk(message: string): string {
  return FULL_DISK.test(message) ? `the work directory is full (ENOSPC): ${message}` : message;
}

function outcomeOf(
  run: TrainerExit | null,
  observed: Observed,
  cancelled: CancellationReason | undefined,
): AttemptOutcome {
  if (run?.exitCode === EXIT.ok && observed.finished) return 'succeeded';
  if (observed.stalled) return 'stalled';
  if (cancelled?.cancelRequested) return 'cancelled';
  if (observed.reachedMaxSteps && run?.exitCode === EXIT.preempted && !cancelled) return 'rung-reached';
  if (cancelled?.workerShutdown || observed.shuttingDown || run?.exitCode === EXIT.preempted) return 'preempted';
  if (cancelled) return 'stalled'; // timed out or no longer known to the server: it stopped hearing from us
  switch (run?.exitCode) {
    case EXIT.configError:
      return 'config-error';
    case EXIT.dataError:
      return 'data-error';
    case EXIT.outOfMemory:
      return 'out-of-memory';
    default:
      return 'crashed';
  }
}
