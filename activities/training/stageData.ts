// The attempt's local folder: the prepared splits downloaded for the trainer, its checkpoint and output folders,
// and the config file (trainers/PROTOCOL.md) that tells it where they are and where to resume from.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelConfig } from '../../core/modelConfig';
import type { PreparedData } from '../../core/reports';
import type { TrainConfig } from '../../core/trainerConfig';
import { PROTOCOL_VERSION } from '../../core/trainerProtocol';
import { freshDir } from '../../adapters/files';
import type { ObjectStore } from '../../adapters/objectStore';

export interface StagedAttempt {
  dir: string;
  trainFile: string;
  validationFile: string;
  checkpointDir: string;
  outDir: string;
}

/** Empties `attemptDir` and lays out its data, checkpoint and output folders (the data files are not there yet). */
export async function attemptFolders(attemptDir: string): Promise<StagedAttempt> {
  const dir = await freshDir(attemptDir);
  const [dataDir, checkpointDir, outDir] = await Promise.all(
    ['data', 'checkpoints', 'out'].map((d) => freshDir(path.join(dir, d))),
  );
  const trainFile = path.join(dataDir!, 'train.parquet');
  const validationFile = path.join(dataDir!, 'validation.parquet');
  return { dir, trainFile, validationFile, checkpointDir: checkpointDir!, outDir: outDir! };
}

/** Empties `attemptDir` and downloads the train and validation splits into it. */
export async function stageData(
  store: ObjectStore,
  attemptDir: string,
  prepared: PreparedData,
): Promise<StagedAttempt> {
  const staged = await attemptFolders(attemptDir);
  await store.downloadFile(prepared.splits.train.key, staged.trainFile);
  await store.downloadFile(prepared.splits.validation.key, staged.validationFile);
  return staged;
}

/** The trainer config (trainers/PROTOCOL.md) of a training of `config` on these files; `run` overrides how it runs. */
export function trainConfigOf(
  config: ModelConfig,
  files: StagedAttempt,
  resumeFrom: string | null,
  run: Partial<Pick<TrainConfig, 'checkpoint' | 'maxSteps' | 'device'>> = {},
): TrainConfig {
  return {
    protocolVersion: PROTOCOL_VERSION,
    mode: 'train',
    data: { format: 'parquet', train: files.trainFile, validation: files.validationFile },
    features: config.features.map((f) => ({ name: f.name, type: f.type })),
    task: config.task,
    classes: config.label.classes ?? null,
    label: config.label.name,
    hyperparameters: config.hyperparameters,
    seed: config.seed,
    outputDir: files.outDir,
    checkpointDir: files.checkpointDir,
    checkpoint: run.checkpoint ?? config.trainer.checkpoint,
    resumeFrom,
    maxSteps: run.maxSteps ?? null,
    device: run.device ?? config.trainer.device,
  };
}

/**
 * Writes the trainer's config file for a run resuming from the local file `resumeFrom` (or from scratch), stopping
 * at step `maxSteps` (a sweep rung) or training to the end (null).
 */
export async function writeTrainerConfig(
  staged: StagedAttempt,
  config: ModelConfig,
  resumeFrom: string | null,
  maxSteps: number | null,
): Promise<string> {
  const configFile = path.join(staged.dir, 'trainer-config.json');
  const run = maxSteps === null ? {} : { maxSteps };
  await writeFile(configFile, JSON.stringify(trainConfigOf(config, staged, resumeFrom, run), null, 2));
  return configFile;
}
