// Experiment tracking (README "Experiment tracking (MLflow)"): when the model config has `tracking`, the finished
// run is logged to MLflow by one control activity. Tracking never fails the run: after a few retries (about a
// minute) the run records why it was skipped, on its status and in the audit chain, and ends as it would have.
import { isCancellation, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../../activities';
import type { ModelConfig } from '../../core/modelConfig';
import { webUiRunLink } from '../../core/notifications';
import { reasonOf } from '../../core/parse';
import type { TrainingResult } from '../../core/reports';
import type { Outcome } from '../../core/runStatus';
import type { RunBook } from './runBook';

/** Since this patch a run whose config has `tracking` is logged to MLflow as it ends. */
export const MLFLOW_TRACKING = 'mlflow-tracking';

/** Five attempts over about 45 s; a refusal (4xx) is not retried (activities/trackingActivities.ts). */
const tracking = proxyActivities<ControlActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '3s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/**
 * After a rollback moved our champion: MLflow's `champion` follows it (when the model tracks to MLflow and that
 * version was registered there). Never fails the rollback: says what happened, or why it was skipped; null when the
 * model does not track to MLflow.
 */
export async function followChampionInMlflow(modelId: string, version: number): Promise<string | null> {
  try {
    const moved = await tracking.moveChampionAlias.executeWithOptions(
      { summary: `MLflow alias champion to the version of v${version}` },
      [{ modelId, version }],
    );
    if (!moved.tracked) return null;
    return moved.moved
      ? `MLflow champion: model version ${moved.mlflowVersion}`
      : `MLflow champion not moved: v${version} was never registered in MLflow`;
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('MLflow champion not moved: tracking skipped', { reason: reasonOf(err) });
    return `tracking skipped: ${reasonOf(err)}`;
  }
}

export interface Tracker {
  /** The run's resolved configuration: tracking is on when it has `tracking`. */
  configure(config: ModelConfig): void;
  /** What training produced (or the reused training's result), and the config it trained with (a sweep's winner's). */
  trained(result: TrainingResult, config: ModelConfig): void;
  /** Logs the run as it ends with `outcome`; records a skip instead of failing. */
  finish(book: RunBook, outcome: Outcome): Promise<void>;
}

export function openTracker(): Tracker {
  let config: ModelConfig | null = null;
  let trained: TrainingResult | null = null;
  async function finish(book: RunBook, outcome: Outcome): Promise<void> {
    const settings = config?.tracking?.mlflow;
    if (!config || !settings || !patched(MLFLOW_TRACKING)) return;
    const { status } = book;
    const { namespace } = workflowInfo();
    const ui = config.notifications?.webUiUrl;
    try {
      status.tracking = await tracking.trackRun.executeWithOptions(
        { summary: `log the run to MLflow experiment ${settings.experiment}` },
        [
          {
            tracking: settings,
            config,
            status: { ...status, outcome },
            trained,
            webUiLink: ui ? webUiRunLink(ui, namespace, status.workflowId, status.runId) : null,
            endedAtMs: Date.now(),
          },
        ],
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      const reason = reasonOf(err);
      status.tracking = { skipped: reason };
      log.warn('tracking skipped: the run goes on without MLflow', { reason });
      await book.audit('tracking-skipped', 'system', { reason, experiment: settings.experiment });
    }
  }
  return {
    configure: (c) => (config = c),
    trained: (t, c) => {
      trained = t;
      config = c;
    },
    finish,
  };
}
