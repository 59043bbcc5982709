// Experiment tracking (README "Experiment tracking (MLflow)"), on the control worker: a finished run logged to the
// model's MLflow server (params, tags, the training's step series, the evaluation and gate, the model file), and a
// promoted version registered there with the alias `champion`. Idempotent: a retry finds the MLflow run it created
// (tag ct.run_id) and the model version it registered (tag ct.version). The registry in S3 stays the source of truth.
import { ApplicationFailure } from '@temporalio/common';
import { MlflowError, MlflowTracking, type MlflowRunInfo } from '../adapters/mlflowTracking';
import { readRegisteredConfig } from '../adapters/registryStore';
import { keys } from '../core/keys';
import type { ModelConfig, Tracking } from '../core/modelConfig';
import type { TrainingResult } from '../core/reports';
import type { RunStatus } from '../core/runStatus';
import {
  logBatches,
  mlflowRunUrl,
  runParams,
  stepMetrics,
  summaryMetrics,
  tagList,
  TrainingSteps,
  trialLogs,
  type TrackingStatus,
} from '../core/tracking';
import { type ActivityDeps, activityLogger } from './context';

export const CHAMPION_ALIAS = 'champion';
/** How an ended run shows in MLflow: a rejection is a finished run (its gate tag says why), a cancellation KILLED. */
const MLFLOW_RUN_STATUS = {
  promoted: 'FINISHED',
  'rejected-by-gate': 'FINISHED',
  rejected: 'FINISHED',
  failed: 'FAILED',
  cancelled: 'KILLED',
} as const satisfies Record<Exclude<RunStatus['outcome'], 'running'>, string>;
const RUN_TAG = 'ct.run_id';
const VERSION_TAG = 'ct.version';

export interface TrackRunInput {
  tracking: Tracking['mlflow'];
  config: ModelConfig;
  /** The run's status as it ends (outcome set). */
  status: RunStatus;
  /** What training produced (or the reused training's result); null when the run ended before. */
  trained: TrainingResult | null;
  /** The run's page in the Temporal Web UI, when notifications.webUiUrl is set. */
  webUiLink: string | null;
  /** Workflow time of the run's end (epoch ms): the MLflow run's end time, the same on every retry. */
  endedAtMs: number;
}

export interface MoveChampionInput {
  modelId: string;
  /** Our champion now. */
  version: number;
}

/** MLflow's own clients read these; so does the control worker. Never logged. */
function authFromEnv(env: NodeJS.ProcessEnv) {
  return {
    token: env['MLFLOW_TRACKING_TOKEN'],
    username: env['MLFLOW_TRACKING_USERNAME'],
    password: env['MLFLOW_TRACKING_PASSWORD'],
  };
}

export function createTrackingActivities(deps: ActivityDeps, env: NodeJS.ProcessEnv = process.env) {
  const clientOf = (uri: string) => new MlflowTracking(uri, authFromEnv(env));

  /** Logs the finished run to MLflow; registers a promoted version there and moves `champion` to it. */
  async function trackRun(input: TrackRunInput): Promise<TrackingStatus> {
    const { tracking, status } = input;
    const mlflow = clientOf(tracking.uri);
    const log = activityLogger(deps.logger).child({ mlflow: mlflow.address, experiment: tracking.experiment });
    return refusalsFinal(async () => {
      const experimentId = await mlflow.experimentId(tracking.experiment);
      const run =
        (await mlflow.findRunByTag(experimentId, RUN_TAG, status.runId)) ??
        (await mlflow.createRun(experimentId, status.workflowId, startOf(status, input.endedAtMs), [
          { key: RUN_TAG, value: status.runId },
        ]));
      const steps = input.trained ? await stepSeriesOf(input.trained.modelKey) : [];
      const metrics = [
        ...stepMetrics(steps),
        ...summaryMetrics(
          { evaluation: status.evaluation, verdict: status.verdict, validation: input.trained?.validation ?? {} },
          input.endedAtMs,
          input.trained?.steps ?? 0,
        ),
      ];
      const batches = logBatches({
        params: runParams(input.config, status.fingerprint),
        tags: tagList(runTags(input)),
        metrics,
      });
      for (const batch of batches) await mlflow.logBatch(run.run_id, batch);
      if (input.trained) await uploadModel(mlflow, run, input.trained.modelKey);
      if (status.sweep) await logTrials(mlflow, experimentId, input, run.run_id);
      const registeredVersion = await registerChampion(mlflow, input, run);
      // The workflow sends the outcome it ends with: never 'running'.
      const ended = status.outcome === 'running' ? 'FINISHED' : MLFLOW_RUN_STATUS[status.outcome];
      await mlflow.endRun(run.run_id, ended, input.endedAtMs);
      log.info(
        { mlflowRunId: run.run_id, batches: batches.length, points: steps.length, registeredVersion },
        'run logged to MLflow',
      );
      const url = mlflowRunUrl(tracking.uri, experimentId, run.run_id);
      return { mlflowRunId: run.run_id, experimentId, url, registeredVersion };
    });
  }

  /** The step series stored beside the model by the training that made it (this run's, a reused run's, a trial's). */
  async function stepSeriesOf(modelKey: string) {
    const raw = await deps.store.getJsonIfExists(keys.trainingMetricsOfModel(modelKey));
    const parsed = raw === null ? null : TrainingSteps.safeParse(raw);
    return parsed?.success ? parsed.data.points : [];
  }

  async function uploadModel(mlflow: MlflowTracking, run: MlflowRunInfo, modelKey: string): Promise<void> {
    const { size, etag } = await deps.store.head(modelKey);
    await mlflow.uploadArtifact(run.artifact_uri, 'model/model.pt', await deps.store.getStream(modelKey, etag), size);
  }

  /** A sweep's trials as nested runs (found again on a retry by their own `ct.run_id`). */
  async function logTrials(mlflow: MlflowTracking, experimentId: string, input: TrackRunInput, parentRunId: string) {
    const { status, endedAtMs } = input;
    for (const trial of trialLogs(status.sweep!, status.runId, parentRunId, endedAtMs)) {
      const child =
        (await mlflow.findRunByTag(experimentId, RUN_TAG, trial.key)) ??
        (await mlflow.createRun(experimentId, `${status.workflowId} ${trial.name}`, startOf(status, endedAtMs), [
          { key: RUN_TAG, value: trial.key },
        ]));
      for (const batch of logBatches(trial.batch)) await mlflow.logBatch(child.run_id, batch);
      await mlflow.endRun(child.run_id, trial.status, endedAtMs);
    }
  }

  /** A promoted run's version in MLflow's registry (found again on a retry), with `champion` on it. */
  async function registerChampion(mlflow: MlflowTracking, input: TrackRunInput, run: MlflowRunInfo) {
    const { status, tracking } = input;
    const ours = status.registered;
    if (status.outcome !== 'promoted' || !ours?.promoted) return null;
    const name = tracking.registeredModel ?? status.modelId;
    await mlflow.ensureRegisteredModel(name);
    const version =
      (await mlflow.findModelVersion(name, VERSION_TAG, String(ours.version))) ??
      (await mlflow.createModelVersion(name, `${run.artifact_uri}/model`, run.run_id, [
        { key: VERSION_TAG, value: String(ours.version) },
        { key: 'ct.model_id', value: status.modelId },
        { key: RUN_TAG, value: status.runId },
      ]));
    await mlflow.setAlias(name, CHAMPION_ALIAS, version);
    return version;
  }

  /**
   * Moves MLflow's `champion` to the model version registered for our `version` (a rollback changed our champion),
   * when the model's registered config has `tracking`. A version never registered in MLflow (promoted before
   * tracking was configured, or while it was skipped) moves nothing.
   */
  async function moveChampionAlias(
    input: MoveChampionInput,
  ): Promise<{ tracked: boolean; moved: boolean; mlflowVersion: string | null }> {
    const settings = (await readRegisteredConfig(deps.store, input.modelId))?.tracking?.mlflow;
    if (!settings) return { tracked: false, moved: false, mlflowVersion: null };
    const mlflow = clientOf(settings.uri);
    const name = settings.registeredModel ?? input.modelId;
    return refusalsFinal(async () => {
      const version = await mlflow.findModelVersion(name, VERSION_TAG, String(input.version)).catch((err: unknown) => {
        if (err instanceof MlflowError && err.code === 'RESOURCE_DOES_NOT_EXIST') return null;
        throw err;
      });
      if (version === null) return { tracked: true, moved: false, mlflowVersion: null };
      await mlflow.setAlias(name, CHAMPION_ALIAS, version);
      return { tracked: true, moved: true, mlflowVersion: version };
    });
  }

  return { trackRun, moveChampionAlias };
}

/** The MLflow run's start: the run's first stage, else its end. */
function startOf(status: RunStatus, endedAtMs: number): number {
  const first = status.timings[0]?.startedAt;
  return first ? Date.parse(first) : endedAtMs;
}

/** Tags of the MLflow run: who we are, where the run is in Temporal, how it ended. */
function runTags(input: TrackRunInput): Record<string, string> {
  const { status, webUiLink } = input;
  const verdict = status.verdict;
  const note = [
    `continuous-training run of **${status.modelId}**: ${status.outcome}`,
    `Temporal workflow \`${status.workflowId}\`, run \`${status.runId}\``,
    ...(webUiLink ? [`[the run in the Temporal Web UI](${webUiLink})`] : []),
  ].join('\n\n');
  return {
    'ct.model_id': status.modelId,
    'ct.workflow_id': status.workflowId,
    [RUN_TAG]: status.runId,
    'ct.trigger': status.trigger.kind,
    'ct.requested_by': status.trigger.requestedBy,
    'ct.outcome': status.outcome,
    'ct.temporal_ui': webUiLink ?? '',
    'ct.gate.passed': verdict ? String(verdict.passed) : '',
    'ct.gate.reasons': verdict ? verdict.reasons.join('; ') : '',
    'ct.registry_version': status.registered ? String(status.registered.version) : '',
    'ct.reused_from': status.reused?.workflowId ?? '',
    'ct.error': status.error ?? '',
    'mlflow.note.content': note,
  };
}

/** A refusal (4xx but 408 and 429) will not change on a retry: it fails the activity for good. */
async function refusalsFinal<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MlflowError && err.status >= 400 && err.status < 500 && ![408, 429].includes(err.status))
      throw ApplicationFailure.nonRetryable(err.message, 'TrackingRefused');
    throw err;
  }
}
