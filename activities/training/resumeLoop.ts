// Running the trainer from the newest usable resume point: a checkpoint that fails verification, or that the
// trainer cannot load, is skipped (and recorded) for the next older one, down to a start from scratch.
import path from 'node:path';
import type { Logger } from 'pino';
import type { TrainingHeartbeat } from '../../core/attempts';
import type { ModelConfig } from '../../core/modelConfig';
import type { PreparedData } from '../../core/reports';
import { EXIT } from '../../core/trainerProtocol';
import { resumeCandidates } from '../../core/trainingAttempt';
import type { CheckpointStore } from '../../adapters/checkpointStore';
import type { CheckpointUploads } from '../../adapters/checkpointUploads';
import { trainerEnv } from '../../adapters/files';
import type { ObjectStore } from '../../adapters/objectStore';
import type { TrainerRun } from '../../adapters/trainerProcess';
import type { AttemptState } from './attemptState';
import type { TrainerBackend } from './trainerBackend';
import { type StagedAttempt, stageData, writeTrainerConfig } from './stageData';
import { trainerEventHandler } from './trainerEvents';
import type { TrainingMetrics } from './trainingMetrics';
import { StallWatchdog } from './watchdog';

export interface TrainContext {
  store: ObjectStore;
  config: ModelConfig;
  prepared: PreparedData;
  /** The attempt's own local folder. */
  dir: string;
  previous: TrainingHeartbeat | null;
  checkpoints: CheckpointStore;
  uploads: CheckpointUploads;
  log: Logger;
  pushProgress: (force?: boolean) => Promise<void>;
  metrics: TrainingMetrics;
  pythonBinDir: string | undefined;
  /** Cancellation or worker shutdown: the trainer checkpoints and stops. */
  graceful: AbortSignal;
  /** The step to stop at with a checkpoint (a sweep rung's end); null trains to the end. */
  maxSteps: number | null;
  /** Where the trainer runs (trainer.backend). */
  backend: TrainerBackend;
}

/** Stages the data and runs the trainer from the newest usable resume point; the state says how it went. */
export async function trainFromNewestCheckpoint(s: AttemptState, c: TrainContext): Promise<void> {
  const staged = await stageData(c.store, c.dir, c.prepared);
  const trainer = c.config.trainer;
  const gpus = s.progress.gpus ?? [];
  const onStall = () => (s.stalled = true);
  const watchdog = new StallWatchdog({
    heartbeatTimeoutSeconds: trainer.heartbeatTimeoutSeconds,
    ranks: trainer.workers,
    startupGraceSeconds: c.backend.startupGraceSeconds,
    log: c.log,
    currentStep: () => s.progress.step,
    onStall,
  });
  try {
    const { log, uploads, pushProgress, metrics } = c;
    const { outDir } = staged;
    const handler = { state: s, log, uploads, watchdog, pushProgress, metrics, outDir, attemptDir: staged.dir };
    const onEvent = trainerEventHandler(handler);
    const stored = await c.checkpoints.listNewestFirst();
    for (const candidate of [...resumeCandidates(c.previous?.checkpointKey, stored), null]) {
      const resumeFrom = candidate ? await fetchResumePoint(candidate, staged, s, c) : null;
      if (candidate && !resumeFrom) continue;
      const configFile = await writeTrainerConfig(staged, c.config, resumeFrom, c.maxSteps);
      const { backend, workers } = trainer;
      c.log.info({ resumeFrom: candidate, command: trainer.command, gpus, backend, workers }, 'starting trainer');
      s.progress.resumedFrom = candidate;
      watchdog.trainerStarting();
      s.run = await c.backend.run({
        command: trainer.command,
        mode: 'train',
        configFile,
        cwd: process.cwd(),
        env: trainerEnv(c.pythonBinDir, { CUDA_VISIBLE_DEVICES: gpus.join(',') }),
        onEvent,
        onStderr: (line) => c.log.debug({ trainer: line }),
        signal: c.graceful,
        graceMs: trainer.stopGraceSeconds * 1000,
        killSignal: watchdog.killSignal,
      });
      s.cpu += s.run.cpuSeconds; // a fallback to an older checkpoint runs the trainer again: both count
      if (candidate && s.run.exitCode === EXIT.checkpointUnusable) {
        skipUnloadable(candidate, s.run, s, c.log);
        continue;
      }
      s.resumeKey = candidate;
      break;
    }
  } finally {
    watchdog.stop();
  }
}

/** Downloads and verifies `candidate` as the local resume file; null (and recorded as skipped) when it fails. */
async function fetchResumePoint(candidate: string, staged: StagedAttempt, s: AttemptState, c: TrainContext) {
  const resumeFrom = path.join(staged.dir, 'resume.pt');
  const { previous } = c;
  const expected = candidate === previous?.checkpointKey ? previous.checkpointSha256 : null;
  const problem = await c.checkpoints.fetchVerified(candidate, resumeFrom, expected);
  if (!problem) return resumeFrom;
  s.skipped.push({ key: candidate, reason: problem });
  c.log.warn({ checkpoint: candidate, problem }, 'skipping checkpoint');
  return null;
}

function skipUnloadable(candidate: string, run: TrainerRun, s: AttemptState, log: Logger): void {
  s.skipped.push({ key: candidate, reason: `trainer could not load it: ${run.lastError?.message ?? run.stderrTail}` });
  const why = 'checkpoint unusable, falling back to an older one';
  log.warn({ checkpoint: candidate, message: run.lastError?.message }, why);
}
