// Drift checks against the champion: its reference profile (built once from its training split, stored with
// the version) versus the newest data window, read in bounded memory part by part (adapters/windowFiles.ts) and
// merged (one activity, or one per part fanned out by the workflow); the full report goes to S3, a summary to the
// supervisor.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ctMetrics } from '../core/ctMetrics';
import type { DriftAlertJson } from '../core/supervisorMessages';
import {
  columnsFrame,
  detectWindowDrift,
  type DriftReport,
  type FeatureFrame,
  codedSources,
  featureFrame,
  profileReference,
  ReferenceProfile,
  WindowProfile,
  WindowProfileJson,
} from '../core/drift';
import type { Columns } from '../core/features';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import { parseOrThrow } from '../core/parse';
import { type ActivityDeps, activityLogger } from './context';
import { newestWindows } from './dataWindows';
import { readParquet } from '../adapters/datasetFiles';
import { classify, FailureType } from './failures';
import { ObjectChangedError, type ObjectStore } from '../adapters/objectStore';
import { planWindowParts, readWindowPart, WindowPart } from '../adapters/windowFiles';
import { readChampion } from '../adapters/registryStore';

/** A prepared split holds the derived features as columns already (numeric ones as numbers, categorical as strings). */
function splitFrame(config: ModelConfig, columns: Columns, what: string): FeatureFrame {
  return columnsFrame(
    Object.fromEntries(config.features.map((f) => [f.name, columns[f.name] ?? []])),
    Object.fromEntries(config.features.map((f) => [f.name, f.type])),
    what,
  );
}

/** Builds and stores the reference profile of a registered version from its training split (idempotent). */
export async function storeReferenceProfile(
  store: ObjectStore,
  config: ModelConfig,
  modelId: string,
  version: number,
  trainSplitKey: string,
): Promise<ReferenceProfile> {
  const key = keys.referenceProfile(modelId, version);
  const existing = await store.getJsonIfExists(key);
  if (existing !== undefined) return parseOrThrow(ReferenceProfile, existing, `reference profile ${store.uri(key)}`);
  const { columns } = await readParquet(await store.getBytes(trainSplitKey), store.uri(trainSplitKey));
  const profile = profileReference(
    splitFrame(config, columns, `training split ${store.uri(trainSplitKey)}`),
    config.drift,
  );
  await store.putJson(key, profile);
  return profile;
}

export interface DriftCheckResult {
  status: 'checked' | 'skipped';
  reason: string;
  championVersion: number | null;
  reportKey: string | null;
  window: string[];
  alert: DriftAlertJson | null;
  report: Pick<DriftReport, 'datasetDrift' | 'driftedShare' | 'driftedFeatures'> | null;
}

/** The check's verdicts as gauges: each feature's deciding statistic and drift flag, and the dataset flag. */
function recordDriftMetrics(model: string, report: DriftReport): void {
  const metrics = ctMetrics(Context.current().metricMeter);
  for (const f of report.features) {
    metrics.driftStatistic(f.statistic, { model, feature: f.name, method: f.method });
    metrics.featureDrifted(f.drifted ? 1 : 0, { model, feature: f.name });
  }
  metrics.datasetDrift(report.datasetDrift ? 1 : 0, { model });
}

/** How many parts a fanned-out check splits its window into at most (files × row-group runs). */
const MAX_PARTS = 16;

/** A check's plan: the champion it compares with and the window's parts, each pinned to its file's ETag. */
export interface DriftCheckPlan {
  championVersion: number;
  window: string[];
  parts: WindowPart[];
}

const skipped = (reason: string): DriftCheckResult => ({
  status: 'skipped',
  reason,
  championVersion: null,
  reportKey: null,
  window: [],
  alert: null,
  report: null,
});

/** A window file rewritten mid-read: `retryable` for a check that re-plans on retry, else for the workflow to re-plan. */
function windowChanged(err: unknown, retryable: boolean): unknown {
  if (!(err instanceof ObjectChangedError)) return err;
  const message = `${err.message}: the window is read again from its new version`;
  return retryable
    ? ApplicationFailure.retryable(message, FailureType.windowChanged)
    : ApplicationFailure.nonRetryable(message, FailureType.windowChanged);
}

export function createDriftActivities(deps: ActivityDeps) {
  const { store } = deps;

  async function referenceOf(modelId: string, version: number): Promise<ReferenceProfile> {
    const key = keys.referenceProfile(modelId, version);
    return parseOrThrow(ReferenceProfile, await store.getJson(key), `reference profile ${store.uri(key)}`);
  }

  /**
   * The champion and the window's parts with the champion's reference profile (stored if it was not yet), or why the
   * check is skipped. The card and the profile are read once here: a check costs few requests per model.
   */
  async function plan(input: {
    modelId: string;
    config: ModelConfig;
    windowKeys?: string[];
  }): Promise<{ plan: DriftCheckPlan; reference: ReferenceProfile } | string> {
    const { modelId, config } = input;
    const champion = await readChampion(store, modelId);
    if (!champion) return `model "${modelId}" has no champion yet: no reference to compare with`;
    let window = input.windowKeys;
    if (!window) {
      const data = config.continuousTraining.data;
      if (!data)
        throw ApplicationFailure.nonRetryable(
          `model "${modelId}" has no continuousTraining.data.prefix: give the window's keys explicitly`,
          FailureType.invalidInput,
        );
      window = await newestWindows(store, data.prefix, data.checkWindows);
    }
    const reference = await storeReferenceProfile(
      store,
      config,
      modelId,
      champion.version,
      champion.card.data.splits.train.key,
    );
    const parts = await planWindowParts(store, window, config.dataset.format, {
      maxParts: MAX_PARTS,
      partRows: config.drift.window.partRows,
    });
    return { plan: { championVersion: champion.version, window, parts }, reference };
  }

  /** Reads one part of the window in batches into a window profile (memory bounded by drift.window.memoryMiB). */
  async function profilePart(
    config: ModelConfig,
    reference: ReferenceProfile,
    part: WindowPart,
  ): Promise<WindowProfile> {
    const window = new WindowProfile(reference, config.drift);
    const wanted = [...new Set(config.features.map((f) => f.source))];
    const types = Object.fromEntries(Object.entries(config.dataset.columns).map(([k, v]) => [k, v.type]));
    const budget = (config.drift.window.memoryMiB * 2 ** 20) / 2;
    for await (const batch of readWindowPart(store, part, wanted, types, budget, codedSources(config))) {
      // The batch's columns (and, with its first columns, those its file lacks, which featureFrame names).
      const here = config.features.filter(
        (f) =>
          f.source in batch.columns || f.source in batch.coded || (batch.rows > 0 && batch.absent.includes(f.source)),
      );
      const what = `data window ${batch.where}`;
      const frame = featureFrame({ ...config, features: here }, batch.columns, what, batch.coded);
      for (const col of frame) window.addColumn(col);
      window.addRows(batch.rows);
    }
    return window;
  }

  /** The report of a window profile: stored in S3, recorded as metrics, summarised for the supervisor. */
  async function report(
    input: { modelId: string; config: ModelConfig; checkId: string },
    plan: DriftCheckPlan,
    reference: ReferenceProfile,
    window: WindowProfile,
  ): Promise<DriftCheckResult> {
    const { modelId, config } = input;
    const where = plan.window.join(', ');
    if (window.rows === 0)
      throw ApplicationFailure.nonRetryable(`the data window ${where} has no rows`, FailureType.validationFailed);
    const report = detectWindowDrift(reference, window, config.drift);
    const reportKey = keys.driftReport(modelId, input.checkId);
    await store.putJson(reportKey, {
      modelId,
      championVersion: plan.championVersion,
      window: plan.window,
      checkedAt: new Date().toISOString(),
      report,
    });
    activityLogger(deps.logger).info(
      {
        championVersion: plan.championVersion,
        rows: window.rows,
        parts: plan.parts.length,
        datasetDrift: report.datasetDrift,
        driftedFeatures: report.driftedFeatures,
      },
      'drift checked',
    );
    recordDriftMetrics(modelId, report);
    const summary = {
      datasetDrift: report.datasetDrift,
      driftedShare: report.driftedShare,
      driftedFeatures: report.driftedFeatures,
    };
    return {
      status: 'checked',
      reason: report.datasetDrift ? `drift in ${report.driftedFeatures.join(', ')}` : 'no dataset drift',
      championVersion: plan.championVersion,
      reportKey,
      window: plan.window,
      report: summary,
      alert: {
        alertId: input.checkId,
        modelId,
        source: 'drift-check',
        ...summary,
        reportKey,
        window: plan.window,
        championVersion: plan.championVersion,
      },
    };
  }

  /** Profiles the newest data window (or the given keys) against the champion's reference profile, in one pass. */
  async function checkDriftWindow(input: {
    modelId: string;
    config: ModelConfig;
    windowKeys?: string[];
    checkId: string;
  }): Promise<DriftCheckResult> {
    try {
      const planned = await plan(input);
      if (typeof planned === 'string') return skipped(planned);
      const { reference } = planned;
      const window = new WindowProfile(reference, input.config.drift);
      for (const part of planned.plan.parts) window.merge(await profilePart(input.config, reference, part));
      return await report(input, planned.plan, reference, window);
    } catch (err) {
      return classify(windowChanged(err, true));
    }
  }

  /** The fanned-out check's first step: the champion and the window's parts (or why the check is skipped). */
  async function planDriftCheck(input: {
    modelId: string;
    config: ModelConfig;
    windowKeys?: string[];
  }): Promise<{ plan: DriftCheckPlan } | { skipped: DriftCheckResult }> {
    try {
      const planned = await plan(input);
      return typeof planned === 'string' ? { skipped: skipped(planned) } : { plan: planned.plan };
    } catch (err) {
      return classify(windowChanged(err, true));
    }
  }

  /** One part of a fanned-out check: its window profile, stored in S3; returns the key (history stays small). */
  async function profileWindowPart(input: {
    modelId: string;
    config: ModelConfig;
    championVersion: number;
    checkId: string;
    index: number;
    part: WindowPart;
  }): Promise<{ key: string; rows: number }> {
    try {
      const part = parseOrThrow(WindowPart, input.part, 'window part');
      const reference = await referenceOf(input.modelId, input.championVersion);
      const window = await profilePart(input.config, reference, part);
      const key = keys.driftPartial(input.modelId, input.checkId, input.index);
      await store.putJson(key, window.toJSON());
      return { key, rows: window.rows };
    } catch (err) {
      return classify(windowChanged(err, false));
    }
  }

  /** The fanned-out check's last step: merges the parts' profiles in window order and reports; deletes the parts. */
  async function finishDriftCheck(input: {
    modelId: string;
    config: ModelConfig;
    checkId: string;
    plan: DriftCheckPlan;
    partialKeys: string[];
  }): Promise<DriftCheckResult> {
    try {
      const reference = await referenceOf(input.modelId, input.plan.championVersion);
      const window = new WindowProfile(reference, input.config.drift);
      for (const key of input.partialKeys) {
        const json = parseOrThrow(WindowProfileJson, await store.getJson(key), `window profile ${store.uri(key)}`);
        window.merge(WindowProfile.fromJSON(reference, input.config.drift, json));
      }
      const result = await report(input, input.plan, reference, window);
      await Promise.all(input.partialKeys.map((key) => store.delete(key)));
      return result;
    } catch (err) {
      return classify(err);
    }
  }

  return { checkDriftWindow, planDriftCheck, profileWindowPart, finishDriftCheck };
}
