// The training stage (task queue ct-gpu): stage data, run the trainer on its own GPUs, stream checkpoints to S3,
// heartbeat progress, resume from the newest verified checkpoint on any retry, and account for every attempt.
// The parts live in activities/training/; the pure decisions in core/trainingAttempt.ts.
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { type AttemptRecord, attemptRecord, reconstructedAttempt, type TrainingHeartbeat } from '../core/attempts';
import { ctMetrics } from '../core/ctMetrics';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import type { PreparedData, TrainingResult } from '../core/reports';
import { type AttemptEnd, classifyAttempt, storeDeadline } from '../core/trainingAttempt';
import { AttemptLedger } from '../adapters/attemptLedger';
import { CheckpointStore } from '../adapters/checkpointStore';
import { CheckpointUploads } from '../adapters/checkpointUploads';
import { type ActivityDeps, activityLogger } from './context';
import { GpuPool } from '../adapters/gpuPool';
import { type ObjectStore, ObjectStoreUnavailableError } from '../adapters/objectStore';
import { RayRejectedError, RayUnreachableError } from '../adapters/rayJobs';
import { type AttemptState, lastHeartbeat, newAttemptState } from './training/attemptState';
import { attemptFailure } from './training/failureMapping';
import { ProgressReporter } from './training/heartbeat';
import { trainFromNewestCheckpoint } from './training/resumeLoop';
import { trainerBackend } from './training/trainerBackend';
import { TrainingMetrics } from './training/trainingMetrics';
import { storeTrainedModel, type TrainedModelTarget, trainingResult } from './training/trainedModel';
import { type TrialInput, type TrialRung, type TrialScope, trialRung } from './training/trialRung';

export interface TrainInput {
  modelId: string;
  runId: string;
  config: ModelConfig;
  prepared: PreparedData;
  /** The run's fingerprint, kept on its attempt records (absent from runs started before experiment memory). */
  fingerprint?: string;
}

export interface TrainingDeps extends ActivityDeps {
  gpuPool: GpuPool;
  /** Aborted when the worker is shutting down: trainers checkpoint now and the attempt is retried elsewhere. */
  shutdownSignal?: AbortSignal;
}

/** How long an attempt that failed anyway waits for the object store to take its checkpoints and its record. */
const FAILED_ATTEMPT_STORE_WAIT_MS = 15_000;

interface AttemptContext {
  log: Logger;
  previous: TrainingHeartbeat | null;
  checkpoints: CheckpointStore;
  uploads: CheckpointUploads;
  reporter: ProgressReporter;
  metrics: TrainingMetrics;
  /** Until when (epoch ms) a finished training waits out an outage. */
  deadline: number;
  model: TrainedModelTarget;
  /** The sweep trial and rung it trains, or null outside sweeps. */
  trial: TrialScope | null;
}

/** What an attempt left: its state, and its trained model unless it stopped at a sweep rung. */
interface AttemptOutput {
  state: AttemptState;
  trained: TrainingResult | null;
}

export function createTrainingActivities(deps: TrainingDeps) {
  async function onSlot(input: TrainInput, trial: TrialScope | null): Promise<AttemptOutput> {
    const gpus = deps.gpuPool.acquire();
    try {
      return await trainAttempt(deps, input, gpus, trial);
    } finally {
      deps.gpuPool.release(gpus);
    }
  }

  async function trainModel(input: TrainInput): Promise<TrainingResult> {
    return (await onSlot(input, null)).trained!;
  }

  /** One rung of a sweep trial (README "Sweeps"): trains it to the rung's step, or to the end, from its checkpoint. */
  async function trainTrial(input: TrialInput): Promise<TrialRung> {
    const { state, trained } = await onSlot(input, input.trial);
    return trialRung(input.trial, state, trained);
  }

  return { trainModel, trainTrial };
}

async function trainAttempt(
  deps: TrainingDeps,
  input: TrainInput,
  gpus: string[],
  trial: TrialScope | null,
): Promise<AttemptOutput> {
  const { store } = deps;
  const ctx = Context.current();
  const log = activityLogger(deps.logger);
  const { attempt } = ctx.info;
  const startedAt = new Date();
  const deadline = storeDeadline(startedAt.getTime(), ctx.info.startToCloseTimeoutMs);
  const trainer = input.config.trainer;
  // A sweep trial keeps its checkpoints and model in a folder of its own (keys.trialRun), its attempts beside the run's.
  const scopeRunId = trial ? keys.trialRun(input.runId, trial.name) : input.runId;
  const tag = trial ? { trial: { name: trial.name, rung: trial.rung } } : {};
  const checkpoints = new CheckpointStore(store, input.modelId, scopeRunId);
  const previous = lastHeartbeat(ctx.info.heartbeatDetails, log);
  const metrics = new TrainingMetrics(ctMetrics(ctx.metricMeter), input.modelId);
  const ledger = openLedger(store, input, attempt, previous, log, metrics, tag);
  const s = newAttemptState(attempt, previous, gpus, startedAt, deps.gpuPool.slotOf(gpus));
  const { progress } = s;
  if (trial) progress.trial = trial.name;
  const uploads = new CheckpointUploads(checkpoints, {
    maxPending: trainer.maxPendingCheckpoints,
    keep: trainer.keepCheckpoints,
    log,
    onStored: async (stored) => {
      // Only now, with the bytes in S3, may a heartbeat name it.
      Object.assign(progress, {
        checkpointKey: stored.key,
        checkpointSha256: stored.sha256,
        checkpointStep: stored.step,
        checkpointWrittenAt: stored.writtenAt,
      });
      metrics.checkpointStored(stored);
      await reporter.push();
      return stored.key;
    },
  });
  const { client, progressSignalSeconds } = deps;
  const reporter = new ProgressReporter({ ctx, progress, ledger, uploads, log, client, progressSignalSeconds });
  reporter.start();
  try {
    reporter.beat();
    await ledger.flush(Date.now()); // records handed on by earlier attempts: one try now, again at the end
    const model = { store, modelId: input.modelId, runId: scopeRunId, log };
    const c: AttemptContext = { log, previous, checkpoints, uploads, reporter, metrics, deadline, model, trial };
    const { end, storeWaitUntil } = await trainAndStore(deps, input, s, c);
    const record = attemptRecord({
      ...end,
      attempt,
      startedAt,
      endedAt: new Date(),
      progress,
      trainerCpuSeconds: s.cpu,
      resumedFrom: s.resumeKey,
      skippedCheckpoints: s.skipped,
    });
    ledger.add({ ...record, ...(input.fingerprint ? { fingerprint: input.fingerprint } : {}), ...tag });
    metrics.attemptEnded(record);
    await ledger.flush(storeWaitUntil);
    reporter.beat(); // hands on whatever the store did not take
    const { wallSeconds, deviceSeconds, lastStep } = record;
    const unrecorded = ledger.pending.length;
    log.info({ outcome: end.outcome, wallSeconds, deviceSeconds, lastStep, unrecorded }, 'training attempt ended');
    const rungReached = end.outcome === 'rung-reached';
    if (end.outcome !== 'succeeded' && !rungReached)
      throw attemptFailure(end, progress, trainer.heartbeatTimeoutSeconds, s.run);
    await reporter.push(true);
    return { state: s, trained: rungReached ? null : await trainingResult(c.model, s, trainer.command) };
  } finally {
    reporter.stop();
  }
}

/** Records handed on by earlier attempts, and an estimate for the previous one if its worker vanished. */
function openLedger(
  store: ObjectStore,
  input: TrainInput,
  attempt: number,
  previous: TrainingHeartbeat | null,
  log: Logger,
  metrics: TrainingMetrics,
  tag: Pick<AttemptRecord, 'trial'>,
): AttemptLedger {
  const ledger = new AttemptLedger(store, input.modelId, input.runId, log, previous?.unrecorded);
  // Its record is not among those it handed on: its worker vanished. Estimate it (never over a real one).
  const vanished = previous && previous.attempt < attempt && !ledger.holds(previous.attempt);
  if (vanished) {
    const lost = { ...reconstructedAttempt(previous), ...tag };
    ledger.add(lost);
    metrics.attemptEnded(lost, false);
  }
  return ledger;
}

/** Trains, then stores what the attempt produced: its model, or after a failure what it checkpointed. */
async function trainAndStore(deps: TrainingDeps, input: TrainInput, s: AttemptState, c: AttemptContext) {
  const { store } = deps;
  const ctx = Context.current();
  const { log, uploads } = c;
  let storeWaitUntil = c.deadline; // a finished training waits out an outage; a failed attempt only briefly
  try {
    const { trial } = c;
    // c.model.runId is the run's, or a sweep trial's folder in it (each rung an attempt folder of its own).
    const rung = trial ? [`rung-${trial.rung}`] : [];
    const dir = path.join(deps.workDir, c.model.runId, ...rung, `attempt-${ctx.info.attempt}`);
    const maxSteps = trial?.stopAtStep ?? null;
    const graceful = AbortSignal.any([ctx.cancellationSignal, ...(deps.shutdownSignal ? [deps.shutdownSignal] : [])]);
    const pushProgress = (force?: boolean) => c.reporter.push(force);
    const { config, prepared } = input;
    const { pythonBinDir } = deps;
    const job = { modelId: input.modelId, runId: c.model.runId, attempt: ctx.info.attempt };
    const backend = trainerBackend(config.trainer, { ray: deps.ray, pythonBinDir, job, log });
    const context = { ...c, store, config, prepared, dir, pushProgress, pythonBinDir, graceful, maxSteps, backend };
    await trainFromNewestCheckpoint(s, context);
    const observed = {
      finished: s.finished !== null,
      stalled: s.stalled,
      shuttingDown: !!deps.shutdownSignal?.aborted,
      reachedMaxSteps: maxSteps !== null && (s.stoppedAtMaxSteps ?? -1) >= maxSteps,
    };
    const end = classifyAttempt(s.run, observed, ctx.cancellationSignal.aborted ? ctx.cancellationDetails : undefined);
    if (end.outcome === 'succeeded') {
      await storeTrainedModel(c.model, s.finished!, uploads, c.deadline, ctx.cancellationSignal);
    } else if (end.outcome === 'rung-reached') {
      // The rung's last checkpoint is where the trial's next rung resumes: it must be in S3 before the rung ends.
      await uploads.flush(c.deadline, ctx.cancellationSignal);
    } else {
      storeWaitUntil = Date.now() + FAILED_ATTEMPT_STORE_WAIT_MS;
      // What it checkpointed before failing (a preemption's last checkpoint above all) is the next resume point.
      const keep = (err: unknown) => log.warn({ err: (err as Error).message }, 'checkpoints left on local disk');
      if (end.outcome !== 'cancelled') await uploads.flush(storeWaitUntil).catch(keep);
    }
    return { end, storeWaitUntil };
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    storeWaitUntil = Math.min(storeWaitUntil, Date.now() + FAILED_ATTEMPT_STORE_WAIT_MS);
    // Cancelled while it resumed or started the trainer: what failed then failed because of the cancellation.
    const cancelled = ctx.cancellationDetails?.cancelRequested === true;
    const end: AttemptEnd = { outcome: cancelled ? 'cancelled' : failedOutcome(err), message: err.message };
    return { end, storeWaitUntil };
  } finally {
    uploads.close();
  }
}

/** The outcome of an attempt that failed before or around its trainer rather than in it. */
function failedOutcome(err: Error): AttemptEnd['outcome'] {
  if (err instanceof ObjectStoreUnavailableError) return 'store-unavailable';
  if (err instanceof RayUnreachableError) return 'backend-unavailable';
  if (err instanceof RayRejectedError) return 'backend-rejected';
  return 'crashed';
}
