// Experiment memory: a run's fingerprint (everything that decides the model it trains) and the record of a
// finished training, which a later run with the same fingerprint reuses instead of training again. Pure: the
// hashing is done by the activity that calls fingerprintDocument.
import stringify from 'safe-stable-stringify';
import { z } from 'zod';
import type { ModelConfig } from './modelConfig';
import { type PreparedData, TrainingResult } from './reports';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');

/**
 * The canonical text (sorted keys) a run's fingerprint is the SHA-256 of: the digests of its training and
 * validation splits (their content, not their names), the features and label, the task, the trainer's command and
 * hyperparameters, the trainer's code digest and the seed. What does not change the trained model (device,
 * timeouts, checkpoint interval, the gate) stays out, so changing it does not train again.
 */
export function fingerprintDocument(config: ModelConfig, prepared: PreparedData, codeDigest: string): string {
  // An object always serializes (undefined is for a bare undefined or function).
  return stringify({
    fingerprintVersion: 1,
    splits: { train: prepared.splits.train.sha256, validation: prepared.splits.validation.sha256 },
    features: config.features,
    label: config.label,
    task: config.task,
    trainer: { command: config.trainer.command, hyperparameterRules: config.trainer.hyperparameterRules ?? null },
    hyperparameters: config.hyperparameters,
    code: codeDigest,
    seed: config.seed,
    // Only with a sweep: the fingerprints of runs without one stay what they were.
    ...(config.sweep ? { sweep: config.sweep } : {}),
  })!;
}

/** A finished training, stored under its fingerprint (keys.experiment). The first run to finish it writes it. */
export const ExperimentRecord = z.object({
  fingerprint: Sha256,
  modelId: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  recordedAt: z.string(),
  trained: TrainingResult,
  hyperparameters: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("a sweep's winning hyperparameters, which a run reusing it goes on with; absent without a sweep"),
});
export type ExperimentRecord = z.infer<typeof ExperimentRecord>;

/** The fingerprint stage's answer: the run's fingerprint and, when reuse applies, the training it reuses. */
export const FingerprintResult = z.object({
  fingerprint: Sha256,
  codeDigest: z
    .string()
    .describe('sha256:<hex> of the trainer files, version:<trainer.codeVersion>, or unknown (never reused)'),
  reusable: ExperimentRecord.nullable(),
  /** Why a match was not reused (reuse: never, its model is gone); null when there was nothing to reuse. */
  notReused: z.string().nullable(),
});
export type FingerprintResult = z.infer<typeof FingerprintResult>;

/** On a run's status: the training it reused, and the compute (GPU-seconds on a GPU) it did not spend again. */
export const ReusedTraining = z.object({
  workflowId: z.string(),
  runId: z.string(),
  deviceSeconds: z.number().describe('training seconds × GPUs (GPU-seconds), or training seconds on a CPU'),
  deviceSecondsKind: z.enum(['gpu', 'cpu']),
});
export type ReusedTraining = z.infer<typeof ReusedTraining>;

export function reusedTraining(record: ExperimentRecord): ReusedTraining {
  const gpus = record.trained.gpus.length;
  return {
    workflowId: record.workflowId,
    runId: record.runId,
    deviceSeconds: record.trained.seconds * Math.max(1, gpus),
    deviceSecondsKind: gpus > 0 ? 'gpu' : 'cpu',
  };
}
