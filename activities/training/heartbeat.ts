// Heartbeats and progress signals of a training attempt. Heartbeats go on a timer, not only on trainer events,
// so waiting out an outage never looks like a lost worker; the workflow gets the progress at most every
// progressSignalSeconds (its status query and the Web UI show it).
import type { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { TrainingHeartbeat } from '../../core/attempts';
import { TRAINING_PROGRESS_SIGNAL, type TrainingProgress } from '../../core/progress';
import type { AttemptLedger } from '../../adapters/attemptLedger';
import type { CheckpointUploads } from '../../adapters/checkpointUploads';
import { gpuStats } from '../../adapters/processStats';

const HEARTBEAT_EVERY_MS = 1_000;
const GPU_STATS_EVERY_MS = 10_000;

export interface ProgressReporterOptions {
  ctx: Context;
  progress: TrainingProgress;
  ledger: AttemptLedger;
  uploads: CheckpointUploads;
  log: Logger;
  client?: Client;
  progressSignalSeconds?: number;
}

export class ProgressReporter {
  private lastSignal = 0;
  private lastGpuStats = 0;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly o: ProgressReporterOptions) {}

  /** Heartbeats every second until stop(). */
  start(): void {
    this.ticker = setInterval(() => this.beat(), HEARTBEAT_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.ticker);
  }

  /** Heartbeats the progress now, with the attempt records the object store has not taken. */
  beat(): void {
    const { progress, uploads, ledger } = this.o;
    progress.updatedAt = new Date().toISOString();
    progress.pendingCheckpoints = uploads.pending;
    progress.storeUnavailableSince = uploads.unavailableSince;
    this.o.ctx.heartbeat({ ...progress, unrecorded: ledger.pending } satisfies TrainingHeartbeat);
  }

  /** Heartbeats (with fresh GPU stats now and then) and signals the workflow when due, or at once if forced. */
  async push(force = false): Promise<void> {
    const { progress, client, log } = this.o;
    const gpus = progress.gpus ?? [];
    if (gpus.length && Date.now() - this.lastGpuStats > GPU_STATS_EVERY_MS) {
      this.lastGpuStats = Date.now();
      Object.assign(progress, await gpuStats(gpus));
    }
    this.beat();
    const execution = this.o.ctx.info.workflowExecution;
    const signalDue = Date.now() - this.lastSignal >= (this.o.progressSignalSeconds ?? 10) * 1000;
    if (!client || !execution || (!force && !signalDue)) return;
    this.lastSignal = Date.now();
    await client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .signal(TRAINING_PROGRESS_SIGNAL, progress)
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not signal progress to the workflow'));
  }
}
