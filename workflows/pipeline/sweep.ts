// The sweep stage (README "Sweeps"): trials of the model's hyperparameter space, trained on the run's validated
// splits, rung by rung. Successive halving is synchronous: every trial still in the sweep trains to the rung's step
// (the trainer checkpoints and stops there), then the best 1/eta by the sweep metric go on from their checkpoints
// and the rest stay stopped at the rung. Waiting for the whole rung (not ASHA's promotions as trials arrive) makes
// the winner depend on the metrics alone, not on which trial a busy GPU queue happened to run first.
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { TrialRung } from '../../activities/training/trialRung';
import type { ModelConfig } from '../../core/modelConfig';
import type { PreparedData, TrainingResult } from '../../core/reports';
import {
  keptAtRung,
  planTrials,
  rankTrials,
  rungStop,
  type SweepSettings,
  type Trial,
  type TrialStatus,
} from '../../core/sweep';
import type { RunBook } from './runBook';
import { training } from './proxies';

export interface SweepInput {
  modelId: string;
  runId: string;
  config: ModelConfig;
  prepared: PreparedData;
  fingerprint?: string;
}

export interface SweepWinner {
  trained: TrainingResult;
  hyperparameters: Record<string, unknown>;
}

/** The failure type of a trial that reported no sweep metric (activities/failures.ts): it fails the run. */
const METRIC_MISSING = 'SweepMetricMissing';

/** Runs `fn` over `items`, at most `limit` at a time, results in item order; a failure after every lane has ended. */
async function inPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  // Settled, not Promise.all: a cancelled rung ends only once every trainer it started has stopped.
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const failed = lanes.find((l) => l.status === 'rejected');
  if (failed) throw failed.reason;
  return results;
}

/** Trains the sweep's trials rung by rung and answers the winner: the best trial that trained to the end. */
export async function runSweep(book: RunBook, input: SweepInput, sweep: SweepSettings): Promise<SweepWinner> {
  const { config } = input;
  const trials = planTrials(sweep, config.hyperparameters, config.seed);
  const shown: TrialStatus[] = trials.map((t) => ({
    name: t.name,
    values: t.values,
    state: 'pending',
    rung: 0,
    step: 0,
    metric: null,
    error: null,
  }));
  const status = { metric: sweep.metric, halving: sweep.halving !== undefined, rungs: [] as number[], trials: shown };
  book.status.sweep = { ...status, winner: null };
  const statusOf = (t: Trial) => book.status.sweep!.trials.find((s) => s.name === t.name)!;
  const totalSteps = new Map<string, number | null>();

  // A failure no other trial can escape (no sweep metric) stops the rung's other trials and fails the stage.
  let fatal: unknown = null;
  let rungScope = new CancellationScope();
  const trainRung = async (trial: Trial, rung: number, last: boolean): Promise<TrialRung | null> => {
    const stopAtStep = last ? null : rungStop(sweep.halving, rung, totalSteps.get(trial.name) ?? null);
    const shownTrial = statusOf(trial);
    Object.assign(shownTrial, { state: 'training', rung });
    const values = Object.entries(trial.values)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    try {
      const reached = await training(config).trainTrial.executeWithOptions(
        {
          summary: `trial ${trial.name} rung ${rung + 1} (${values}) to ${stopAtStep === null ? 'the end' : `step ${stopAtStep}`}`,
        },
        [
          {
            ...input,
            config: { ...config, hyperparameters: trial.hyperparameters },
            trial: { name: trial.name, rung, stopAtStep, metric: sweep.metric.name },
          },
        ],
      );
      totalSteps.set(trial.name, reached.totalSteps);
      Object.assign(shownTrial, {
        state: reached.trained ? 'finished' : 'paused',
        step: reached.step,
        metric: reached.metric,
      });
      return reached;
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : err;
      if (isCancellation(err)) throw err;
      // One trial's failure (its hyperparameters out of memory, say) ends that trial, not the sweep.
      Object.assign(shownTrial, { state: 'failed', error: (cause as Error).message });
      if (cause instanceof ApplicationFailure && cause.type === METRIC_MISSING) {
        fatal ??= err;
        rungScope.cancel();
      }
      return null;
    }
  };

  let alive = trials;
  const done: TrialRung[] = [];
  for (let rung = 0; alive.length > 0; rung++) {
    // The last trial standing trains to the end; so does a sweep of one.
    const last = alive.length === 1 && (rung > 0 || trials.length === 1);
    rungScope = new CancellationScope();
    const rungResults = await rungScope
      .run(() => inPool(alive, sweep.concurrency, (t) => trainRung(t, rung, last)))
      .catch((err: unknown) => {
        throw fatal ?? err;
      });
    if (fatal) throw fatal;
    const reached = rungResults.filter((r): r is TrialRung => r !== null);
    const paused = reached.filter((r) => !r.trained);
    if (paused.length > 0) book.status.sweep.rungs.push(Math.max(...paused.map((r) => r.step)));
    if (!sweep.halving || paused.length === 0) {
      done.push(...reached.filter((r) => r.trained));
      break;
    }
    const kept = new Set(
      rankTrials(reached, sweep.metric.goal)
        .slice(0, keptAtRung(reached.length, sweep.halving.eta))
        .map((r) => r.name),
    );
    for (const r of reached) {
      if (r.trained && kept.has(r.name)) done.push(r);
      if (!kept.has(r.name)) statusOf(trials.find((t) => t.name === r.name)!).state = 'stopped';
    }
    alive = trials.filter((t) => paused.some((r) => r.name === t.name) && kept.has(t.name));
  }

  const winner = rankTrials(done, sweep.metric.goal)[0];
  if (!winner) {
    const why = book.status.sweep.trials.map((t) => `${t.name}: ${t.error ?? t.state}`).join('; ');
    throw ApplicationFailure.nonRetryable(`no trial of the sweep trained to the end (${why})`, 'SweepFailed');
  }
  book.status.sweep.winner = winner.name;
  const trial = trials.find((t) => t.name === winner.name)!;
  return { trained: winner.trained!, hyperparameters: trial.hyperparameters };
}
