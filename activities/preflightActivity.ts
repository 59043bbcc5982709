// Preflight (README "Preflight"): before a training is queued for a GPU, the trainer runs on the control worker, on
// CPU, on a slice of each split: a few steps from scratch ending in a checkpoint, then a resume from it. A config or
// data error, a crash or a checkpoint that cannot be loaded ends the run here, with no GPU time spent.
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ModelConfig } from '../core/modelConfig';
import {
  firstRunProblem,
  type PreflightProblem,
  type PreflightReport,
  resumeRunProblem,
  type SmokeRun,
  spreadRows,
} from '../core/preflight';
import type { PreparedData } from '../core/reports';
import { readParquet } from '../adapters/datasetFiles';
import { trainerEnv } from '../adapters/files';
import type { ObjectStore } from '../adapters/objectStore';
import { writeSplitFile, type SplitValue } from '../adapters/splitFiles';
import { runTrainer } from '../adapters/trainerProcess';
import { type ActivityDeps, activityLogger } from './context';
import { attemptFolders, trainConfigOf } from './training/stageData';
import { FailureType } from './failures';

export interface PreflightInput {
  modelId: string;
  runId: string;
  config: ModelConfig;
  prepared: PreparedData;
}

const FAILURE_TYPE: Record<PreflightProblem['kind'], string> = {
  config: FailureType.trainerConfig,
  data: FailureType.trainerData,
  checkpoint: FailureType.trainerConfig,
  crash: FailureType.trainerCrashed,
  killed: FailureType.trainerCrashed,
  timeout: FailureType.trainerStalled,
};

/** Rows spread over the split `key`, written as a split file of their own. */
async function sliceSplit(store: ObjectStore, config: ModelConfig, key: string, rows: number, file: string) {
  const split = await readParquet(await store.getBytes(key), store.uri(key));
  const picked = spreadRows(split.rows, rows);
  const bytes = writeSplitFile(config, (column) => picked.map((r) => split.columns[column]![r] as SplitValue));
  await writeFile(file, bytes);
  return picked.length;
}

export function createPreflightActivities(deps: ActivityDeps) {
  const { store } = deps;

  async function preflightTraining(input: PreflightInput): Promise<PreflightReport> {
    const { config } = input;
    const { steps, timeoutSeconds } = config.preflight;
    const log = activityLogger(deps.logger);
    const ctx = Context.current();
    const files = await attemptFolders(path.join(deps.workDir, input.runId, 'preflight'));
    const { splits } = input.prepared;
    const rows = {
      train: await sliceSplit(store, config, splits.train.key, config.preflight.rows, files.trainFile),
      validation: await sliceSplit(store, config, splits.validation.key, config.preflight.rows, files.validationFile),
    };
    const deadline = AbortSignal.timeout(timeoutSeconds * 1000);
    const started = Date.now();
    let cpuSeconds = 0;

    const smokeRun = async (name: string, resumeFrom: string | null, maxSteps: number): Promise<SmokeRun> => {
      const smoke = { checkpoint: { everySteps: steps, everySeconds: null }, maxSteps, device: 'cpu' as const };
      const trainerConfig = trainConfigOf(config, files, resumeFrom, smoke);
      const configFile = path.join(files.dir, `${name}-config.json`);
      await writeFile(configFile, JSON.stringify(trainerConfig, null, 2));
      const seen: Pick<SmokeRun, 'startedStep' | 'checkpoints'> = { startedStep: null, checkpoints: [] };
      const run = await runTrainer({
        command: config.trainer.command,
        mode: 'train',
        configFile,
        cwd: process.cwd(),
        // No GPU for the smoke run, whatever the control machine has.
        env: trainerEnv(deps.pythonBinDir, { CUDA_VISIBLE_DEVICES: '' }),
        onEvent: (event) => {
          if (event.event === 'started') seen.startedStep = event.step;
          if (event.event === 'checkpoint') seen.checkpoints.push({ step: event.step, path: event.path });
        },
        onStderr: (line) => log.debug({ trainer: line }),
        signal: ctx.cancellationSignal,
        graceMs: 5_000,
        killSignal: deadline,
      });
      cpuSeconds += run.cpuSeconds;
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      const { exitCode, signal, lastError, stderrTail } = run;
      return { exitCode, signal, error: lastError, stderrTail, ...seen, timedOut: deadline.aborted };
    };
    const fail = (problem: PreflightProblem): never => {
      const { kind, message } = problem;
      log.warn({ kind, message }, 'preflight failed');
      // A process killed from outside (the OOM killer, a restart) may pass on another try; the rest will not.
      if (kind === 'killed') throw ApplicationFailure.retryable(message, FAILURE_TYPE[kind]);
      throw ApplicationFailure.nonRetryable(message, FAILURE_TYPE[kind]);
    };

    const first = await smokeRun('first', null, steps);
    const firstProblem = firstRunProblem(first, steps, timeoutSeconds);
    if (firstProblem) return fail(firstProblem);
    const checkpoint = first.checkpoints[first.checkpoints.length - 1]!;
    await stat(checkpoint.path).catch(() =>
      fail({ kind: 'checkpoint', message: `the checkpoint the trainer named (${checkpoint.path}) is not there` }),
    );
    const resumed = await smokeRun('resume', checkpoint.path, checkpoint.step + 1);
    const resumeProblem = resumeRunProblem(resumed, checkpoint, timeoutSeconds);
    if (resumeProblem) return fail(resumeProblem);
    const report: PreflightReport = {
      steps,
      rows,
      checkpointStep: checkpoint.step,
      resumedAtStep: resumed.startedStep!,
      seconds: (Date.now() - started) / 1000,
      cpuSeconds,
    };
    log.info(report, 'preflight passed');
    return report;
  }

  return { preflightTraining };
}
