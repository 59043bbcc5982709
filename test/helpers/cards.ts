// Real model cards for registry tests: built from what the recorded pipeline run registered.
import type { ModelCard } from '../../core/modelCard';
import type { ControlActivities, GpuActivities } from '../../activities';
import type { ModelConfig } from '../../core/modelConfig';
import type {
  EvaluationReport,
  PreparedData,
  RegisteredVersion,
  TrainingResult,
  ValidationReport,
} from '../../core/reports';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { payloadValue } from './codec';
import pipelineHistory from '../histories/pipeline-promoted.json' with { type: 'json' };

/** What each stage of the recorded pipeline run returned: real results for fake activities and registry tests. */
export function recordedStageResults() {
  const results = historyFromJSON(pipelineHistory)
    .events!.flatMap((e) => e.activityTaskCompletedEventAttributes?.result?.payloads ?? [])
    .map((p) => payloadValue(p));
  return {
    validation: results.find((r) => 'violations' in r) as unknown as ValidationReport,
    prepared: results.find((r) => 'splits' in r) as unknown as PreparedData,
    trained: results.find((r) => 'modelSha256' in r) as unknown as TrainingResult,
    evaluation: results.find((r) => 'holdoutSha256' in r) as unknown as EvaluationReport,
  };
}

/** A real model card: the one the recorded pipeline run registered. */
export function cardFromHistory(): Omit<ModelCard, 'version' | 'artifactKey'> {
  const { trained, prepared, evaluation } = recordedStageResults();
  return {
    modelId: 'm',
    createdAt: new Date().toISOString(),
    run: { workflowId: 'w', runId: 'r', trigger: { kind: 'manual', requestedBy: 't', reason: '' } },
    artifactSha256: trained.modelSha256,
    gitCommit: 'abc',
    trainer: {
      command: trained.command,
      device: trained.device,
      steps: trained.steps,
      seconds: trained.seconds,
      attempt: 1,
    },
    parameters: { hyperparameters: {}, seed: 1 },
    data: { datasetKeys: ['d'], sourceDigests: prepared.sourceDigests, splits: prepared.splits },
    evaluation,
    gate: { passed: true, championVersion: null, checks: [], reasons: ['ok'] },
    decision: { outcome: 'approved', by: 'policy', comment: '', mode: 'auto', approvals: [], evidence: [] },
    training: trained,
  };
}

/**
 * Fake pipeline activities that return what the real ones returned in the recorded run, noting each call in
 * `calls`; `evaluation` says what the evaluation returns (default: the recorded one, with no champion), `championNow`
 * what reading the champion returns (default: none).
 */
export function recordedActivities(
  calls: string[] = [],
  evaluation?: () => EvaluationReport,
  championNow: () => number | null = () => null,
): { control: Partial<ControlActivities>; gpu: Partial<GpuActivities> } {
  const recorded = recordedStageResults();
  const fake =
    <I, T>(name: string, value: (input: I) => T) =>
    async (input: I): Promise<T> => {
      calls.push(name);
      return value(input);
    };
  const registered = (promoted: boolean): RegisteredVersion => ({
    modelId: 'm',
    version: 1,
    cardKey: 'c',
    artifactKey: 'a',
    promoted,
    alreadyRegistered: false,
    championNow: promoted ? 1 : null,
  });
  return {
    control: {
      resolveRunConfig: fake('resolveRunConfig', (i: { inline?: ModelConfig }) => i.inline!),
      recordAudit: fake('recordAudit', () => ({ seq: 1, hash: 'h' })),
      validateDataset: fake('validateDataset', () => recorded.validation),
      prepareSplits: fake('prepareSplits', () => recorded.prepared),
      fingerprintRun: fake('fingerprintRun', () => ({
        fingerprint: 'f'.repeat(64),
        codeDigest: 'd'.repeat(64),
        reusable: null,
        notReused: null,
      })),
      recordExperiment: fake('recordExperiment', () => ({ recorded: true })),
      evaluateModels: fake('evaluateModels', evaluation ?? (() => ({ ...recorded.evaluation, champion: null }))),
      registerChallenger: fake('registerChallenger', () => registered(false)),
      promoteChampion: fake('promoteChampion', () => registered(true)),
      recordRejection: fake('recordRejection', () => undefined),
      currentChampionVersion: fake('currentChampionVersion', championNow),
      notify: fake('notify', () => ({ delivered: true, duplicate: false })),
      governanceVerifyingKey: () => {
        calls.push('governanceVerifyingKey');
        return Promise.resolve({ publicKey: null, identityMode: 'dev' as const });
      },
    },
    gpu: { trainModel: fake('trainModel', () => recorded.trained) },
  };
}
