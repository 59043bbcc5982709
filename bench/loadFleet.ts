// The fleet of bench/load.ts: N models of the bench model on shared data windows, each with a champion, a
// supervisor and a drift-check Schedule, set up the way a user would (registered configs, the client's
// update-with-start, `ct schedule create`'s createSchedules) except for the champions, which are copied.
import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { ObjectStore } from '../adapters/objectStore';
import { readChampion, registerVersion, setAlias } from '../adapters/registryStore';
import { startRetraining } from '../client';
import { type PushbackRetry, retryPushback } from '../client/pushback';
import { reportDrift } from '../client/supervisor';
import { keys, workflowIds } from '../core/keys';
import { ModelConfig } from '../core/modelConfig';
import type { SupervisorAck } from '../core/supervisorMessages';
import { flightsParquet, type FlightRows, readFlightsSlice } from '../test/helpers/flights';
import { createSchedules } from '../triggers/schedules';
import { benchModelConfig } from './benchModel';

export const DATA_PREFIX = 'datasets/load/';
/** The champions' training window; the newest one, which every check and retrain reads, has the same distribution. */
export const SEED_WINDOW = `${DATA_PREFIX}2001-01-01-a.parquet`;
export const NEW_WINDOW = `${DATA_PREFIX}2001-01-01-b.parquet`;
const WINDOW_ROWS = 4_000;

export const modelIds = (n: number) => Array.from({ length: n }, (_, i) => `load-${String(i).padStart(4, '0')}`);

/**
 * The bench model on the shared windows. Its checks compute every statistic but never find dataset drift, so the
 * storm's incidents are the only ones: dataset drift needs every feature to drift (fraction 1), and weekday cannot
 * (both windows hold one day; fixed thresholds, as an adaptive one calibrated on a constant feature is 0). Hour, origin and destination do drift: the reference is the training split, the
 * oldest 70% of the seed window's rows.
 */
export function loadModelConfig(modelId: string): ModelConfig {
  const base = benchModelConfig(modelId);
  return ModelConfig.parse({
    ...base,
    drift: { ...base.drift, fraction: 1, adaptive: { ...base.drift.adaptive, enabled: false } },
    continuousTraining: {
      ...base.continuousTraining,
      data: { prefix: DATA_PREFIX, checkWindows: 1, trainWindows: 1 },
    },
  });
}

/** Rows of `f` whose index has parity `odd`: two interleaved halves of one slice share its distribution. */
function half(f: FlightRows, odd: number): FlightRows {
  const pick = <T>(xs: T[]) => xs.filter((_, i) => i % 2 === odd);
  return {
    date: pick(f.date),
    delay: pick(f.delay),
    distance: pick(f.distance),
    origin: pick(f.origin),
    destination: pick(f.destination),
  };
}

/** The two data windows and every model's registered configuration. */
export async function registerModels(store: ObjectStore, models: string[]): Promise<void> {
  const rows = await readFlightsSlice(0, 2 * WINDOW_ROWS);
  await store.put(SEED_WINDOW, flightsParquet(half(rows, 0)));
  await store.put(NEW_WINDOW, flightsParquet(half(rows, 1)));
  const limit = pLimit(16);
  await Promise.all(models.map((m) => limit(() => store.putJson(keys.registeredConfig(m), loadModelConfig(m)))));
}

/**
 * The first model's champion comes from a real run on the seed window (its history is the idle worker's baseline);
 * the others get a copy of that version — card, artifact and reference profile through the registry's own code —
 * so the checks have a champion to compare with without 1,000 training runs first.
 */
export async function seedChampions(
  client: Client,
  store: ObjectStore,
  models: string[],
  taskQueue: string,
): Promise<{ seedWorkflowId: string }> {
  const [seed, ...others] = models as [string, ...string[]];
  const handle = await startRetraining(client, { modelId: seed, dataset: { keys: [SEED_WINDOW] } }, { taskQueue });
  const status = await handle.result();
  if (status.outcome !== 'promoted')
    throw new Error(`the seed run of ${seed} ended ${status.outcome}: ${status.error}`);
  const champion = await readChampion(store, seed);
  if (!champion) throw new Error(`the seed run of ${seed} was promoted but ${seed} has no champion`);
  const { artifactKey, ...seedCard } = champion.card;
  const card: Omit<typeof seedCard, 'version'> & { version?: number } = { ...seedCard };
  delete card.version;
  const profile = await store.getBytes(keys.referenceProfile(seed, champion.version));
  const limit = pLimit(16);
  await Promise.all(
    others.map((modelId) =>
      limit(async () => {
        const { version } = await registerVersion(store, { ...card, modelId }, artifactKey);
        await store.put(keys.referenceProfile(modelId, version), profile, 'application/json');
        await setAlias(store, modelId, 'champion', version, card.run.runId, new Date());
      }),
    ),
  );
  return { seedWorkflowId: handle.workflowId };
}

/** Pushback retries heard, by what was sent and the gRPC code. */
export class PushbackCounter {
  readonly retries: PushbackRetry[] = [];
  readonly onPushback = (r: PushbackRetry) => void this.retries.push(r);
  /** e.g. "3 (RESOURCE_EXHAUSTED 3)" or "0". */
  summary(what: RegExp): string {
    const mine = this.retries.filter((r) => what.test(r.what));
    const byCode = new Map<number, number>();
    for (const r of mine) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    const names: Record<number, string> = { 8: 'RESOURCE_EXHAUSTED', 10: 'ABORTED', 14: 'UNAVAILABLE' };
    const parts = [...byCode].map(([code, n]) => `${names[code] ?? code} ${n}`);
    return parts.length ? `${mine.length} (${parts.join(', ')})` : '0';
  }
}

/** Drift reports to `models` all at once through the client (update-with-start: a missing supervisor is started). */
export async function reportToAll(
  client: Client,
  models: string[],
  alert: { prefix: string; datasetDrift: boolean },
  taskQueue: string,
  pushback: PushbackCounter,
): Promise<SupervisorAck[]> {
  return Promise.all(
    models.map((modelId) =>
      reportDrift(
        client,
        { alertId: `${alert.prefix}-${modelId}`, modelId, source: 'bench-load', datasetDrift: alert.datasetDrift },
        { taskQueue, onPushback: pushback.onPushback },
      ),
    ),
  );
}

/**
 * A drift-check Schedule per model every `everySeconds`, as `ct schedule create --every` makes it, then jittered by
 * up to one interval (an update through the SDK: createSchedules has no jitter) so the fleet does not fire at once.
 */
export async function createDriftSchedules(
  client: Client,
  models: string[],
  everySeconds: number,
  taskQueue: string,
  pushback: PushbackCounter,
): Promise<void> {
  const limit = pLimit(8);
  await Promise.all(
    models.map((modelId) =>
      limit(async () => {
        const what = `schedule of ${modelId}`;
        await retryPushback(
          what,
          () => createSchedules(client, { modelId, every: `${everySeconds}s` }, taskQueue),
          pushback.onPushback,
        );
        const handle = client.schedule.getHandle(workflowIds.driftSchedule(modelId));
        await retryPushback(
          what,
          () => handle.update((prev) => ({ ...prev, spec: { ...prev.spec, jitter: everySeconds * 1000 } })),
          pushback.onPushback,
        );
      }),
    ),
  );
}

export async function deleteDriftSchedules(client: Client, models: string[]): Promise<void> {
  const limit = pLimit(8);
  await Promise.all(
    models.map((modelId) => limit(() => client.schedule.getHandle(workflowIds.driftSchedule(modelId)).delete())),
  );
}
