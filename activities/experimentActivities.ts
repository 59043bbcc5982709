// Experiment memory (README "Experiment memory"): the fingerprint stage looks up a finished training with the
// run's fingerprint; after training, the run records its own for later runs.
import { createHash } from 'node:crypto';
import { ExperimentRecord, fingerprintDocument, type FingerprintResult } from '../core/experiments';
import { keys } from '../core/keys';
import type { ModelConfig } from '../core/modelConfig';
import type { PreparedData, TrainingResult } from '../core/reports';
import { type ActivityDeps, activityLogger } from './context';
import { trainerCodeDigest } from './trainerCode';

export interface FingerprintInput {
  modelId: string;
  config: ModelConfig;
  prepared: PreparedData;
}

export interface RecordExperimentInput {
  modelId: string;
  workflowId: string;
  runId: string;
  fingerprint: string;
  codeDigest: string;
  trained: TrainingResult;
  /** A sweep's winning hyperparameters (README "Sweeps"). */
  hyperparameters?: Record<string, unknown>;
}

export function createExperimentActivities(deps: ActivityDeps, cwd = process.cwd()) {
  const { store } = deps;

  /** The run's fingerprint and, under `reuse: identical`, the finished training with the same one (if any). */
  async function fingerprintRun(input: FingerprintInput): Promise<FingerprintResult> {
    const { config } = input;
    const files = config.trainer.codeVersion ? null : await trainerCodeDigest(config.trainer.command, cwd);
    const codeDigest = config.trainer.codeVersion ? `version:${config.trainer.codeVersion}` : files;
    const fingerprint = createHash('sha256')
      .update(fingerprintDocument(config, input.prepared, codeDigest ?? 'unknown'))
      .digest('hex');
    // Code that cannot be digested is never reused nor recorded: a reuse could hide a changed trainer.
    if (codeDigest === null) {
      return {
        fingerprint,
        codeDigest: 'unknown',
        reusable: null,
        notReused: `the trainer's code cannot be digested (no file in ${JSON.stringify(config.trainer.command)}): set trainer.codeVersion to reuse trainings`,
      };
    }
    const raw = await store.getJsonIfExists(keys.experiment(input.modelId, fingerprint));
    const found = raw === null ? null : ExperimentRecord.safeParse(raw);
    let notReused: string | null = null;
    if (found && !found.success) notReused = `the experiment record of ${fingerprint} is unreadable: trains again`;
    else if (found && config.reuse === 'never')
      notReused = `run ${found.data.workflowId} trained the same (reuse: never)`;
    else if (found && !(await store.exists(found.data.trained.modelKey)))
      notReused = `run ${found.data.workflowId} trained the same, but its model ${found.data.trained.modelKey} is gone`;
    const reusable = found?.success && notReused === null ? found.data : null;
    activityLogger(deps.logger).info(
      { fingerprint, codeDigest, reusedFrom: reusable?.workflowId ?? null, notReused },
      reusable ? 'identical training found: reused' : 'run fingerprinted',
    );
    return { fingerprint, codeDigest, reusable, notReused };
  }

  /** Records a finished training under its fingerprint; the first run to finish one keeps the record. */
  async function recordExperiment(input: RecordExperimentInput): Promise<{ recorded: boolean }> {
    if (input.codeDigest === 'unknown') return { recorded: false };
    const record: ExperimentRecord = {
      fingerprint: input.fingerprint,
      modelId: input.modelId,
      workflowId: input.workflowId,
      runId: input.runId,
      recordedAt: new Date().toISOString(),
      trained: input.trained,
      ...(input.hyperparameters ? { hyperparameters: input.hyperparameters } : {}),
    };
    const recorded = await store.putIfAbsent(
      keys.experiment(input.modelId, input.fingerprint),
      JSON.stringify(record, null, 2),
    );
    return { recorded };
  }

  return { fingerprintRun, recordExperiment };
}
