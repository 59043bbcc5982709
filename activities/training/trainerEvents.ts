// What each trainer event changes in the attempt: its progress, its checkpoints, its validation metrics, its end.
import path from 'node:path';
import type { Logger } from 'pino';
import type { TrainerEvent } from '../../core/trainerProtocol';
import type { CheckpointUploads } from '../../adapters/checkpointUploads';
import { isInside } from '../../adapters/files';
import type { AttemptState } from './attemptState';
import { recordStep } from './stepSeries';
import type { TrainingMetrics } from './trainingMetrics';
import type { StallWatchdog } from './watchdog';

export interface TrainerEventsContext {
  state: AttemptState;
  log: Logger;
  uploads: CheckpointUploads;
  watchdog: StallWatchdog;
  pushProgress: (force?: boolean) => Promise<void>;
  metrics: TrainingMetrics;
  /** Where the trainer writes its model unless its `done` event names a path. */
  outDir: string;
  /** The attempt's folder: a checkpoint or model the trainer names outside it is not uploaded. */
  attemptDir: string;
}

/** The trainer's event handler. */
export function trainerEventHandler(c: TrainerEventsContext) {
  return async (event: TrainerEvent) => {
    if (event.event === 'progress') {
      const rank = event.rank ?? 0;
      c.watchdog.heard(rank, event.totalSteps !== undefined && event.step >= event.totalSteps);
      if (rank !== 0) return; // the other ranks' progress is liveness; rank 0's is the attempt's
    } else c.watchdog.heard();
    await applyEvent(event, c);
  };
}

async function applyEvent(event: TrainerEvent, c: TrainerEventsContext): Promise<void> {
  const s = c.state;
  const { progress } = s;
  switch (event.event) {
    case 'started': {
      const { device, totalSteps, step, resumedFrom } = event;
      Object.assign(progress, { device, totalSteps, step, resumedFromStep: step });
      c.log.info({ device, gpus: progress.gpus ?? [], resumedFrom, step, totalSteps }, 'trainer started');
      await c.pushProgress(true);
      break;
    }
    case 'progress': {
      const { step, epoch, loss, samplesPerSec } = event;
      Object.assign(progress, { step, epoch, loss, samplesPerSec });
      progress.samplesProcessed = event.samplesProcessed ?? progress.samplesProcessed;
      if (event.validation) s.lastValidation = event.validation;
      c.metrics.progress(step, samplesPerSec);
      recordStep(s.steps, event);
      await c.pushProgress();
      break;
    }
    case 'checkpoint':
      if (!isInside(c.attemptDir, event.path)) {
        c.log.warn({ path: event.path, attemptDir: c.attemptDir }, 'checkpoint outside the attempt folder ignored');
        break;
      }
      // Uploaded in the background; the heartbeat names it once it is in S3 (CheckpointUploads.onStored).
      c.uploads.add(event.path, event.step);
      Object.assign(progress, { step: event.step, epoch: event.epoch });
      await c.pushProgress();
      break;
    case 'metrics':
      if (event.split === 'validation') s.validation = event.values;
      break;
    case 'done': {
      const named = typeof event['modelPath'] === 'string' ? event['modelPath'] : null;
      const inside = named !== null && isInside(c.attemptDir, named);
      if (named !== null && !inside)
        c.log.warn({ path: named, attemptDir: c.attemptDir }, 'model path outside the attempt folder ignored');
      s.finished = {
        modelPath: inside ? named : path.join(c.outDir, 'model.pt'),
        samples: Number(event['samplesProcessed'] ?? progress.samplesProcessed),
        seconds: Number(event['seconds'] ?? 0),
      };
      progress.samplesProcessed = s.finished.samples;
      break;
    }
    case 'error':
      c.log.warn({ class: event.class, message: event.message }, 'trainer reported an error');
      break;
    case 'preempted':
      if (event['signal'] === 'maxSteps') s.stoppedAtMaxSteps = event.step ?? progress.step;
      c.log.warn({ step: event.step, checkpoint: event.checkpointPath }, 'trainer checkpointed and stopped');
      break;
  }
}
