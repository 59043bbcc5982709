// The evaluation stage: predict the holdout with the candidate and with the current champion (same rows, same
// trainer code path), then compute the task's overall and per-slice metrics and the configured comparison.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { keys } from '../core/keys';
import { mcNemar, pairedBootstrap } from '../core/comparison';
import { type ModelConfig, comparisonMetric } from '../core/modelConfig';
import {
  type Predictions,
  correctness,
  evaluatePredictions,
  parsePredictions,
  predictionRows,
  weightedMeasure,
} from '../core/predictions';
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

  async function predict(
    config: ModelConfig,
    dir: string,
    name: string,
    modelKey: string,
    holdoutFile: string,
  ): Promise<Predictions> {
    const modelPath = path.join(dir, `${name}.pt`);
    const outputPath = path.join(dir, `${name}-predictions.txt`);
    const configFile = path.join(dir, `${name}-predict.json`);
    await store.downloadFile(modelKey, modelPath);
    const predictConfig: PredictConfig = {
      protocolVersion: PROTOCOL_VERSION,
      mode: 'predict',
      modelPath,
      data: { format: 'parquet', input: holdoutFile },
      outputPath,
      device: config.trainer.device,
    };
    await writeFile(configFile, JSON.stringify(predictConfig));
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
    try {
      return parsePredictions(config.task, await readFile(outputPath, 'utf8'), config.label.classes);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `the ${name}'s predictions (${outputPath}) do not fit task ${config.task}: ${(err as Error).message}`,
        FailureType.trainerData,
      );
    }
  }

  async function evaluateModels(input: EvaluateInput): Promise<EvaluationReport> {
    const log = activityLogger(deps.logger);
    const { config } = input;
    const dir = await freshDir(path.join(deps.workDir, input.runId, 'evaluate'));
    const holdoutFile = path.join(dir, 'holdout.parquet');
    await store.downloadFile(input.prepared.splits.holdout.key, holdoutFile);
    const sliceFeature = config.evaluation.sliceBy ?? null;
    const holdout = await readParquet(await readFile(holdoutFile), store.uri(input.prepared.splits.holdout.key), [
      config.label.name,
      ...(sliceFeature ? [sliceFeature] : []),
    ]);
    const labels = holdout.columns[config.label.name]!.map(Number);
    const options = {
      threshold: config.evaluation.threshold,
      sliceValues: sliceFeature ? holdout.columns[sliceFeature]!.map(String) : null,
      minSliceRows: config.evaluation.minSliceRows,
      maxSlices: config.evaluation.maxSlices,
    };
    const evaluate = (preds: Predictions, version: number | null): ModelEvaluation => {
      if (predictionRows(preds) !== labels.length) {
        throw ApplicationFailure.nonRetryable(
          `trainer returned ${predictionRows(preds)} predictions for ${labels.length} holdout rows`,
          FailureType.trainerData,
        );
      }
      return evaluatePredictions(preds, labels, options, version);
    };

    const candidatePreds = await predict(config, dir, 'candidate', input.trained.modelKey, holdoutFile);
    const candidate = evaluate(candidatePreds, null);
    const champion = await readChampion(store, input.modelId);
    const championPreds = champion
      ? await predict(config, dir, 'champion', champion.card.artifactKey, holdoutFile)
      : null;
    const championEval = champion && championPreds ? evaluate(championPreds, champion.version) : null;
    const { method, confidence, resamples } = config.gate.comparison;
    const metric = comparisonMetric(config);
    const { threshold } = options;
    const comparison =
      championPreds === null || method === 'point'
        ? null
        : method === 'bootstrap'
          ? pairedBootstrap(
              metric,
              weightedMeasure(candidatePreds, metric, labels, threshold),
              weightedMeasure(championPreds, metric, labels, threshold),
              labels.length,
              { resamples, confidence, seed: config.seed },
            )
          : mcNemar(
              correctness(candidatePreds, labels, threshold),
              correctness(championPreds, labels, threshold),
              confidence,
            );
    const reportKey = keys.evaluationReport(input.modelId, input.runId);
    const report: EvaluationReport = {
      task: config.task,
      holdoutSha256: input.prepared.splits.holdout.sha256,
      holdoutRows: labels.length,
      threshold,
      // A multiclass model without a slice feature is sliced by its true class.
      sliceBy: sliceFeature ?? (config.task === 'multiclass' ? config.label.name : null),
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
