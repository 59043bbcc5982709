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
  type SweepStatus,
  type Trial,
  trialValuesText,
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

/** The sweep's status (on the run's status, the query and the Web UI), every trial pending. */
function openSweepStatus(book: RunBook, sweep: SweepSettings, trials: Trial[]): SweepStatus {
  const status: SweepStatus = {
    metric: sweep.metric,
    halving: sweep.halving !== undefined,
    rungs: [],
    trials: trials.map(({ name, values }) => ({
      name,
      values,
      state: 'pending',
      rung: 0,
      step: 0,
      metric: null,
      error: null,
    })),
    winner: null,
  };
  book.status.sweep = status;
  return status;
}

/**
 * Trains one trial's rung on the GPU queue, keeping its status current. A trial's own failure ends that trial
 * (null); one no trial can escape (no sweep metric) is kept in `fatal` and cancels the rung's other trials.
 */
class RungTrainer {
  fatal: ApplicationFailure | null = null;
  private scope = new CancellationScope();
  private readonly totalSteps = new Map<string, number | null>();

  constructor(
    private readonly input: SweepInput,
    private readonly sweep: SweepSettings,
    private readonly status: SweepStatus,
  ) {}

  /** Every trial of `alive` to `rung` (at most `concurrency` at once): the ones that reached it. */
  async rung(alive: Trial[], rung: number, last: boolean): Promise<TrialRung[]> {
    this.scope = new CancellationScope();
    const results = await this.scope
      .run(() => inPool(alive, this.sweep.concurrency, (t) => this.train(t, rung, last)))
      .catch((err: unknown) => {
        throw this.fatal ?? err;
      });
    if (this.fatal) throw this.fatal;
    return results.filter((r): r is TrialRung => r !== null);
  }

  private async train(trial: Trial, rung: number, last: boolean): Promise<TrialRung | null> {
    const { config } = this.input;
    const stopAtStep = last ? null : rungStop(this.sweep.halving, rung, this.totalSteps.get(trial.name) ?? null);
    const shown = this.status.trials.find((t) => t.name === trial.name)!;
    Object.assign(shown, { state: 'training', rung });
    const values = trialValuesText(trial.values);
    const to = stopAtStep === null ? 'the end' : `step ${stopAtStep}`;
    try {
      const reached = await training(config).trainTrial.executeWithOptions(
        { summary: `trial ${trial.name} rung ${rung + 1} (${values}) to ${to}` },
        [
          {
            ...this.input,
            config: { ...config, hyperparameters: trial.hyperparameters },
            trial: { name: trial.name, rung, stopAtStep, metric: this.sweep.metric.name },
          },
        ],
      );
      this.totalSteps.set(trial.name, reached.totalSteps);
      const state = reached.trained ? 'finished' : 'paused';
      Object.assign(shown, { state, step: reached.step, metric: reached.metric });
      return reached;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      Object.assign(shown, { state: 'failed', error: (cause as Error).message });
      if (cause instanceof ApplicationFailure && cause.type === METRIC_MISSING) {
        this.fatal ??= cause;
        this.scope.cancel();
      }
      return null;
    }
  }
}

/** Trains the sweep's trials rung by rung and answers the winner: the best trial that trained to the end. */
export async function runSweep(book: RunBook, input: SweepInput, sweep: SweepSettings): Promise<SweepWinner> {
  const trials = planTrials(sweep, input.config.hyperparameters, input.config.seed);
  const status = openSweepStatus(book, sweep, trials);
  const trainer = new RungTrainer(input, sweep, status);
  let alive = trials;
  const done: TrialRung[] = [];
  for (let rung = 0; alive.length > 0; rung++) {
    // The last trial standing trains to the end; so does a sweep of one.
    const last = alive.length === 1 && (rung > 0 || trials.length === 1);
    const reached = await trainer.rung(alive, rung, last);
    const paused = reached.filter((r) => !r.trained);
    if (paused.length > 0) status.rungs.push(Math.max(...paused.map((r) => r.step)));
    if (!sweep.halving || paused.length === 0) {
      done.push(...reached.filter((r) => r.trained));
      break;
    }
    const ranked = rankTrials(reached, sweep.metric.goal);
    const kept = new Set(ranked.slice(0, keptAtRung(reached.length, sweep.halving.eta)).map((r) => r.name));
    for (const r of reached) {
      if (r.trained && kept.has(r.name)) done.push(r);
      if (!kept.has(r.name)) status.trials.find((t) => t.name === r.name)!.state = 'stopped';
    }
    alive = trials.filter((t) => kept.has(t.name) && paused.some((r) => r.name === t.name));
  }

  const winner = rankTrials(done, sweep.metric.goal)[0];
  if (!winner) {
    const why = status.trials.map((t) => `${t.name}: ${t.error ?? t.state}`).join('; ');
    throw ApplicationFailure.nonRetryable(`no trial of the sweep trained to the end (${why})`, 'SweepFailed');
  }
  status.winner = winner.name;
  const { hyperparameters } = trials.find((t) => t.name === winner.name)!;
  return { trained: winner.trained!, hyperparameters };
}
