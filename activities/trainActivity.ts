// The training stage (task queue ct-gpu): stage data, run the trainer on its own GPUs, stream checkpoints to S3,
// heartbeat progress, resume from the newest verified checkpoint on any retry, and account for every attempt.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { type ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { type AttemptOutcome, type AttemptRecord, reconstructedAttempt, TrainingHeartbeat } from '../core/attempts';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import { TRAINING_PROGRESS_SIGNAL, type TrainingProgress } from '../core/progress';
import type { PreparedData, TrainingResult } from '../core/reports';
import { EXIT, PROTOCOL_VERSION, type TrainConfigFile, type TrainerEvent } from '../core/trainerProtocol';
import { AttemptLedger } from './attemptLedger';
import { CheckpointStore } from './checkpointStore';
import { CheckpointUploads } from './checkpointUploads';
import { type ActivityDeps, activityLogger } from './context';
import { FailureType } from './failures';
import { freshDir, sha256File, trainerEnv } from './files';
import { GpuPool } from './gpuPool';
import { ObjectStoreUnavailableError } from './objectStore';
import { cpuSeconds, gpuStats } from './processStats';
import { retryWhileUnavailable } from './storeRetry';
import { runTrainer, type TrainerRun } from './trainerProcess';

export interface TrainInput {
  modelId: string;
  runId: string;
  config: ModelConfig;
  prepared: PreparedData;
}

export interface TrainingDeps extends ActivityDeps {
  gpuPool: GpuPool;
  /** Aborted when the worker is shutting down: trainers checkpoint now and the attempt is retried elsewhere. */
  shutdownSignal?: AbortSignal;
}

const GPU_STATS_EVERY_MS = 10_000;
/** The least a trainer is given to say its first word (see the watchdog). */
const STARTUP_GRACE_SECONDS = 30;
/** Heartbeats go on a timer, not only on trainer events, so waiting out an outage never looks like a lost worker. */
const HEARTBEAT_EVERY_MS = 1_000;
/** How long an attempt that failed anyway waits for the object store to take its checkpoints and its record. */
const FAILED_ATTEMPT_STORE_WAIT_MS = 15_000;
/** Kept back from the activity's start-to-close timeout when waiting out an outage, to report the attempt. */
const REPORT_MARGIN_MS = 30_000;

interface Finished {
  modelPath: string;
  samples: number;
  seconds: number;
}

/** Everything an attempt learns on the way that its record and result report. */
interface AttemptState {
  progress: TrainingProgress;
  run: TrainerRun | null;
  finished: Finished | null;
  stalled: boolean;
  validation: Record<string, number>;
  resumeKey: string | null;
  skipped: { key: string; reason: string }[];
  cpu: number;
}

export function createTrainingActivities(deps: TrainingDeps) {
  const { store } = deps;

  async function trainModel(input: TrainInput): Promise<TrainingResult> {
    const gpus = deps.gpuPool.acquire();
    try {
      return await trainAttempt(input, gpus);
    } finally {
      deps.gpuPool.release(gpus);
    }
  }

  async function trainAttempt(input: TrainInput, gpus: string[]): Promise<TrainingResult> {
    const ctx = Context.current();
    const log = activityLogger(deps.logger);
    const { attempt, workflowExecution, startToCloseTimeoutMs } = ctx.info;
    const startedAt = new Date();
    const deadline = startedAt.getTime() + startToCloseTimeoutMs - Math.min(REPORT_MARGIN_MS, startToCloseTimeoutMs / 10);
    const trainer = input.config.trainer;
    const checkpoints = new CheckpointStore(store, input.modelId, input.runId);

    const previous = lastHeartbeat(ctx.info.heartbeatDetails, log);
    const ledger = new AttemptLedger(store, input.modelId, input.runId, log, previous?.unrecorded);
    // Its record is not among those it handed on: its worker vanished. Estimate it (never over a real one).
    if (previous && previous.attempt < attempt && !ledger.holds(previous.attempt)) ledger.add(reconstructedAttempt(previous));

    const s: AttemptState = {
      progress: {
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
        attemptStartedAt: startedAt.toISOString(),
        updatedAt: startedAt.toISOString(),
        resumedFromStep: 0,
        resumedFrom: null,
        samplesProcessed: 0,
        pendingCheckpoints: 0,
        storeUnavailableSince: null,
      },
      run: null,
      finished: null,
      stalled: false,
      validation: {},
      resumeKey: null,
      skipped: [],
      cpu: 0,
    };
    const { progress } = s;
    const beat = () => {
      progress.updatedAt = new Date().toISOString();
      progress.pendingCheckpoints = uploads.pending;
      progress.storeUnavailableSince = uploads.unavailableSince;
      ctx.heartbeat({ ...progress, unrecorded: ledger.pending } satisfies TrainingHeartbeat);
    };
    let lastSignal = 0;
    let lastGpuStats = 0;
    const pushProgress = async (force = false) => {
      if (gpus.length && Date.now() - lastGpuStats > GPU_STATS_EVERY_MS) {
        lastGpuStats = Date.now();
        Object.assign(progress, await gpuStats(gpus));
      }
      beat();
      if (!deps.client || !workflowExecution || (!force && Date.now() - lastSignal < (deps.progressSignalSeconds ?? 10) * 1000)) return;
      lastSignal = Date.now();
      await deps.client.workflow
        .getHandle(workflowExecution.workflowId, workflowExecution.runId)
        .signal(TRAINING_PROGRESS_SIGNAL, progress)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not signal progress to the workflow'));
    };
    const uploads = new CheckpointUploads(checkpoints, {
      maxPending: trainer.maxPendingCheckpoints,
      keep: trainer.keepCheckpoints,
      log,
      onStored: async (stored) => {
        // Only now, with the bytes in S3, may a heartbeat name it.
        Object.assign(progress, { checkpointKey: stored.key, checkpointSha256: stored.sha256 });
        await pushProgress();
        return stored.key;
      },
    });

    const ticker = setInterval(beat, HEARTBEAT_EVERY_MS);
    try {
      beat();
      await ledger.flush(Date.now()); // records handed on by earlier attempts: one try now, again at the end
      let end: { outcome: AttemptOutcome; message: string };
      let storeWaitUntil = deadline; // a finished training waits out an outage; a failed attempt only briefly
      try {
        await train(input, s, { dir: path.join(deps.workDir, input.runId, `attempt-${attempt}`), previous, checkpoints, uploads, log, pushProgress });
        end = classifyAttempt(s, ctx.cancellationSignal.aborted ? ctx.cancellationDetails : undefined, deps.shutdownSignal);
        if (end.outcome === 'succeeded') {
          await uploads.flush(deadline, ctx.cancellationSignal);
          await retryWhileUnavailable(() => store.uploadFile(keys.trainedModel(input.modelId, input.runId), s.finished!.modelPath), {
            until: deadline,
            signal: ctx.cancellationSignal,
            onRetry: (err, delayMs) => log.warn({ err: err.message, retryInMs: delayMs }, 'object store unreachable: retrying the model upload'),
          });
        } else {
          storeWaitUntil = Date.now() + FAILED_ATTEMPT_STORE_WAIT_MS;
          // What it checkpointed before failing (a preemption's last checkpoint above all) is the next resume point.
          if (end.outcome !== 'cancelled') await uploads.flush(storeWaitUntil).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'checkpoints left on local disk'));
        }
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        storeWaitUntil = Math.min(storeWaitUntil, Date.now() + FAILED_ATTEMPT_STORE_WAIT_MS);
        end = { outcome: err instanceof ObjectStoreUnavailableError ? 'store-unavailable' : 'crashed', message: err.message };
      } finally {
        uploads.close();
      }

      const record = attemptRecord(s, attempt, startedAt, end);
      ledger.add(record);
      await ledger.flush(storeWaitUntil);
      beat(); // hands on whatever the store did not take
      log.info({ outcome: end.outcome, wallSeconds: record.wallSeconds, deviceSeconds: record.deviceSeconds, lastStep: record.lastStep, unrecorded: ledger.pending.length }, 'training attempt ended');
      if (end.outcome !== 'succeeded') throw attemptFailure(end, progress, trainer.heartbeatTimeoutSeconds, s.run);
      await pushProgress(true);
      const done = s.finished!;
      return {
        modelKey: keys.trainedModel(input.modelId, input.runId),
        modelSha256: await sha256File(done.modelPath),
        device: progress.device ?? 'unknown',
        steps: progress.step,
        samplesProcessed: done.samples,
        seconds: done.seconds,
        attempt,
        resumedFrom: s.resumeKey,
        skippedCheckpoints: s.skipped,
        gpus,
        validation: s.validation,
        command: trainer.command,
      };
    } finally {
      clearInterval(ticker);
    }
  }

  interface TrainContext {
    dir: string;
    previous: TrainingHeartbeat | null;
    checkpoints: CheckpointStore;
    uploads: CheckpointUploads;
    log: Logger;
    pushProgress: (force?: boolean) => Promise<void>;
  }

  /** Stages the data and runs the trainer from the newest usable resume point; the state says how it went. */
  async function train(input: TrainInput, s: AttemptState, c: TrainContext): Promise<void> {
    const ctx = Context.current();
    const { progress } = s;
    const trainer = input.config.trainer;
    const gpus = progress.gpus ?? [];
    const dir = await freshDir(c.dir);
    const [dataDir, ckptDir, outDir] = await Promise.all(['data', 'checkpoints', 'out'].map((d) => freshDir(path.join(dir, d))));
    const trainFile = path.join(dataDir!, 'train.parquet');
    const validationFile = path.join(dataDir!, 'validation.parquet');
    await store.downloadFile(input.prepared.splits.train.key, trainFile);
    await store.downloadFile(input.prepared.splits.validation.key, validationFile);

    // Liveness: a trainer that says nothing for the heartbeat timeout is stalled (stopped, hung in a collective):
    // kill its whole tree now rather than wait for a checkpoint it cannot write.
    // Until its first event a trainer is starting up (importing its framework, loading data): on a loaded machine
    // that alone can outlast a short heartbeat timeout, so it gets at least STARTUP_GRACE_SECONDS.
    const stall = new AbortController();
    let lastEvent = Date.now();
    let heardFrom = false;
    const silenceLimitMs = () => (heardFrom ? trainer.heartbeatTimeoutSeconds : Math.max(trainer.heartbeatTimeoutSeconds, STARTUP_GRACE_SECONDS)) * 1000;
    const watchdog = setInterval(() => {
      if (Date.now() - lastEvent > silenceLimitMs() && !stall.signal.aborted) {
        c.log.warn({ silentSeconds: (Date.now() - lastEvent) / 1000, step: progress.step }, 'trainer stalled: killing its process tree');
        stall.abort();
        s.stalled = true;
      }
    }, 1000);

    let pid = 0;
    const onEvent = async (event: TrainerEvent) => {
      lastEvent = Date.now();
      heardFrom = true;
      if (pid) s.cpu = (await cpuSeconds(pid)) ?? s.cpu;
      switch (event.event) {
        case 'started':
          Object.assign(progress, { device: event.device, totalSteps: event.totalSteps, step: event.step, resumedFromStep: event.step });
          c.log.info({ device: event.device, gpus, resumedFrom: event.resumedFrom, step: event.step, totalSteps: event.totalSteps }, 'trainer started');
          await c.pushProgress(true);
          break;
        case 'progress':
          Object.assign(progress, { step: event.step, epoch: event.epoch, loss: event.loss, samplesPerSec: event.samplesPerSec });
          progress.samplesProcessed = event.samplesProcessed ?? progress.samplesProcessed;
          await c.pushProgress();
          break;
        case 'checkpoint':
          // Uploaded in the background; the heartbeat names it once it is in S3 (CheckpointUploads.onStored).
          c.uploads.add(event.path, event.step);
          Object.assign(progress, { step: event.step, epoch: event.epoch });
          await c.pushProgress();
          break;
        case 'metrics':
          if (event.split === 'validation') s.validation = event.values;
          break;
        case 'done':
          s.finished = {
            modelPath: typeof event['modelPath'] === 'string' ? event['modelPath'] : path.join(outDir!, 'model.pt'),
            samples: Number(event['samplesProcessed'] ?? progress.samplesProcessed),
            seconds: Number(event['seconds'] ?? 0),
          };
          progress.samplesProcessed = s.finished.samples;
          break;
        case 'error':
          c.log.warn({ class: event.class, message: event.message }, 'trainer reported an error');
          break;
        case 'preempted':
          c.log.warn({ step: event.step, checkpoint: event.checkpointPath }, 'trainer checkpointed and stopped');
          break;
      }
    };

    // Resume points, newest (highest step) first: the last heartbeat's checkpoint and whatever S3 holds for this run
    // (a checkpoint stored just before a crash may be newer than the last heartbeat that reached the server).
    const { previous } = c;
    const candidates = [...new Set([...(previous?.checkpointKey ? [previous.checkpointKey] : []), ...(await c.checkpoints.listNewestFirst())])].sort().reverse();
    const graceful = AbortSignal.any([ctx.cancellationSignal, ...(deps.shutdownSignal ? [deps.shutdownSignal] : [])]);
    try {
      for (const candidate of [...candidates, null]) {
        let resumeFrom: string | null = null;
        if (candidate) {
          resumeFrom = path.join(dir, 'resume.pt');
          const problem = await c.checkpoints.fetchVerified(candidate, resumeFrom, candidate === previous?.checkpointKey ? previous.checkpointSha256 : null);
          if (problem) {
            s.skipped.push({ key: candidate, reason: problem });
            c.log.warn({ checkpoint: candidate, problem }, 'skipping checkpoint');
            continue;
          }
        }
        const configFile = path.join(dir, 'trainer-config.json');
        const trainerConfig: TrainConfigFile = {
          protocolVersion: PROTOCOL_VERSION,
          mode: 'train',
          data: { format: 'parquet', train: trainFile, validation: validationFile },
          features: input.config.features.map((f) => ({ name: f.name, type: f.type })),
          label: input.config.label.name,
          hyperparameters: input.config.hyperparameters,
          seed: input.config.seed,
          outputDir: outDir!,
          checkpointDir: ckptDir!,
          checkpoint: trainer.checkpoint,
          resumeFrom,
          device: trainer.device,
        };
        await writeFile(configFile, JSON.stringify(trainerConfig, null, 2));
        c.log.info({ resumeFrom: candidate, command: trainer.command, gpus }, 'starting trainer');
        progress.resumedFrom = candidate;
        lastEvent = Date.now();
        heardFrom = false;
        s.run = await runTrainer({
          command: trainer.command,
          mode: 'train',
          configFile,
          cwd: process.cwd(),
          env: trainerEnv(deps.pythonBinDir, { CUDA_VISIBLE_DEVICES: gpus.join(',') }),
          onEvent,
          onStderr: (line) => c.log.debug({ trainer: line }),
          onSpawn: (p) => (pid = p),
          signal: graceful,
          graceMs: trainer.stopGraceSeconds * 1000,
          killSignal: stall.signal,
        });
        if (s.run.exitCode === EXIT.checkpointUnusable && candidate) {
          s.skipped.push({ key: candidate, reason: `trainer could not load it: ${s.run.lastError?.message ?? s.run.stderrTail}` });
          c.log.warn({ checkpoint: candidate, message: s.run.lastError?.message }, 'checkpoint unusable, falling back to an older one');
          continue;
        }
        s.resumeKey = candidate;
        break;
      }
    } finally {
      clearInterval(watchdog);
    }
  }

  return { trainModel };
}

/** The heartbeat details the previous attempt left, or null (first attempt, or details we cannot read). */
function lastHeartbeat(details: unknown, log: Logger): TrainingHeartbeat | null {
  if (details === undefined || details === null) return null;
  const parsed = TrainingHeartbeat.safeParse(details);
  if (parsed.success) return parsed.data;
  log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'previous heartbeat details unreadable: starting without them');
  return null;
}

function attemptRecord(s: AttemptState, attempt: number, startedAt: Date, end: { outcome: AttemptOutcome; message: string }): AttemptRecord {
  const { progress } = s;
  const gpus = progress.gpus ?? [];
  const endedAt = new Date();
  const wallSeconds = (endedAt.getTime() - startedAt.getTime()) / 1000;
  return {
    attempt,
    outcome: end.outcome,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    wallSeconds,
    device: progress.device,
    gpus,
    deviceSeconds: gpus.length ? wallSeconds * gpus.length : s.cpu,
    deviceSecondsKind: gpus.length ? 'gpu' : 'cpu',
    resumedFromStep: progress.resumedFromStep ?? 0,
    lastStep: progress.step,
    samplesProcessed: progress.samplesProcessed ?? 0,
    resumedFrom: s.resumeKey,
    skippedCheckpoints: s.skipped,
    message: end.outcome === 'succeeded' ? '' : end.message,
    reconstructed: false,
  };
}

function classifyAttempt(s: AttemptState, cancelled: ActivityCancellationDetails | undefined, shutdown?: AbortSignal): { outcome: AttemptOutcome; message: string } {
  const { run } = s;
  const message = run?.lastError?.message ?? run?.stderrTail.split('\n').slice(-5).join('\n') ?? 'no resume point usable';
  const outcome = ((): AttemptOutcome => {
    if (run?.exitCode === EXIT.ok && s.finished) return 'succeeded';
    if (s.stalled) return 'stalled';
    if (cancelled?.cancelRequested) return 'cancelled';
    if (cancelled?.workerShutdown || shutdown?.aborted || run?.exitCode === EXIT.preempted) return 'preempted';
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
  })();
  return { outcome, message };
}

/** The failure a non-succeeded attempt ends with: retried (and resumed) unless retrying cannot help. */
function attemptFailure(end: { outcome: AttemptOutcome; message: string }, progress: TrainingProgress, heartbeatTimeoutSeconds: number, run: TrainerRun | null): Error {
  const { message } = end;
  switch (end.outcome) {
    case 'cancelled':
      return new CancelledFailure(`training cancelled at step ${progress.step}`);
    case 'config-error':
      return ApplicationFailure.nonRetryable(`trainer rejected its configuration: ${message}`, FailureType.trainerConfig);
    case 'data-error':
      return ApplicationFailure.nonRetryable(`trainer rejected its data: ${message}`, FailureType.trainerData);
    case 'out-of-memory':
      return ApplicationFailure.nonRetryable(`trainer ran out of memory: ${message}`, FailureType.trainerOutOfMemory);
    case 'preempted':
      return ApplicationFailure.retryable(`trainer preempted at step ${progress.step}; resuming from ${progress.checkpointKey ?? 'the start'}`, FailureType.trainerPreempted);
    case 'stalled':
      return ApplicationFailure.retryable(`trainer stalled at step ${progress.step} (silent for ${heartbeatTimeoutSeconds}s): killed, will resume`, FailureType.trainerStalled);
    case 'store-unavailable':
      return ApplicationFailure.retryable(`${message} (at step ${progress.step}; resuming from ${progress.checkpointKey ?? 'the start'})`, FailureType.objectStoreUnavailable);
    default:
      return ApplicationFailure.retryable(`trainer crashed (exit ${run?.exitCode ?? run?.signal}) at step ${progress.step}: ${message}`, FailureType.trainerCrashed);
  }
}
