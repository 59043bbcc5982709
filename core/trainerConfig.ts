// The config file the activity writes for a trainer (trainers/PROTOCOL.md), as one zod schema. `npm run schemas`
// exports it to schemas/ and into the Python SDK (trainers/ct_trainer), which validates every config against it.
// Defaults cover the fields a hand-written config may leave out; the activity always writes every field.
import { z } from 'zod';
import { TaskKind } from './taskKind';
import { PROTOCOL_VERSION } from './trainerProtocol';

/** Where the Python SDK reads the generated schema (relative to the project root). */
export const TRAINER_CONFIG_SCHEMA_FILE = 'trainers/ct_trainer/trainer_config.schema.json';

const FilePath = z.string().min(1).describe('absolute path');
const Device = z
  .enum(['auto', 'cpu', 'cuda'])
  .default('auto')
  .describe('auto uses CUDA when available; cuda without a visible GPU is a config error');
const Parquet = z.literal('parquet').default('parquet');

export const TrainConfig = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  mode: z.literal('train'),
  data: z.object({ format: Parquet, train: FilePath, validation: FilePath }),
  features: z.array(z.object({ name: z.string().min(1), type: z.enum(['numeric', 'categorical']) }).strict()).min(1),
  task: TaskKind.default('binary').describe(
    'binary: labels 0/1, predict writes P(1); multiclass: labels 0..classes-1, predict writes one probability per class; regression: numeric labels, predict writes the predicted value',
  ),
  classes: z.int().min(2).nullable().default(null).describe('number of classes (multiclass only; null otherwise)'),
  label: z.string().min(1).describe('label column (values as `task` says)'),
  hyperparameters: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('defined by each trainer, which checks them against its own schema'),
  seed: z.int().min(0).default(0),
  outputDir: FilePath,
  checkpointDir: FilePath,
  checkpoint: z
    .object({
      everySteps: z.int().min(0).nullable().default(null).describe('0 or null: off'),
      everySeconds: z.number().min(0).nullable().default(null).describe('0 or null: off'),
    })
    .strict()
    .default({ everySteps: null, everySeconds: null }),
  resumeFrom: FilePath.nullable().default(null).describe('checkpoint to continue from, or null to start afresh'),
  maxSteps: z
    .int()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'stop once this step is reached (counted across resumes) as if preempted: checkpoint, `preempted`, exit 75 (the preflight smoke run); null: train to the end',
    ),
  device: Device,
});
export type TrainConfig = z.infer<typeof TrainConfig>;

export const PredictConfig = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  mode: z.literal('predict'),
  modelPath: FilePath.describe('an artifact written by train'),
  data: z.object({ format: Parquet, input: FilePath }),
  outputPath: FilePath.describe(
    'one line per input row: P(1) (binary), `classes` comma-separated class probabilities (multiclass) or the predicted value (regression)',
  ),
  device: Device,
});
export type PredictConfig = z.infer<typeof PredictConfig>;

/** Unknown top-level fields are allowed (and dropped): the orchestrator may add fields before a trainer knows them. */
export const TrainerConfig = z.discriminatedUnion('mode', [TrainConfig, PredictConfig]);
export type TrainerConfig = z.infer<typeof TrainerConfig>;
