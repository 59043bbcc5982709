// The training stage (task queue ct-gpu): stage data, run the trainer on its own GPUs, stream checkpoints to S3,
// heartbeat progress, resume from the newest verified checkpoint on any retry, and account for every attempt.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { type ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { AttemptOutcome, AttemptRecord } from '../core/attempts';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import { TRAINING_PROGRESS_SIGNAL, type TrainingProgress } from '../core/progress';
import type { PreparedData, TrainingResult } from '../core/reports';
import { EXIT, PROTOCOL_VERSION, type TrainConfigFile, type TrainerEvent } from '../core/trainerProtocol';
import { CheckpointStore } from './checkpointStore';
import { type ActivityDeps, activityLogger } from './context';
import { FailureType } from './failures';
import { freshDir, sha256File, trainerEnv } from './files';
import { GpuPool } from './gpuPool';
import { cpuSeconds, gpuStats } from './processStats';
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
    const { attempt, workflowExecution } = ctx.info;
    const startedAt = new Date();
    const trainer = input.config.trainer;
    const checkpoints = new CheckpointStore(store, input.modelId, input.runId);
    const dir = await freshDir(path.join(deps.workDir, input.runId, `attempt-${attempt}`));
    const [dataDir, ckptDir, outDir] = await Promise.all(['data', 'checkpoints', 'out'].map((d) => freshDir(path.join(dir, d))));
    const trainFile = path.join(dataDir!, 'train.parquet');
    const validationFile = path.join(dataDir!, 'validation.parquet');
    await store.downloadFile(input.prepared.splits.train.key, trainFile);
    await store.downloadFile(input.prepared.splits.validation.key, validationFile);

    const previous = ctx.info.heartbeatDetails as TrainingProgress | undefined;
    if (previous && previous.attempt < attempt) await recordLostAttempt(input, previous);

    const progress: TrainingProgress = {
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
    };
    let lastSignal = 0;
    let lastGpuStats = 0;
    const pushProgress = async (force = false) => {
      progress.updatedAt = new Date().toISOString();
      if (gpus.length && Date.now() - lastGpuStats > GPU_STATS_EVERY_MS) {
        lastGpuStats = Date.now();
        Object.assign(progress, await gpuStats(gpus));
      }
      ctx.heartbeat(progress);
      if (!deps.client || !workflowExecution || (!force && Date.now() - lastSignal < (deps.progressSignalSeconds ?? 10) * 1000)) return;
      lastSignal = Date.now();
      await deps.client.workflow
        .getHandle(workflowExecution.workflowId, workflowExecution.runId)
        .signal(TRAINING_PROGRESS_SIGNAL, progress)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not signal progress to the workflow'));
    };

    // Liveness: a trainer that says nothing for the heartbeat timeout is stalled (stopped, hung in a collective):
    // kill its whole tree now rather than wait for a checkpoint it cannot write.
    const stall = new AbortController();
    let lastEvent = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastEvent > trainer.heartbeatTimeoutSeconds * 1000 && !stall.signal.aborted) {
        log.warn({ silentSeconds: (Date.now() - lastEvent) / 1000, step: progress.step }, 'trainer stalled: killing its process tree');
        stall.abort();
      }
    }, 1000);

    const finished: { done: { modelPath: string; samples: number; seconds: number } | null } = { done: null };
    let validation: Record<string, number> = {};
    let samplesProcessed = 0;
    let resumedFromStep = 0;
    let pid = 0;
    let cpu = 0;
    const onEvent = async (event: TrainerEvent) => {
      lastEvent = Date.now();
      if (pid) cpu = (await cpuSeconds(pid)) ?? cpu;
      switch (event.event) {
        case 'started':
          Object.assign(progress, { device: event.device, totalSteps: event.totalSteps, step: event.step });
          resumedFromStep = event.step;
          log.info({ device: event.device, gpus, resumedFrom: event.resumedFrom, step: event.step, totalSteps: event.totalSteps }, 'trainer started');
          await pushProgress(true);
          break;
        case 'progress':
          Object.assign(progress, { step: event.step, epoch: event.epoch, loss: event.loss, samplesPerSec: event.samplesPerSec });
          samplesProcessed = event.samplesProcessed ?? samplesProcessed;
          await pushProgress();
          break;
        case 'checkpoint': {
          // Upload first, heartbeat after: a heartbeat never names a checkpoint that is not fully stored.
          const stored = await checkpoints.upload(event.path);
          Object.assign(progress, { checkpointKey: stored.key, checkpointSha256: stored.sha256, step: event.step, epoch: event.epoch });
          await pushProgress();
          const pruned = await checkpoints.prune(trainer.keepCheckpoints, stored.key);
          log.info({ step: event.step, checkpointKey: stored.key, pruned: pruned.length }, 'checkpoint stored');
          break;
        }
        case 'metrics':
          if (event.split === 'validation') validation = event.values;
          break;
        case 'done':
          finished.done = {
            modelPath: typeof event['modelPath'] === 'string' ? event['modelPath'] : path.join(outDir!, 'model.pt'),
            samples: Number(event['samplesProcessed'] ?? samplesProcessed),
            seconds: Number(event['seconds'] ?? 0),
          };
          break;
        case 'error':
          log.warn({ class: event.class, message: event.message }, 'trainer reported an error');
          break;
        case 'preempted':
          log.warn({ step: event.step, checkpoint: event.checkpointPath }, 'trainer checkpointed and stopped');
          break;
      }
    };

    // Resume points, newest (highest step) first: the last heartbeat's checkpoint and whatever S3 holds for this run
    // (a checkpoint stored just before a crash may be newer than the last heartbeat that reached the server).
    const candidates = [...new Set([...(previous?.checkpointKey ? [previous.checkpointKey] : []), ...(await checkpoints.listNewestFirst())])].sort().reverse();
    const skipped: { key: string; reason: string }[] = [];
    const graceful = AbortSignal.any([ctx.cancellationSignal, ...(deps.shutdownSignal ? [deps.shutdownSignal] : [])]);
    let run: TrainerRun | null = null;
    let resumeKey: string | null = null;
    try {
      for (const candidate of [...candidates, null]) {
        let resumeFrom: string | null = null;
        if (candidate) {
          resumeFrom = path.join(dir, 'resume.pt');
          const problem = await checkpoints.fetchVerified(candidate, resumeFrom, candidate === previous?.checkpointKey ? previous.checkpointSha256 : null);
          if (problem) {
            skipped.push({ key: candidate, reason: problem });
            log.warn({ checkpoint: candidate, problem }, 'skipping checkpoint');
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
        log.info({ resumeFrom: candidate, command: trainer.command, gpus }, 'starting trainer');
        lastEvent = Date.now();
        run = await runTrainer({
          command: trainer.command,
          mode: 'train',
          configFile,
          cwd: process.cwd(),
          env: trainerEnv(deps.pythonBinDir, { CUDA_VISIBLE_DEVICES: gpus.join(',') }),
          onEvent,
          onStderr: (line) => log.debug({ trainer: line }),
          onSpawn: (p) => (pid = p),
          signal: graceful,
          graceMs: trainer.stopGraceSeconds * 1000,
          killSignal: stall.signal,
        });
        if (run.exitCode === EXIT.checkpointUnusable && candidate) {
          skipped.push({ key: candidate, reason: `trainer could not load it: ${run.lastError?.message ?? run.stderrTail}` });
          log.warn({ checkpoint: candidate, message: run.lastError?.message }, 'checkpoint unusable, falling back to an older one');
          continue;
        }
        resumeKey = candidate;
        break;
      }
    } finally {
      clearInterval(watchdog);
    }

    const outcome = classifyAttempt(run, finished.done !== null, stall.signal.aborted, ctx.cancellationSignal.aborted ? ctx.cancellationDetails : undefined, deps.shutdownSignal);
    const message = run?.lastError?.message ?? run?.stderrTail.split('\n').slice(-5).join('\n') ?? 'no resume point usable';
    const endedAt = new Date();
    const wallSeconds = (endedAt.getTime() - startedAt.getTime()) / 1000;
    const record: AttemptRecord = {
      attempt,
      outcome,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      wallSeconds,
      device: progress.device,
      gpus,
      deviceSeconds: gpus.length ? wallSeconds * gpus.length : cpu,
      deviceSecondsKind: gpus.length ? 'gpu' : 'cpu',
      resumedFromStep,
      lastStep: progress.step,
      samplesProcessed,
      resumedFrom: resumeKey,
      skippedCheckpoints: skipped,
      message: outcome === 'succeeded' ? '' : message,
    };
    await store.putJson(keys.attempt(input.modelId, input.runId, attempt), record).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not store the attempt record'));
    log.info({ outcome, wallSeconds, deviceSeconds: record.deviceSeconds, lastStep: record.lastStep }, 'training attempt ended');

    switch (outcome) {
      case 'succeeded': {
        const done = finished.done!;
        const modelKey = keys.trainedModel(input.modelId, input.runId);
        await store.uploadFile(modelKey, done.modelPath);
        await pushProgress(true);
        return {
          modelKey,
          modelSha256: await sha256File(done.modelPath),
          device: progress.device ?? 'unknown',
          steps: progress.step,
          samplesProcessed: done.samples,
          seconds: done.seconds,
          attempt,
          resumedFrom: resumeKey,
          skippedCheckpoints: skipped,
          gpus,
          validation,
          command: trainer.command,
        };
      }
      case 'cancelled':
        throw new CancelledFailure(`training cancelled at step ${progress.step}`);
      case 'config-error':
        throw ApplicationFailure.nonRetryable(`trainer rejected its configuration: ${message}`, FailureType.trainerConfig);
      case 'data-error':
        throw ApplicationFailure.nonRetryable(`trainer rejected its data: ${message}`, FailureType.trainerData);
      case 'out-of-memory':
        throw ApplicationFailure.nonRetryable(`trainer ran out of memory: ${message}`, FailureType.trainerOutOfMemory);
      case 'preempted':
        throw ApplicationFailure.retryable(`trainer preempted at step ${progress.step}; resuming from ${progress.checkpointKey ?? 'the start'}`, FailureType.trainerPreempted);
      case 'stalled':
        throw ApplicationFailure.retryable(`trainer stalled at step ${progress.step} (silent for ${trainer.heartbeatTimeoutSeconds}s): killed, will resume`, FailureType.trainerStalled);
      default:
        throw ApplicationFailure.retryable(`trainer crashed (exit ${run?.exitCode ?? run?.signal}) at step ${progress.step}: ${message}`, FailureType.trainerCrashed);
    }
  }

  /** The previous attempt died without saying so (worker lost): record what its last heartbeat tells. */
  async function recordLostAttempt(input: TrainInput, previous: TrainingProgress): Promise<void> {
    const key = keys.attempt(input.modelId, input.runId, previous.attempt);
    if (await store.exists(key)) return;
    const startedAt = previous.attemptStartedAt ?? previous.updatedAt ?? new Date().toISOString();
    const endedAt = previous.updatedAt ?? startedAt;
    const wallSeconds = (Date.parse(endedAt) - Date.parse(startedAt)) / 1000;
    const gpus = previous.gpus ?? [];
    const record: AttemptRecord = {
      attempt: previous.attempt,
      outcome: 'lost',
      startedAt,
      endedAt,
      wallSeconds,
      device: previous.device,
      gpus,
      deviceSeconds: wallSeconds * Math.max(1, gpus.length),
      deviceSecondsKind: gpus.length ? 'gpu' : 'cpu',
      resumedFromStep: 0,
      lastStep: previous.step,
      samplesProcessed: 0,
      resumedFrom: null,
      skippedCheckpoints: [],
      message: 'worker lost: last heartbeat at ' + endedAt,
    };
    await store.putJson(key, record);
  }

  return { trainModel };
}

function classifyAttempt(
  run: TrainerRun | null,
  done: boolean,
  stalled: boolean,
  cancelled: ActivityCancellationDetails | undefined,
  shutdown?: AbortSignal,
): AttemptOutcome {
  if (run?.exitCode === EXIT.ok && done) return 'succeeded';
  if (stalled) return 'stalled';
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
}
