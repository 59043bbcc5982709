// The ct_* metrics a training attempt moves: its speed while it trains, its checkpoint uploads, and the scrap of an
// attempt that did not succeed (all its device-seconds, counted when it ends; `ct report` later credits what a
// checkpoint kept).
import type { AttemptRecord } from '../../core/attempts';
import { type CtMetrics, stepsPerSecond } from '../../core/ctMetrics';
import { ATTEMPT_SCRAP_CAUSE } from '../../core/factoryReport';
import type { StoredCheckpoint } from '../../adapters/checkpointUploads';

export class TrainingMetrics {
  private last: { step: number; atMs: number } | null = null;

  constructor(
    private readonly metrics: CtMetrics,
    private readonly model: string,
  ) {}

  /** A trainer progress event: samples/s as reported, steps/s since the previous one. */
  progress(step: number, samplesPerSec: number, atMs = Date.now()): void {
    const { model } = this;
    this.metrics.trainingSamplesPerSecond(samplesPerSec, { model });
    const steps = stepsPerSecond(this.last, { step, atMs });
    if (steps !== null) this.metrics.trainingStepsPerSecond(steps, { model });
    this.last = { step, atMs };
  }

  checkpointStored(stored: StoredCheckpoint): void {
    const { model } = this;
    this.metrics.checkpointUploadSeconds(stored.seconds, { model });
    this.metrics.checkpointUploadBytes(stored.bytes, { model });
  }

  /** An attempt's record: its scrap when it did not succeed; the speed gauges drop to 0 once this worker's own ends. */
  attemptEnded(record: AttemptRecord, own = true): void {
    const { model } = this;
    const cause = ATTEMPT_SCRAP_CAUSE[record.outcome];
    if (cause && record.deviceSeconds > 0) this.metrics.scrapSeconds(record.deviceSeconds, { model, cause });
    if (!own) return;
    this.metrics.trainingSamplesPerSecond(0, { model });
    this.metrics.trainingStepsPerSecond(0, { model });
    this.last = null;
  }
}
