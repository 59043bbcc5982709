// The S3 model registry: numbered versions with cards, aliases, and a per-run marker that makes
// registration idempotent (a retried or replayed registration never creates a second version).
import { Alias, ModelCard, renderModelCardMarkdown } from '../core/modelCard';
import { keys, versionFromCardKey } from '../core/keys';
import { ModelConfig } from '../core/modelConfig';
import { parseOrThrow } from '../core/parse';
import type { ObjectStore } from './objectStore';

export async function listVersions(store: ObjectStore, modelId: string): Promise<number[]> {
  return (await store.list(keys.versionsPrefix(modelId)))
    .map(versionFromCardKey)
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
}

/** The model's registered configuration (ct models register), or null when it has none. */
export async function readRegisteredConfig(store: ObjectStore, modelId: string): Promise<ModelConfig | null> {
  const raw = await store.getJsonIfExists(keys.registeredConfig(modelId));
  return raw === undefined ? null : parseOrThrow(ModelConfig, raw, `registered model config for "${modelId}"`);
}

export async function readCard(store: ObjectStore, modelId: string, version: number): Promise<ModelCard> {
  return ModelCard.parse(await store.getJson(keys.versionCard(modelId, version)));
}

export async function readAlias(store: ObjectStore, modelId: string, alias: string): Promise<Alias | null> {
  const raw = await store.getJsonIfExists(keys.alias(modelId, alias));
  return raw === undefined ? null : Alias.parse(raw);
}

export async function readChampion(
  store: ObjectStore,
  modelId: string,
): Promise<{ version: number; card: ModelCard } | null> {
  const alias = await readAlias(store, modelId, 'champion');
  return alias ? { version: alias.version, card: await readCard(store, modelId, alias.version) } : null;
}

/**
 * Registers `card` (its version field is assigned here) for `runId`, exactly once:
 * 1. a run marker says which version this run already got;
 * 2. failing that, a card carrying this runId (a crash between card and marker);
 * 3. else the next free number, claimed with a conditional write so concurrent registrations never share one.
 */
export async function registerVersion(
  store: ObjectStore,
  card: Omit<ModelCard, 'version' | 'artifactKey'>,
  artifactSourceKey: string,
): Promise<{ version: number; alreadyRegistered: boolean }> {
  const { modelId } = card;
  const runId = card.run.runId;
  const marker = (await store.getJsonIfExists(keys.runRegistration(modelId, runId))) as { version: number } | undefined;
  if (marker) return { version: marker.version, alreadyRegistered: true };

  const versions = await listVersions(store, modelId);
  for (const v of versions.slice(-20).reverse()) {
    const existing = await readCard(store, modelId, v);
    if (existing.run.runId === runId) {
      await completeVersion(store, existing, artifactSourceKey);
      return { version: v, alreadyRegistered: true };
    }
  }
  for (let version = (versions[versions.length - 1] ?? 0) + 1; ; version++) {
    const full: ModelCard = { ...card, version, artifactKey: keys.versionArtifact(modelId, version) };
    if (await store.putIfAbsent(keys.versionCard(modelId, version), JSON.stringify(full, null, 2))) {
      await completeVersion(store, full, artifactSourceKey);
      return { version, alreadyRegistered: false };
    }
  }
}

/**
 * Records what was decided about a version on its card: the decision, and the evaluation and gate verdict it was
 * decided on (a run gated again against a newer champion replaces them). The bucket keeps earlier cards as versions.
 */
export async function recordCardOutcome(
  store: ObjectStore,
  modelId: string,
  version: number,
  outcome: Partial<Pick<ModelCard, 'decision' | 'evaluation' | 'gate'>>,
): Promise<void> {
  const card = await readCard(store, modelId, version);
  const updated: ModelCard = { ...card, ...outcome };
  if (JSON.stringify(card) === JSON.stringify(updated)) return;
  await store.putJson(keys.versionCard(modelId, version), updated);
  await store.put(keys.versionCardMarkdown(modelId, version), renderModelCardMarkdown(updated), 'text/markdown');
}

/** Removes `alias` if it still points at `version`. */
export async function clearAliasIf(store: ObjectStore, modelId: string, alias: string, version: number): Promise<void> {
  const current = await store.getJsonWithEtag(keys.alias(modelId, alias));
  if (!current || Alias.parse(current.value).version !== version) return;
  await store.delete(keys.alias(modelId, alias));
}

/** Idempotently writes what belongs with a claimed version card: artifact, readable card, run marker (last). */
async function completeVersion(store: ObjectStore, card: ModelCard, artifactSourceKey: string): Promise<void> {
  if (!(await store.exists(card.artifactKey)))
    await store.put(card.artifactKey, await store.getBytes(artifactSourceKey));
  await store.put(keys.versionCardMarkdown(card.modelId, card.version), renderModelCardMarkdown(card), 'text/markdown');
  await store.putJson(keys.runRegistration(card.modelId, card.run.runId), { version: card.version });
}

/**
 * Moves `alias` to `version` only if it still points at `expected` (null = no alias yet): a compare-and-swap on
 * the alias object, so of two concurrent promotions from the same champion exactly one wins.
 */
export async function moveAlias(
  store: ObjectStore,
  modelId: string,
  alias: string,
  version: number,
  runId: string,
  expected: number | null,
  now: Date,
): Promise<{ moved: boolean; current: number | null }> {
  const key = keys.alias(modelId, alias);
  const existing = await store.getJsonWithEtag(key);
  const current = existing ? Alias.parse(existing.value).version : null;
  if (current === version) return { moved: true, current };
  if (current !== expected) return { moved: false, current };
  const value: Alias = { version, runId, updatedAt: now.toISOString() };
  if (await store.putJsonIfUnchanged(key, value, existing?.etag ?? null)) return { moved: true, current: version };
  return { moved: false, current: (await readAlias(store, modelId, alias))?.version ?? null };
}

export async function setAlias(
  store: ObjectStore,
  modelId: string,
  alias: string,
  version: number,
  runId: string,
  now: Date,
): Promise<void> {
  const value: Alias = { version, runId, updatedAt: now.toISOString() };
  await store.putJson(keys.alias(modelId, alias), value);
}
