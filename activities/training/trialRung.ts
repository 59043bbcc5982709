// One rung of a sweep trial (README "Sweeps"): what the training activity is told (the trial, the rung, the step to
// stop at) and what it answers (the step reached, the sweep metric there, the trained model once it trained to the end).
import { ApplicationFailure } from '@temporalio/common';
import type { TrainingResult } from '../../core/reports';
import { rungMetric } from '../../core/sweep';
import type { TrainInput } from '../trainActivity';
import { FailureType } from '../failures';
import type { AttemptState } from './attemptState';

export interface TrialScope {
  name: string;
  /** 0 for the first rung. */
  rung: number;
  /** The rung's step: the trainer checkpoints there and stops; null trains to the end. */
  stopAtStep: number | null;
  /** The validation metric the sweep ranks trials by. */
  metric: string;
}

export interface TrialInput extends TrainInput {
  trial: TrialScope;
}

export interface TrialRung {
  name: string;
  rung: number;
  step: number;
  totalSteps: number | null;
  /** The sweep metric at `step` (the trainer's last validation report); null when it was not a finite number. */
  metric: number | null;
  /** The model, when the trial trained to the end; null when it stopped at the rung. */
  trained: TrainingResult | null;
}

/**
 * The rung's answer. A trainer that reports no sweep metric fails the run here, at the first rung, naming what it
 * did report: no retry can make it appear, and a sweep that cannot rank its trials must not guess.
 */
export function trialRung(trial: TrialScope, s: AttemptState, trained: TrainingResult | null): TrialRung {
  const { progress } = s;
  // At the end the trainer's final `metrics` event has the last word; at a rung, its last progress report.
  const final = trained && trial.metric in s.validation ? s.validation : null;
  const where = `trial ${trial.name} at step ${progress.step}${trial.stopAtStep === null ? ' (the end)' : ` (rung ${trial.rung + 1})`}`;
  const found = rungMetric(final ?? s.lastValidation, trial.metric, where);
  if ('missing' in found) throw ApplicationFailure.nonRetryable(found.missing, FailureType.sweepMetricMissing);
  return {
    name: trial.name,
    rung: trial.rung,
    step: progress.step,
    totalSteps: progress.totalSteps,
    metric: found.value,
    trained,
  };
}
