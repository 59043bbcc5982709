// The registry's three acts in a run: register the gated candidate as the challenger, record a rejection, and
// promote the approved challenger by compare-and-swap on the champion alias.
import type { ReusedTraining } from '../core/experiments';
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
  recordCardOutcome,
  registerVersion,
  setAlias,
} from '../adapters/registryStore';

export interface ChallengerInput {
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
  fingerprint?: string;
  reused?: ReusedTraining | null;
}

export interface PromotionInput {
  modelId: string;
  runId: string;
  registered: RegisteredVersion;
  decision: Decision;
  /** The evaluation and verdict the promotion rests on (a newer champion may have meant gating again). */
  evaluation: EvaluationReport;
  verdict: GateVerdict;
}

export function createRegistryActivities(deps: ActivityDeps) {
  const { store } = deps;

  /** Registers a candidate that passed the gate (idempotent per run) and points the challenger alias at it. */
  async function registerChallenger(input: ChallengerInput): Promise<RegisteredVersion> {
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
        decision: null,
        training: input.trained,
        ...(input.fingerprint ? { fingerprint: input.fingerprint } : {}),
        ...(input.reused ? { reusedFrom: { workflowId: input.reused.workflowId, runId: input.reused.runId } } : {}),
      },
      input.trained.modelKey,
    );
    // The training split's profile: what drift checks compare new data with while this version is champion.
    await storeReferenceProfile(store, input.config, input.modelId, version, input.prepared.splits.train.key);
    await setAlias(store, input.modelId, 'challenger', version, input.runId, new Date());
    activityLogger(deps.logger).info({ version, alreadyRegistered }, 'challenger registered');
    return {
      modelId: input.modelId,
      version,
      cardKey: keys.versionCard(input.modelId, version),
      artifactKey: keys.versionArtifact(input.modelId, version),
      promoted: false,
      alreadyRegistered,
      championNow: null,
    };
  }

  /**
   * Moves the champion alias to the challenger only if it still points at the champion the verdict was computed
   * against: of two runs promoting from the same champion, exactly one wins; the other learns who did.
   */
  async function promoteChampion(input: PromotionInput): Promise<RegisteredVersion> {
    const { modelId, registered } = input;
    const { version } = registered;
    await recordCardOutcome(store, modelId, version, {
      decision: input.decision,
      evaluation: input.evaluation,
      gate: input.verdict,
    });
    const move = await moveAlias(
      store,
      modelId,
      'champion',
      version,
      input.runId,
      input.verdict.championVersion,
      new Date(),
    );
    if (move.moved) await clearAliasIf(store, modelId, 'challenger', version);
    activityLogger(deps.logger).info(
      { version, promoted: move.moved, championNow: move.current },
      move.moved ? 'challenger promoted to champion' : 'champion moved meanwhile: not promoted',
    );
    return { ...registered, promoted: move.moved, championNow: move.current };
  }

  /** A rejected challenger: the decision goes on its card and the challenger alias no longer points at it. */
  async function recordRejection(input: { modelId: string; version: number; decision: Decision }): Promise<void> {
    await recordCardOutcome(store, input.modelId, input.version, { decision: input.decision });
    await clearAliasIf(store, input.modelId, 'challenger', input.version);
  }

  /** The champion's version now (it may have moved while a run waited for approval). */
  async function currentChampionVersion(modelId: string): Promise<number | null> {
    return (await readAlias(store, modelId, 'champion'))?.version ?? null;
  }

  return { registerChallenger, promoteChampion, recordRejection, currentChampionVersion };
}
