// Drift checks against the champion: its reference profile (built once from its training split, stored with
// the version) versus the newest data window; the full report goes to S3, a summary to the supervisor.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ctMetrics } from '../core/ctMetrics';
import type { DriftAlertJson } from '../core/supervisorMessages';
import {
  columnsFrame,
  detectDrift,
  type DriftReport,
  type FeatureFrame,
  featureFrame,
  profileReference,
  ReferenceProfile,
} from '../core/drift';
import type { Columns } from '../core/features';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import { parseOrThrow } from '../core/parse';
import { type ActivityDeps, activityLogger } from './context';
import { newestWindows } from './dataWindows';
import { readParquet } from '../adapters/datasetFiles';
import { classify, FailureType } from './failures';
import { loadDataset } from '../adapters/loadDataset';
import type { ObjectStore } from '../adapters/objectStore';
import { readCard, readChampion } from '../adapters/registryStore';

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

export function createDriftActivities(deps: ActivityDeps) {
  const { store } = deps;

  /** Profiles the newest data window (or the given keys) against the champion's reference profile. */
  async function checkDriftWindow(input: {
    modelId: string;
    config: ModelConfig;
    windowKeys?: string[];
    checkId: string;
  }): Promise<DriftCheckResult> {
    const log = activityLogger(deps.logger);
    const { modelId, config } = input;
    try {
      const champion = await readChampion(store, modelId);
      if (!champion)
        return {
          status: 'skipped',
          reason: `model "${modelId}" has no champion yet: no reference to compare with`,
          championVersion: null,
          reportKey: null,
          window: [],
          alert: null,
          report: null,
        };
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
      const card = await readCard(store, modelId, champion.version);
      const profile = await storeReferenceProfile(store, config, modelId, champion.version, card.data.splits.train.key);
      const wanted = [...new Set(config.features.map((f) => f.source))];
      const { columns, rows } = await loadDataset(store, config, window, wanted);
      if (rows === 0)
        throw ApplicationFailure.nonRetryable(
          `the data window ${window.join(', ')} has no rows`,
          FailureType.validationFailed,
        );
      const report = detectDrift(
        profile,
        featureFrame(config, columns, `data window ${window.join(', ')}`),
        config.drift,
      );
      const reportKey = keys.driftReport(modelId, input.checkId);
      await store.putJson(reportKey, {
        modelId,
        championVersion: champion.version,
        window,
        checkedAt: new Date().toISOString(),
        report,
      });
      log.info(
        {
          championVersion: champion.version,
          rows,
          datasetDrift: report.datasetDrift,
          driftedFeatures: report.driftedFeatures,
        },
        'drift checked',
      );
      recordDriftMetrics(modelId, report);
      return {
        status: 'checked',
        reason: report.datasetDrift ? `drift in ${report.driftedFeatures.join(', ')}` : 'no dataset drift',
        championVersion: champion.version,
        reportKey,
        window,
        report: {
          datasetDrift: report.datasetDrift,
          driftedShare: report.driftedShare,
          driftedFeatures: report.driftedFeatures,
        },
        alert: {
          alertId: input.checkId,
          modelId,
          source: 'drift-check',
          datasetDrift: report.datasetDrift,
          driftedShare: report.driftedShare,
          driftedFeatures: report.driftedFeatures,
          reportKey,
          window,
          championVersion: champion.version,
        },
      };
    } catch (err) {
      return classify(err);
    }
  }

  return { checkDriftWindow };
}
