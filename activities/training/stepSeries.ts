// The step series of a training (README "Experiment tracking (MLflow)"): each trainer `progress` event as a point
// (loss, samples/s, and the validation metrics it may carry), stored next to the run once the model is, so that
// tracking on the control worker can log it as metric history.
import type { Logger } from 'pino';
import { keys } from '../../core/keys';
import { addStepPoint, type StepPoint, type TrainingSteps } from '../../core/tracking';
import type { TrainerEvent } from '../../core/trainerProtocol';
import type { ObjectStore } from '../../adapters/objectStore';

type ProgressEvent = Extract<TrainerEvent, { event: 'progress' }>;

/** Adds a progress event to the attempt's series (thinned when long: core/tracking.ts). */
export function recordStep(points: StepPoint[], event: ProgressEvent, atMs = Date.now()): void {
  const { step, loss, samplesPerSec } = event;
  const validation = numbersOf(event['validation']);
  addStepPoint(points, { step, atMs, loss, samplesPerSec, ...(validation ? { validation } : {}) });
}

function numbersOf(value: unknown): Record<string, number> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const entries = Object.entries(value).filter((e): e is [string, number] => Number.isFinite(e[1]));
  return entries.length ? Object.fromEntries(entries) : null;
}

/** Stores the series of the attempt that trained the model; one try: a run without it only lacks the history. */
export async function storeStepSeries(
  t: { store: ObjectStore; modelId: string; runId: string; log: Logger },
  series: TrainingSteps,
): Promise<void> {
  await t.store
    .putJson(keys.trainingMetrics(t.modelId, t.runId), series)
    .catch((err: unknown) =>
      t.log.warn({ err: (err as Error).message }, 'training step series not stored: tracking logs no metric history'),
    );
}
