// The last stage: register the approved candidate as a new version and move the champion alias to it.
import type { ModelConfig } from '../core/modelConfig';
import { keys } from '../core/keys';
import type {
  Decision,
  EvaluationReport,
  GateVerdict,
  PreparedData,
  RegisteredVersion,
  TrainingResult,
} from '../core/reports';
import type { RunInput } from '../core/runInput';
import { type ActivityDeps, activityLogger } from './context';
import { storeReferenceProfile } from './driftActivities';
import {
  clearAliasIf,
  moveAlias,
  readAlias,
  recordCardDecision,
  registerVersion,
  setAlias,
} from '../adapters/registryStore';

export interface RegisterInput {
  modelId: string;
  workflowId: string;
  runId: string;
  config: ModelConfig;
  datasetKeys: string[];
  trigger: RunInput['trigger'];
  prepared: PreparedData;
  trained: TrainingResult;
  evaluation: EvaluationReport;
  verdict: GateVerdict;
  /** Null when registering the challenger before approval. */
  decision: Decision | null;
  promote: boolean;
  /** Point the challenger alias at the version (registered before approval, not promoted). */
  challenger?: boolean;
  /** When set, promotion is a compare-and-swap from this champion (null: none yet); absent on older runs. */
  expectedChampion?: number | null;
}

export function createRegistryActivities(deps: ActivityDeps) {
  const { store } = deps;

  async function registerModel(input: RegisterInput): Promise<RegisteredVersion> {
    const log = activityLogger(deps.logger);
    const { version, alreadyRegistered } = await registerVersion(
      store,
      {
        modelId: input.modelId,
        createdAt: new Date().toISOString(),
        run: { workflowId: input.workflowId, runId: input.runId, trigger: input.trigger },
        artifactSha256: input.trained.modelSha256,
        gitCommit: deps.gitCommit,
        trainer: {
          command: input.trained.command,
          device: input.trained.device,
          steps: input.trained.steps,
          seconds: input.trained.seconds,
          attempt: input.trained.attempt,
        },
        parameters: { hyperparameters: input.config.hyperparameters, seed: input.config.seed },
        data: {
          datasetKeys: input.datasetKeys,
          sourceDigests: input.prepared.sourceDigests,
          splits: input.prepared.splits,
        },
        evaluation: input.evaluation,
        gate: input.verdict,
        decision: input.decision,
        training: input.trained,
      },
      input.trained.modelKey,
    );
    // The training split's profile: what drift checks compare new data with while this version is champion.
    await storeReferenceProfile(store, input.config, input.modelId, version, input.prepared.splits.train.key);
    if (alreadyRegistered && input.decision) await recordCardDecision(store, input.modelId, version, input.decision);
    if (input.challenger && !input.promote)
      await setAlias(store, input.modelId, 'challenger', version, input.runId, new Date());
    let promoted = input.promote;
    let championNow: number | null = null;
    if (input.promote && input.expectedChampion !== undefined) {
      const move = await moveAlias(
        store,
        input.modelId,
        'champion',
        version,
        input.runId,
        input.expectedChampion,
        new Date(),
      );
      promoted = move.moved;
      championNow = move.current;
    } else if (input.promote) {
      await setAlias(store, input.modelId, 'champion', version, input.runId, new Date());
      championNow = version;
    }
    if (promoted) await clearAliasIf(store, input.modelId, 'challenger', version);
    log.info(
      { version, alreadyRegistered, promoted, championNow },
      promoted ? 'model registered and promoted' : 'model registered; champion moved meanwhile, not promoted',
    );
    return {
      modelId: input.modelId,
      version,
      cardKey: keys.versionCard(input.modelId, version),
      artifactKey: keys.versionArtifact(input.modelId, version),
      promoted,
      alreadyRegistered,
      championNow,
    };
  }

  /** The champion's version now (it may have moved while a run waited for approval). */
  async function currentChampionVersion(modelId: string): Promise<number | null> {
    return (await readAlias(store, modelId, 'champion'))?.version ?? null;
  }

  /** A rejected challenger: the decision goes on its card and the challenger alias no longer points at it. */
  async function closeChallenger(input: { modelId: string; version: number; decision: Decision }): Promise<void> {
    await recordCardDecision(store, input.modelId, input.version, input.decision);
    await clearAliasIf(store, input.modelId, 'challenger', input.version);
  }

  return { registerModel, currentChampionVersion, closeChallenger };
}
