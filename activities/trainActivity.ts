// The training stage (task queue ct-gpu): stage data, run the trainer, stream checkpoints to S3, heartbeat,
// and resume from the newest stored checkpoint on any retry.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import { TRAINING_PROGRESS_SIGNAL, type TrainingProgress } from '../core/progress';
import type { PreparedData, TrainingResult } from '../core/reports';
import { EXIT, PROTOCOL_VERSION, type TrainConfigFile, type TrainerEvent } from '../core/trainerProtocol';
import { type ActivityDeps, activityLogger } from './context';
import { FailureType } from './failures';
import { freshDir, sha256File, trainerEnv } from './files';
import { runTrainer } from './trainerProcess';

export interface TrainInput {
  modelId: string;
  runId: string;
  config: ModelConfig;
  prepared: PreparedData;
}

function newestFirst(keysList: string[]): string[] {
  return keysList.filter((k) => k.endsWith('.pt')).sort().reverse();
}

export function createTrainingActivities(deps: ActivityDeps) {
  const { store } = deps;

  async function trainModel(input: TrainInput): Promise<TrainingResult> {
    const ctx = Context.current();
    const log = activityLogger(deps.logger);
    const { attempt, workflowExecution } = ctx.info;
    const dir = await freshDir(path.join(deps.workDir, input.runId, `attempt-${attempt}`));
    const dataDir = await freshDir(path.join(dir, 'data'));
    const ckptDir = await freshDir(path.join(dir, 'checkpoints'));
    const outDir = await freshDir(path.join(dir, 'out'));
    const trainFile = path.join(dataDir, 'train.parquet');
    const validationFile = path.join(dataDir, 'validation.parquet');
    await store.downloadFile(input.prepared.splits.train.key, trainFile);
    await store.downloadFile(input.prepared.splits.validation.key, validationFile);

    // Resume point: the last heartbeat's checkpoint, else the newest checkpoint stored for this run.
    const previous = ctx.info.heartbeatDetails as Partial<TrainingProgress> | undefined;
    const stored = newestFirst(await store.list(keys.checkpoints(input.modelId, input.runId)));
    const candidates = [...new Set([...(previous?.checkpointKey ? [previous.checkpointKey] : []), ...stored])];

    const progress: TrainingProgress = {
      attempt,
      step: 0,
      totalSteps: null,
      epoch: 0,
      loss: null,
      samplesPerSec: null,
      checkpointKey: previous?.checkpointKey ?? null,
      checkpointSha256: previous?.checkpointSha256 ?? null,
      device: null,
    };
    let lastSignal = 0;
    const pushProgress = async (force = false) => {
      ctx.heartbeat(progress);
      const every = (deps.progressSignalSeconds ?? 10) * 1000;
      if (!deps.client || !workflowExecution || (!force && Date.now() - lastSignal < every)) return;
      lastSignal = Date.now();
      await deps.client.workflow
        .getHandle(workflowExecution.workflowId, workflowExecution.runId)
        .signal(TRAINING_PROGRESS_SIGNAL, progress)
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not signal progress to the workflow'));
    };

    let result: { modelPath: string; samples: number; seconds: number; validation: Record<string, number> } | null = null;
    const onEvent = async (event: TrainerEvent) => {
      switch (event.event) {
        case 'started':
          progress.device = event.device;
          progress.totalSteps = event.totalSteps;
          progress.step = event.step;
          log.info({ device: event.device, resumedFrom: event.resumedFrom, step: event.step, totalSteps: event.totalSteps }, 'trainer started');
          await pushProgress(true);
          break;
        case 'progress':
          Object.assign(progress, { step: event.step, epoch: event.epoch, loss: event.loss, samplesPerSec: event.samplesPerSec });
          await pushProgress();
          break;
        case 'checkpoint': {
          // Upload first, heartbeat after: a heartbeat never names a checkpoint that is not fully stored.
          const key = keys.checkpoints(input.modelId, input.runId) + path.basename(event.path);
          const sha = await sha256File(event.path);
          await store.uploadFile(key, event.path);
          Object.assign(progress, { checkpointKey: key, checkpointSha256: sha, step: event.step, epoch: event.epoch });
          log.info({ step: event.step, checkpointKey: key }, 'checkpoint stored');
          await pushProgress();
          break;
        }
        case 'metrics':
          if (event.split === 'validation') result = { modelPath: '', samples: 0, seconds: 0, validation: event.values };
          break;
        case 'done':
          result = {
            validation: result?.validation ?? {},
            modelPath: typeof event['modelPath'] === 'string' ? event['modelPath'] : path.join(outDir, 'model.pt'),
            samples: Number(event['samplesProcessed'] ?? 0),
            seconds: Number(event['seconds'] ?? 0),
          };
          break;
        case 'error':
          log.warn({ class: event.class, message: event.message }, 'trainer reported an error');
          break;
        case 'preempted':
          log.warn({ step: event.step }, 'trainer preempted after checkpointing');
          break;
      }
    };

    const command = input.config.trainer.command;
    // Try resume points newest first; a checkpoint the trainer cannot load falls back to the one before it.
    for (const resumeKey of [...candidates, null]) {
      let resumeFrom: string | null = null;
      if (resumeKey) {
        resumeFrom = path.join(dir, 'resume.pt');
        await store.downloadFile(resumeKey, resumeFrom);
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
        outputDir: outDir,
        checkpointDir: ckptDir,
        checkpoint: input.config.trainer.checkpoint,
        resumeFrom,
        device: input.config.trainer.device,
      };
      await writeFile(configFile, JSON.stringify(trainerConfig, null, 2));
      log.info({ resumeKey, command }, 'starting trainer');
      const run = await runTrainer({
        command,
        mode: 'train',
        configFile,
        cwd: process.cwd(),
        env: trainerEnv(deps.pythonBinDir),
        onEvent,
        onStderr: (line) => log.debug({ trainer: line }),
        signal: ctx.cancellationSignal,
      });
      const message = run.lastError?.message ?? run.stderrTail.split('\n').slice(-5).join('\n');
      if (run.exitCode === EXIT.checkpointUnusable && resumeKey) {
        log.warn({ resumeKey, message }, 'checkpoint unusable, falling back to an older one');
        continue;
      }
      if (ctx.cancellationSignal.aborted) throw ApplicationFailure.retryable(`training cancelled (${String(ctx.cancellationSignal.reason)})`, FailureType.trainerPreempted);
      switch (run.exitCode) {
        case EXIT.ok: {
          if (!result) throw ApplicationFailure.retryable('trainer exited 0 without a done event', FailureType.trainerCrashed);
          const done: NonNullable<typeof result> = result;
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
            validation: done.validation,
            command,
          };
        }
        case EXIT.configError:
          throw ApplicationFailure.nonRetryable(`trainer rejected its configuration: ${message}`, FailureType.trainerConfig);
        case EXIT.dataError:
          throw ApplicationFailure.nonRetryable(`trainer rejected its data: ${message}`, FailureType.trainerData);
        case EXIT.outOfMemory:
          throw ApplicationFailure.nonRetryable(`trainer ran out of memory: ${message}`, FailureType.trainerOutOfMemory);
        case EXIT.preempted:
          throw ApplicationFailure.retryable(`trainer preempted at step ${progress.step}; will resume from ${progress.checkpointKey}`, FailureType.trainerPreempted);
        default:
          throw ApplicationFailure.retryable(
            `trainer crashed (exit ${run.exitCode ?? run.signal}) at step ${progress.step}: ${message}`,
            FailureType.trainerCrashed,
          );
      }
    }
    throw ApplicationFailure.retryable('no usable resume point', FailureType.trainerCrashed);
  }

  return { trainModel };
}
