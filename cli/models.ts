// `ct models register|show`: model configurations and the registry.
import { listVersions, readAlias, readCard } from '../adapters/registryStore';
import type { ObjectStore } from '../adapters/objectStore';
import { keys } from '../core/keys';
import { ModelConfig, ModelId } from '../core/modelConfig';
import { parseOrThrow } from '../core/parse';
import { readStructuredFile } from '../workers/config';
import { UsageError } from './usage';

export function loadModelConfigFile(file: string): ModelConfig {
  return parseOrThrow(ModelConfig, readStructuredFile(file), `model config ${file}`);
}

export async function registerModelConfig(store: ObjectStore, file: string): Promise<ModelConfig> {
  const config = loadModelConfigFile(file);
  await store.putJson(keys.registeredConfig(config.modelId), config);
  return config;
}

export interface RegistryView {
  modelId: string;
  aliases: { champion?: number; challenger?: number };
  versions: {
    version: number;
    createdAt: string;
    workflowId: string;
    trigger: string;
    datasetKeys: string[];
    metrics: Record<string, number>;
    gatePassed: boolean;
    decidedBy: string;
    artifactKey: string;
  }[];
}

export async function showRegistry(store: ObjectStore, modelId: string): Promise<RegistryView> {
  parseOrThrow(ModelId, modelId, 'model id');
  await assertKnownModel(store, modelId);
  const versions = await listVersions(store, modelId);
  const champion = await readAlias(store, modelId, 'champion');
  const challenger = await readAlias(store, modelId, 'challenger');
  const cards = await Promise.all(versions.map((v) => readCard(store, modelId, v)));
  return {
    modelId,
    aliases: {
      ...(champion ? { champion: champion.version } : {}),
      ...(challenger ? { challenger: challenger.version } : {}),
    },
    versions: cards.map((c) => ({
      version: c.version,
      createdAt: c.createdAt,
      workflowId: c.run.workflowId,
      trigger: c.run.trigger.kind,
      datasetKeys: c.data.datasetKeys,
      metrics: c.evaluation.candidate.overall,
      gatePassed: c.gate.passed,
      decidedBy: c.decision ? `${c.decision.outcome} by ${c.decision.by}` : 'pending',
      artifactKey: c.artifactKey,
    })),
  };
}

/** Refuses (bad input) a model id that has neither a registered configuration nor versions. */
export async function assertKnownModel(store: ObjectStore, modelId: string): Promise<void> {
  if (await store.exists(keys.registeredConfig(modelId))) return;
  if ((await listVersions(store, modelId)).length > 0) return;
  throw new UsageError(
    `unknown model "${modelId}": no registered configuration and no versions in ${store.uri(`registry/${modelId}/`)}`,
  );
}

const REGISTRY_METRICS = ['rocAuc', 'logLoss', 'accuracy', 'macroF1', 'rmse', 'mae', 'r2'];

export function formatRegistry(view: RegistryView): string {
  const lines = [
    `${view.modelId}: ${view.versions.length} version(s); champion ${view.aliases.champion ? `v${view.aliases.champion}` : 'none'}${view.aliases.challenger ? `; challenger v${view.aliases.challenger}` : ''}`,
  ];
  for (const v of view.versions) {
    const m = v.metrics;
    // The headline metrics the version's task reports (rocAuc/logLoss/accuracy for flights, rmse/mae/r2 …).
    const shown = REGISTRY_METRICS.filter((k) => m[k] !== undefined);
    lines.push(
      `  v${v.version}${view.aliases.champion === v.version ? ' (champion)' : ''}${view.aliases.challenger === v.version ? ' (challenger)' : ''}  ${v.createdAt}  data ${v.datasetKeys.join(',')}  ${shown.map((k) => `${k} ${m[k]!.toFixed(4)}`).join('  ')}  ${v.decidedBy}`,
    );
  }
  return lines.join('\n');
}
