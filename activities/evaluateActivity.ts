// The evaluation stage: score the holdout with the candidate and with the current champion (same rows, same
// trainer code path), then compute overall and per-slice metrics.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { keys } from '../core/keys';
import { mcNemar, pairedBootstrap } from '../core/comparison';
import { classificationMetrics, sliceMetrics } from '../core/metrics';
import type { ModelConfig } from '../core/modelConfig';
import type { EvaluationReport, ModelEvaluation, PreparedData, TrainingResult } from '../core/reports';
import type { PredictConfig } from '../core/trainerConfig';
import { EXIT, PROTOCOL_VERSION } from '../core/trainerProtocol';
import { type ActivityDeps, activityLogger } from './context';
import { readParquet } from '../adapters/datasetFiles';
import { FailureType } from './failures';
import { freshDir, trainerEnv } from '../adapters/files';
import { readChampion } from '../adapters/registryStore';
import { runTrainer } from '../adapters/trainerProcess';

export interface EvaluateInput {
  modelId: string;
  runId: string;
  config: ModelConfig;
  prepared: PreparedData;
  trained: TrainingResult;
}

export function createEvaluationActivities(deps: ActivityDeps) {
  const { store } = deps;

  async function score(
    config: ModelConfig,
    dir: string,
    name: string,
    modelKey: string,
    holdoutFile: string,
  ): Promise<number[]> {
    const modelPath = path.join(dir, `${name}.pt`);
    const outputPath = path.join(dir, `${name}-scores.txt`);
    const configFile = path.join(dir, `${name}-predict.json`);
    await store.downloadFile(modelKey, modelPath);
    const predict: PredictConfig = {
      protocolVersion: PROTOCOL_VERSION,
      mode: 'predict',
      modelPath,
      data: { format: 'parquet', input: holdoutFile },
      outputPath,
      device: config.trainer.device,
    };
    await writeFile(configFile, JSON.stringify(predict));
    const run = await runTrainer({
      command: config.trainer.command,
      mode: 'predict',
      configFile,
      cwd: process.cwd(),
      env: trainerEnv(deps.pythonBinDir),
      onEvent: () => {},
    });
    if (run.exitCode !== EXIT.ok) {
      const message = `scoring the holdout with the ${name} failed (exit ${run.exitCode ?? run.signal}): ${run.lastError?.message ?? run.stderrTail}`;
      if (run.exitCode === EXIT.configError || run.exitCode === EXIT.dataError)
        throw ApplicationFailure.nonRetryable(message, FailureType.trainerData);
      throw ApplicationFailure.retryable(message, FailureType.trainerCrashed);
    }
    return (await readFile(outputPath, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  }

  async function evaluateModels(input: EvaluateInput): Promise<EvaluationReport> {
    const log = activityLogger(deps.logger);
    const { config } = input;
    const dir = await freshDir(path.join(deps.workDir, input.runId, 'evaluate'));
    const holdoutFile = path.join(dir, 'holdout.parquet');
    await store.downloadFile(input.prepared.splits.holdout.key, holdoutFile);
    const sliceBy = config.evaluation.sliceBy ?? null;
    const holdout = await readParquet(await readFile(holdoutFile), store.uri(input.prepared.splits.holdout.key), [
      config.label.name,
      ...(sliceBy ? [sliceBy] : []),
    ]);
    const labels = holdout.columns[config.label.name]!.map(Number);
    const sliceValues = sliceBy ? holdout.columns[sliceBy]!.map(String) : null;
    const { threshold, minSliceRows, maxSlices } = config.evaluation;

    const evaluate = (scores: number[], version: number | null): ModelEvaluation => {
      if (scores.length !== labels.length) {
        throw ApplicationFailure.nonRetryable(
          `trainer returned ${scores.length} scores for ${labels.length} holdout rows`,
          FailureType.trainerData,
        );
      }
      return {
        version,
        overall: classificationMetrics(scores, labels, threshold),
        slices: sliceValues ? sliceMetrics(scores, labels, sliceValues, threshold, minSliceRows, maxSlices) : [],
      };
    };

    const candidateScores = await score(config, dir, 'candidate', input.trained.modelKey, holdoutFile);
    const candidate = evaluate(candidateScores, null);
    const champion = await readChampion(store, input.modelId);
    const championScores = champion
      ? await score(config, dir, 'champion', champion.card.artifactKey, holdoutFile)
      : null;
    const championEval = champion && championScores ? evaluate(championScores, champion.version) : null;
    const { method, metric, confidence, resamples } = config.gate.comparison;
    const comparison =
      championScores === null || method === 'point'
        ? null
        : method === 'bootstrap'
          ? pairedBootstrap(metric, candidateScores, championScores, labels, {
              threshold,
              resamples,
              confidence,
              seed: config.seed,
            })
          : mcNemar(candidateScores, championScores, labels, threshold, confidence);
    const reportKey = keys.evaluationReport(input.modelId, input.runId);
    const report: EvaluationReport = {
      holdoutSha256: input.prepared.splits.holdout.sha256,
      holdoutRows: labels.length,
      threshold,
      sliceBy,
      candidate,
      champion: championEval,
      comparison,
      reportKey,
    };
    await store.putJson(reportKey, report);
    log.info(
      { candidate: candidate.overall, champion: championEval?.overall, championVersion: champion?.version },
      'evaluated',
    );
    return report;
  }

  return { evaluateModels };
}
