// The CPU stages before training: load the model config, validate the data, prepare the splits.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { canonicalJson } from '../core/audit';
import { deriveFeature, labelOf } from '../core/features';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import type { PreparedData, SplitName, ValidationReport } from '../core/reports';
import { timeAwareSplit } from '../core/split';
import { describeViolations, validateColumns } from '../core/validation';
import { type ActivityDeps, activityLogger } from './context';
import { writeSplitFile } from '../adapters/splitFiles';
import { classify, FailureType } from './failures';
import { loadDataset } from '../adapters/loadDataset';
import { readRegisteredConfig } from '../adapters/registryStore';

export interface DataStageInput {
  modelId: string;
  runId: string;
  config: ModelConfig;
  datasetKeys: string[];
}

export function createDataActivities(deps: ActivityDeps) {
  const { store, datasetCache } = deps;

  async function loadModelConfig(modelId: string): Promise<ModelConfig> {
    const config = await readRegisteredConfig(store, modelId).catch(classify);
    if (config) return config;
    throw ApplicationFailure.nonRetryable(
      `model "${modelId}" has no registered configuration at ${store.uri(keys.registeredConfig(modelId))}: run \`ct models register <config file>\` or pass modelConfig in the run input`,
      FailureType.modelConfigNotFound,
    );
  }

  /**
   * The configuration a run uses: its inline one, or the registered one. An inline configuration of a registered
   * model may change anything but its governance (approval, gate): a caller cannot approve its own run by sending
   * `approval.mode: auto`. Such a change is registered first (ct models register).
   */
  async function resolveRunConfig(input: { modelId: string; inline?: ModelConfig }): Promise<ModelConfig> {
    if (!input.inline) return loadModelConfig(input.modelId);
    const registered = await readRegisteredConfig(store, input.modelId);
    if (!registered) return input.inline;
    const changed = (['approval', 'gate'] as const).filter(
      (k) => canonicalJson(registered[k]) !== canonicalJson(input.inline![k]),
    );
    if (changed.length === 0) return input.inline;
    throw ApplicationFailure.nonRetryable(
      `the inline modelConfig changes the governance of registered model "${input.modelId}" (${changed.join(', ')}): register the change with \`ct models register\` instead`,
      FailureType.invalidInput,
    );
  }

  async function validateDataset(input: DataStageInput): Promise<ValidationReport> {
    const log = activityLogger(deps.logger);
    try {
      const { columns, rows } = await loadDataset(
        store,
        input.config,
        input.datasetKeys,
        undefined,
        datasetCache && ((key) => datasetCache.readAndKeep(store, key)),
      );
      const reportKey = keys.validationReport(input.modelId, input.runId);
      const report = validateColumns(input.config, columns, rows, input.datasetKeys, reportKey);
      await store.putJson(reportKey, report);
      log.info({ rows, ok: report.ok, violations: report.violations.length }, 'dataset validated');
      if (!report.ok) {
        throw ApplicationFailure.create({
          message: `dataset failed validation (report ${store.uri(reportKey)}):\n${describeViolations(report.violations)}`,
          type: FailureType.validationFailed,
          nonRetryable: true,
          details: [report],
        });
      }
      return report;
    } catch (err) {
      return classify(err);
    }
  }

  async function prepareSplits(input: DataStageInput): Promise<PreparedData> {
    const log = activityLogger(deps.logger);
    const { config } = input;
    try {
      const wanted = [
        ...new Set([config.dataset.timeColumn, config.label.source, ...config.features.map((f) => f.source)]),
      ];
      const { columns, rows, digests } = await loadDataset(
        store,
        config,
        input.datasetKeys,
        wanted,
        datasetCache && ((key) => datasetCache.take(store, key)),
      );
      const times = columns[config.dataset.timeColumn]!.map((t) => (typeof t === 'number' ? t : Number.NaN));
      const labelSource = columns[config.label.source]!;
      const split = timeAwareSplit(times, {
        sampleRows: config.dataset.sampleRows,
        seed: config.seed,
        ...config.split,
      });
      const splits = {} as PreparedData['splits'];
      for (const [name, allRows] of Object.entries(split) as [SplitName, number[]][]) {
        const rowsOut = allRows.filter((r) => labelOf(config, labelSource[r]!) !== null);
        if (rowsOut.length === 0)
          throw ApplicationFailure.nonRetryable(
            `the ${name} split is empty: the dataset has too few labelled rows`,
            FailureType.validationFailed,
          );
        const features = new Map(config.features.map((f) => [f.name, f]));
        const bytes = writeSplitFile(config, (column) => {
          const f = features.get(column);
          if (!f) return rowsOut.map((r) => labelOf(config, labelSource[r]!));
          const source = columns[f.source]!;
          return rowsOut.map((r) => deriveFeature(f, source[r]!));
        });
        const key = keys.split(input.modelId, input.runId, name);
        await store.put(key, bytes);
        splits[name] = {
          key,
          rows: rowsOut.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          from: new Date(times[rowsOut[0]!]!).toISOString(),
          to: new Date(times[rowsOut[rowsOut.length - 1]!]!).toISOString(),
        };
      }
      log.info(
        { rows, splits: Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, v.rows])) },
        'splits prepared',
      );
      return { rows, splits, sourceDigests: digests };
    } catch (err) {
      return classify(err);
    }
  }

  return { loadModelConfig, resolveRunConfig, validateDataset, prepareSplits };
}
